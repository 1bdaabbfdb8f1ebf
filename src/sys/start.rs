//! The escapes binary's ELF entry point, `escapes_start` (x86_64 Linux). build.rs makes it the
//! entry of the escapes binary only, so it runs in the root process before anything else, even
//! before glibc's own start-up. No Rust code calls it; `make tcb` counts this file as an entry.

// escapes_start runs first, before glibc's _start: it walks the initial stack's envp and renames
// in place (first byte to '_') every entry named GLIBC_TUNABLES or starting with LD_ or MALLOC_,
// then jumps to _start with the registers the kernel (or, dynamically linked, ld.so) set up.
// In the static binary glibc's start-up parses GLIBC_TUNABLES and the MALLOC_ aliases of its
// tunables (filtered for AT_SECURE, but parsed) and reads LD_LIBRARY_PATH, LD_BIND_NOW and
// others before main; renamed, none of them is read. Dynamically linked, ld.so has read them
// before this runs; what is left is renamed before libc's start-up and escapes' code.
//
// It touches no global data and calls nothing: static-pie relocations have not run yet. It
// reads only the stack ([rsp] = argc, then argv, NULL, envp, NULL) and the strings it points
// to, compares byte by byte (a NUL mismatches every letter, so no read goes past a string's
// end), writes one byte into a matching string, and keeps rsp and rdx (the atexit function
// _start passes on) as they were; rax, rcx, rsi and rdi are free at process entry.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
core::arch::global_asm!(
    ".pushsection .text.escapes_start,\"ax\",@progbits",
    ".globl escapes_start",
    ".type escapes_start,@function",
    "escapes_start:",
    "    mov rcx, qword ptr [rsp]",
    "    lea rsi, [rsp + 8*rcx + 16]",
    "2:",
    "    mov rdi, qword ptr [rsi]",
    "    test rdi, rdi",
    "    jz 9f",
    "    add rsi, 8",
    "    movzx eax, byte ptr [rdi]",
    "    cmp al, 0x4c", // L: LD_
    "    je 3f",
    "    cmp al, 0x4d", // M: MALLOC_
    "    je 4f",
    "    cmp al, 0x47", // G: GLIBC_TUNABLES=
    "    je 5f",
    "    jmp 2b",
    "3:",
    "    cmp byte ptr [rdi + 1], 0x44", // D
    "    jne 2b",
    "    cmp byte ptr [rdi + 2], 0x5f", // _
    "    jne 2b",
    "    jmp 8f",
    "4:",
    "    cmp byte ptr [rdi + 1], 0x41", // A
    "    jne 2b",
    "    cmp byte ptr [rdi + 2], 0x4c", // L
    "    jne 2b",
    "    cmp byte ptr [rdi + 3], 0x4c", // L
    "    jne 2b",
    "    cmp byte ptr [rdi + 4], 0x4f", // O
    "    jne 2b",
    "    cmp byte ptr [rdi + 5], 0x43", // C
    "    jne 2b",
    "    cmp byte ptr [rdi + 6], 0x5f", // _
    "    jne 2b",
    "    jmp 8f",
    "5:",
    "    cmp byte ptr [rdi + 1], 0x4c", // L
    "    jne 2b",
    "    cmp byte ptr [rdi + 2], 0x49", // I
    "    jne 2b",
    "    cmp byte ptr [rdi + 3], 0x42", // B
    "    jne 2b",
    "    cmp byte ptr [rdi + 4], 0x43", // C
    "    jne 2b",
    "    cmp byte ptr [rdi + 5], 0x5f", // _
    "    jne 2b",
    "    cmp byte ptr [rdi + 6], 0x54", // T
    "    jne 2b",
    "    cmp byte ptr [rdi + 7], 0x55", // U
    "    jne 2b",
    "    cmp byte ptr [rdi + 8], 0x4e", // N
    "    jne 2b",
    "    cmp byte ptr [rdi + 9], 0x41", // A
    "    jne 2b",
    "    cmp byte ptr [rdi + 10], 0x42", // B
    "    jne 2b",
    "    cmp byte ptr [rdi + 11], 0x4c", // L
    "    jne 2b",
    "    cmp byte ptr [rdi + 12], 0x45", // E
    "    jne 2b",
    "    cmp byte ptr [rdi + 13], 0x53", // S
    "    jne 2b",
    "    cmp byte ptr [rdi + 14], 0x3d", // =
    "    jne 2b",
    "8:",
    "    mov byte ptr [rdi], 0x5f", // the first byte becomes _
    "    jmp 2b",
    "9:",
    "    jmp _start",
    ".size escapes_start, . - escapes_start",
    ".popsection",
);
