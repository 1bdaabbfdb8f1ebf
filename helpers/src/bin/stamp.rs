//! stamp: allow only while the named stamps live and their tableaux pass (see
//! escapes_helpers::stamp).

fn main() {
    escapes_helpers::stamp::main()
}
