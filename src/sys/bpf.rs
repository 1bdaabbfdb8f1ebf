//! The seccomp filter: a classic-BPF allow-list of syscall numbers, built and installed by
//! [`seccomp_allow_only`]. Called only in a confined child (rule 4 of confined/mod.rs, with the
//! lists build.rs makes from audit/syscalls), so mod.rs does not re-export it: callers write
//! `sys::bpf::seccomp_allow_only`, and `make tcb` counts this file as child code.

use opwire::sys::{check, Errno};

/// AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE); not exported by libc.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH_NATIVE: u32 = 0xC000_003E;
/// Offsets in `struct seccomp_data { int nr; __u32 arch; __u64 ip; __u64 args[6]; }`.
const SECCOMP_DATA_NR: u32 = 0;
const SECCOMP_DATA_ARCH: u32 = 4;

fn bpf_stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

fn bpf_jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16, jt, jf, k }
}

/// For the rest of this process's life (and of anything it could fork or exec), only the
/// syscalls numbered in `nrs` are allowed; any other call, or any call made through another
/// architecture's entry point (i386 `int 0x80`), kills the whole process with SIGSYS
/// (SECCOMP_RET_KILL_PROCESS). Sets PR_SET_NO_NEW_PRIVS first, as the kernel requires of an
/// unprivileged caller (and as we want: no setuid gain after this). x86_64 only: elsewhere it
/// fails with ENOSYS, and callers must then fail closed. At most 250 numbers (8-bit BPF jumps).
pub fn seccomp_allow_only(nrs: &[i64]) -> Result<(), Errno> {
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = nrs;
        return Err(Errno(libc::ENOSYS));
    }
    #[cfg(target_arch = "x86_64")]
    {
        if nrs.len() > 250 || nrs.iter().any(|&n| !(0..=i64::from(u32::MAX)).contains(&n)) {
            return Err(Errno(libc::EINVAL));
        }
        let n = nrs.len();
        let mut prog: Vec<libc::sock_filter> = Vec::with_capacity(n + 5);
        prog.push(bpf_stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, SECCOMP_DATA_ARCH));
        prog.push(bpf_jeq(AUDIT_ARCH_NATIVE, 1, 0));
        prog.push(bpf_stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_KILL_PROCESS));
        prog.push(bpf_stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, SECCOMP_DATA_NR));
        // x32 calls (nr | 0x40000000) share the arch value and match no listed number.
        for (i, &nr) in nrs.iter().enumerate() {
            // From instruction i (0-based among the comparisons) to the ALLOW after the KILL.
            prog.push(bpf_jeq(nr as u32, (n - i) as u8, 0));
        }
        prog.push(bpf_stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_KILL_PROCESS));
        prog.push(bpf_stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW));
        let fprog = libc::sock_fprog { len: prog.len() as libc::c_ushort, filter: prog.as_mut_ptr() };
        // SAFETY: prctl with integer arguments.
        check(unsafe {
            libc::prctl(
                libc::PR_SET_NO_NEW_PRIVS,
                1 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        })?;
        // SAFETY: fprog points at `prog`, which is alive and holds fprog.len valid instructions
        // for the duration of the call; the kernel copies the program before returning.
        check(unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                &fprog as *const libc::sock_fprog as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        })?;
        Ok(())
    }
}
