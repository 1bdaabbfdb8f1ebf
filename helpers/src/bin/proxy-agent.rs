//! proxy-agent: the caller's ssh-agent for the command (see escapes_helpers::proxy_agent).

fn main() {
    escapes_helpers::proxy_agent::main()
}
