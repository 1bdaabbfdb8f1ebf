//! The environment a helper is given (op's NEWENV), kept as ordered byte pairs so nothing is lost
//! to UTF-8 conversion and duplicate names stay visible.

use std::os::unix::ffi::OsStringExt;

/// An ordered list of `NAME=value` entries; names may repeat, as in a raw `environ`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Env {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Env {
    /// This process's environment, in order, duplicates kept.
    pub fn from_process() -> Env {
        Env { entries: std::env::vars_os().map(|(k, v)| (k.into_vec(), v.into_vec())).collect() }
    }

    pub fn from_pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Env {
        Env { entries: pairs.iter().map(|(k, v)| (k.as_ref().to_vec(), v.as_ref().to_vec())).collect() }
    }

    pub fn entries(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.entries
    }

    /// Every value `name` has, in order (a hostile environment may hold several).
    pub fn values<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.entries.iter().filter(move |(k, _)| k.as_slice() == name).map(|(_, v)| v.as_slice())
    }

    /// The first value of `name`, as getenv(3) would return it.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.entries.iter().find(|(k, _)| k.as_slice() == name).map(|(_, v)| v.as_slice())
    }

    /// Sets `name`, dropping every earlier entry of that name (last write wins, one entry).
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        self.remove(name);
        self.entries.push((name.to_vec(), value.to_vec()));
    }

    /// Removes every entry named `name`.
    pub fn remove(&mut self, name: &[u8]) {
        self.entries.retain(|(k, _)| k.as_slice() != name);
    }

    /// The reply language's `~PREFIX`: entries whose name starts with `prefix` (and is longer) lose
    /// the prefix; a renamed entry replaces any entry that already had the new name.
    pub fn reveal(&mut self, prefix: &[u8]) {
        if prefix.is_empty() {
            return;
        }
        let (hidden, mut rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|(k, _)| k.len() > prefix.len() && k.starts_with(prefix));
        for (k, v) in hidden {
            let new = k.get(prefix.len()..).unwrap_or_default().to_vec();
            rest.retain(|(n, _)| *n != new);
            rest.push((new, v));
        }
        self.entries = rest;
    }

    /// The environment the command will get. Under escapes a helper's own variables are only the
    /// rule's parameters and escapes' facts; the command's proposed environment comes as
    /// `ESCAPES_ENV_<NAME>` entries, marked by `ESCAPES_ENV=1`, so no helper mistakes a value the
    /// caller chose (TZ, LANG, TERM) for its own context. Under op it is the helper's own.
    pub fn command_env(&self) -> Env {
        if self.get(b"ESCAPES_ENV") != Some(b"1".as_slice()) {
            return self.clone();
        }
        Env {
            entries: self
                .entries
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(b"ESCAPES_ENV_".as_slice()).map(|n| (n.to_vec(), v.clone())))
                .collect(),
        }
    }

    /// Removes and returns, in order, every entry whose name satisfies `pred`.
    pub fn take_where(&mut self, pred: impl Fn(&[u8]) -> bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        let (taken, kept) = std::mem::take(&mut self.entries).into_iter().partition(|(k, _)| pred(k));
        self.entries = kept;
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_every_duplicate() {
        let mut e = Env::from_pairs(&[("A", "1"), ("B", "2"), ("A", "3")]);
        e.set(b"A", b"4");
        assert_eq!(e.values(b"A").collect::<Vec<_>>(), vec![b"4".as_slice()]);
        assert_eq!(e.get(b"B"), Some(b"2".as_slice()));
    }

    #[test]
    fn under_escapes_the_command_env_is_the_prefixed_one() {
        let e = Env::from_pairs(&[
            ("TZ", "UTC"),
            ("ESCAPES_ENV", "1"),
            ("ESCAPES_ENV_TZ", "Asia/Tokyo"),
            ("ESCAPES_ENV_TERM", "xterm"),
        ]);
        let c = e.command_env();
        assert_eq!(c.get(b"TZ"), Some(b"Asia/Tokyo".as_slice()));
        assert_eq!(c.get(b"TERM"), Some(b"xterm".as_slice()));
        assert_eq!(c.entries().len(), 2);
        // Without the marker (op), the helper's own environment is the command's.
        let op = Env::from_pairs(&[("TZ", "UTC"), ("ESCAPES_ENV_TZ", "Asia/Tokyo")]);
        assert_eq!(op.command_env().get(b"TZ"), Some(b"UTC".as_slice()));
    }

    #[test]
    fn reveal_renames_and_replaces() {
        let mut e = Env::from_pairs(&[("PATH", "/bin"), ("hide_PATH", "/sbin"), ("hide_", "x")]);
        e.reveal(b"hide_");
        assert_eq!(e.values(b"PATH").collect::<Vec<_>>(), vec![b"/sbin".as_slice()]);
        assert_eq!(e.get(b"hide_"), Some(b"x".as_slice()));
    }
}
