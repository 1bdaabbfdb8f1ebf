//! Relative relocations packed as RELR for the helper program, as for escapes (see the top-level
//! build.rs): a smaller static-pie (glibc >= 2.36 reads them; GNU ld >= 2.38 or lld >= 15 writes
//! them).

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    println!("cargo:rerun-if-changed=build.rs");
}
