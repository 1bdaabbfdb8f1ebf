//! coat: run the helpers listed in COAT in turn; all must allow.

use escapes_helpers::coat;
use escapes_helpers::env::Env;
use escapes_helpers::helper::{self, Helper, Verdict};
use std::io::Write;

const COAT: Helper = Helper {
    name: "coat",
    about: "Runs each helper listed in COAT in turn with the same argv and the environment as edited\n\
            by the ones before it; allows only if all allow. With -P it is a jacket: inner jackets\n\
            get -P too, and coat waits for the command and then stops them.",
    reads: &["COAT", "COAT_STALL", "COAT_WARN", "COAT_REVEAL"],
    grammar: &[
        ("COAT", "helper[:helper]*  (',' also separates; an absolute path, or a name such as stamp for the helper beside coat; root's, not group/world-writable)"),
        ("COAT_STALL", "seconds the whole chain may take to answer, 1-3600 (default 10)"),
        ("COAT_WARN", "text printed on stderr when refused"),
        ("COAT_REVEAL", "prefix: reply ~prefix after the inner replies and the removal of COAT parameters"),
    ],
    warn_var: "COAT_WARN",
    reveal_var: "COAT_REVEAL",
};

fn main() {
    let s = match helper::setup(&COAT, &helper::args(), Env::from_process(), coat::is_own) {
        Ok(Ok(s)) => s,
        Ok(Err(request)) => {
            let _ = std::io::stdout().write_all(helper::describe(&COAT, &request).as_bytes());
            std::process::exit(0)
        }
        Err((verdict, params)) => helper::finish(&COAT, None, &params, &verdict),
    };
    let (verdict, mut jackets, stall) =
        match coat::config_beside(&s.params, coat::own_directory().as_deref()) {
            Err(e) => (Verdict::config(e), Vec::new(), coat::DEFAULT_STALL),
            Ok(cfg) => match coat::run(&cfg, &s.invocation, s.env.clone()) {
                Ok(p) => (Verdict::Allow { relay: p.relay }, p.jackets, cfg.stall),
                Err(f) => (f.verdict(&s.params), Vec::new(), cfg.stall),
            },
        };
    let mut code = helper::deliver(&COAT, &s.params, &verdict);
    if let Some(pid) = s.invocation.pid {
        code = helper::release_and_wait(pid, code);
    }
    coat::dismiss(&mut jackets, stall);
    std::process::exit(i32::from(code))
}
