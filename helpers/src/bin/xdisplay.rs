//! xdisplay: the caller's X display for the command (see escapes_helpers::xdisplay).

fn main() {
    escapes_helpers::xdisplay::main()
}
