//! sheval: variables from the output of commands the rule names (see escapes_helpers::sheval).

fn main() {
    escapes_helpers::sheval::main()
}
