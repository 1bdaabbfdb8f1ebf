//! stampctl: build and manage stamps (see escapes_helpers::stamp::ctl).

fn main() {
    escapes_helpers::stamp::ctl::main()
}
