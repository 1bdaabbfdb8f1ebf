//! The command's environment, built from an allow-list: nothing the caller set reaches the
//! command unless it is named here and its value is harmless.

/// The only PATH a command ever sees, and the only one we resolve programs with.
pub const SAFE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Locale variables passed through when their value is a plain locale name.
const LOCALE_VARS: &[&str] = &[
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_NUMERIC",
    "LC_TIME",
    "LC_COLLATE",
    "LC_MONETARY",
    "LC_MESSAGES",
    "LC_PAPER",
    "LC_NAME",
    "LC_ADDRESS",
    "LC_TELEPHONE",
    "LC_MEASUREMENT",
    "LC_IDENTIFICATION",
];

/// Facts about the target user that become HOME, USER, LOGNAME, SHELL.
pub struct Target<'a> {
    pub name: &'a [u8],
    pub home: &'a [u8],
    pub shell: &'a [u8],
    /// The caller's real ids, as escapes read them (sudo's SUDO_UID and SUDO_GID): what
    /// stampctl, or any command, needs to know whom it runs for. Never taken from the caller.
    pub caller_uid: u32,
    pub caller_gid: u32,
}

/// `TERM`: a terminal type name, never a path. A leading `.` is refused too: ncurses joins the
/// name onto terminfo directories, and `..` would step out of them.
fn term_ok(v: &[u8]) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && !v.starts_with(b".")
        && v.iter().all(|&b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

/// Locale names like `en_US.UTF-8` or `de_DE@euro` (for LANGUAGE a `:`-separated list of
/// them); a `/` would let the caller point glibc at locale files of their own. No name may start
/// with `.`: glibc and gettext join it onto a directory, and `..` would name the parent (glibc
/// refuses that itself today; we do not rely on it).
fn locale_ok(v: &[u8]) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.iter().all(|&b| b.is_ascii_alphanumeric() || b"._@-:".contains(&b))
        && v.split(|&b| b == b':').all(|name| !name.starts_with(b"."))
}

/// `TZ`: a zone name (`Europe/Berlin`), a POSIX rule (`CET-1CEST,M3.5.0,M10.5.0/3`), or a
/// file under /usr/share/zoneinfo; never `..`, never another absolute path.
fn tz_ok(v: &[u8]) -> bool {
    let body = v.strip_prefix(b":").unwrap_or(v);
    if body.is_empty() || v.len() > 64 || body.windows(2).any(|w| w == b"..") {
        return false;
    }
    if !body.iter().all(|&b| b.is_ascii_alphanumeric() || b"_+-:,./<>".contains(&b)) {
        return false;
    }
    !body.starts_with(b"/") || body.starts_with(b"/usr/share/zoneinfo/")
}

/// Caller variables escapes looks at, in the order the kernel passed them; the rest are ignored
/// (and so dropped) unread. The kernel passes at most 6 MiB of argv and environment, which
/// holds ~350,000 of the shortest variables; no honest environment comes near this.
pub const MAX_CALLER_VARS: usize = 8192;

/// The names that can pass: TERM, TZ, then LOCALE_VARS; an index into them.
fn allowed_index(name: &[u8]) -> Option<usize> {
    match name {
        b"TERM" => Some(0),
        b"TZ" => Some(1),
        n => LOCALE_VARS.iter().position(|l| l.as_bytes() == n).map(|i| i + 2),
    }
}

fn allowed(name: &[u8], value: &[u8]) -> bool {
    match name {
        b"TERM" => term_ok(value),
        b"TZ" => tz_ok(value),
        _ => locale_ok(value),
    }
}

/// The command's environment as `NAME=value` entries: allowed caller variables (first
/// occurrence of each name only) among the first MAX_CALLER_VARS, then the target's HOME, USER,
/// LOGNAME, SHELL, the safe PATH and the caller's ids (`ESCAPES_CALLER_UID`, `_GID`). One pass, a fixed amount of work per variable: only the 17
/// allowed names can pass, so only they need remembering.
/// How many entries `build` adds after the caller's: HOME, USER, LOGNAME, SHELL, PATH and the
/// caller's two ids.
pub const FIXED: usize = 7;

pub fn build(caller: &[(Vec<u8>, Vec<u8>)], target: &Target<'_>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut seen = [false; 2 + LOCALE_VARS.len()];
    for (name, value) in caller.iter().take(MAX_CALLER_VARS) {
        let Some(slot) = allowed_index(name).and_then(|i| seen.get_mut(i)) else { continue };
        if std::mem::replace(slot, true) {
            continue;
        }
        if allowed(name, value) {
            out.push([name.as_slice(), b"=", value.as_slice()].concat());
        }
    }
    out.push([b"HOME=".as_slice(), target.home].concat());
    out.push([b"USER=".as_slice(), target.name].concat());
    out.push([b"LOGNAME=".as_slice(), target.name].concat());
    out.push([b"SHELL=".as_slice(), target.shell].concat());
    out.push([b"PATH=".as_slice(), SAFE_PATH.as_bytes()].concat());
    out.push(format!("ESCAPES_CALLER_UID={}", target.caller_uid).into_bytes());
    out.push(format!("ESCAPES_CALLER_GID={}", target.caller_gid).into_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(a: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        a.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())).collect()
    }

    fn target() -> Target<'static> {
        Target { name: b"root", home: b"/root", shell: b"/bin/sh", caller_uid: 1000, caller_gid: 100 }
    }

    #[test]
    fn drops_everything_not_on_the_allow_list() {
        let env = build(
            &kv(&[
                ("LD_PRELOAD", "/x.so"),
                ("PATH", "/tmp"),
                ("BASH_ENV", "/x"),
                ("IFS", " "),
                ("TERM", "xterm"),
                ("HOME", "/tmp"),
            ]),
            &target(),
        );
        let env: Vec<String> = env.into_iter().map(|e| String::from_utf8(e).unwrap()).collect();
        assert_eq!(
            env,
            [
                "TERM=xterm",
                "HOME=/root",
                "USER=root",
                "LOGNAME=root",
                "SHELL=/bin/sh",
                &format!("PATH={SAFE_PATH}"),
                "ESCAPES_CALLER_UID=1000",
                "ESCAPES_CALLER_GID=100",
            ]
        );
    }

    #[test]
    fn refuses_locale_and_term_values_that_are_paths() {
        let env = build(
            &kv(&[("LANG", "../../tmp/x"), ("LC_ALL", "/tmp/loc"), ("TERM", "../x"), ("LC_TIME", "de_DE.UTF-8")]),
            &target(),
        );
        assert!(env.contains(&b"LC_TIME=de_DE.UTF-8".to_vec()));
        assert_eq!(env.len(), FIXED + 1);
    }

    #[test]
    fn refuses_locale_and_term_names_starting_with_a_dot() {
        for (name, bad) in [
            ("LANG", ".."),
            ("LC_ALL", "."),
            ("LANGUAGE", "de:..:en"),
            ("LC_MESSAGES", ".hidden"),
            ("TERM", ".."),
            ("TERM", ".x"),
        ] {
            let env = build(&kv(&[(name, bad)]), &target());
            assert_eq!(env.len(), FIXED, "{name}={bad} must be dropped");
        }
        let env = build(&kv(&[("LANGUAGE", "de_DE:en"), ("LANG", "C.UTF-8"), ("TERM", "xterm-256color")]), &target());
        assert_eq!(env.len(), FIXED + 3);
    }

    #[test]
    fn tz_accepts_names_and_rules_but_not_foreign_files() {
        for ok in [
            "Europe/Berlin",
            "UTC",
            ":Europe/Berlin",
            "CET-1CEST,M3.5.0,M10.5.0/3",
            "/usr/share/zoneinfo/UTC",
            "<+03>-3",
        ] {
            assert!(tz_ok(ok.as_bytes()), "{ok}");
        }
        for bad in ["/tmp/tz", ":/etc/shadow", "../../../tmp/x", "Europe/../../x", "", "a b"] {
            assert!(!tz_ok(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn only_the_first_max_caller_vars_are_looked_at() {
        let mut vars = kv(&[("TERM", "xterm")]);
        vars.splice(0..0, (0..MAX_CALLER_VARS - 1).map(|i| (format!("X{i}").into_bytes(), b"y".to_vec())));
        assert!(build(&vars, &target()).contains(&b"TERM=xterm".to_vec()));
        vars.insert(0, (b"X".to_vec(), b"y".to_vec()));
        assert!(!build(&vars, &target()).iter().any(|e| e.starts_with(b"TERM=")));
    }

    #[test]
    fn first_occurrence_wins_for_duplicated_names() {
        let env = build(&kv(&[("TERM", "$(evil)"), ("TERM", "xterm")]), &target());
        assert!(!env.iter().any(|e| e.starts_with(b"TERM=")));
    }
}
