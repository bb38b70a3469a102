//! Local chat history: every message in and out, one JSON object per line, in
//! `$XDG_DATA_HOME/cim/history/<user>.jsonl` (`~/.local/share/...` without XDG_DATA_HOME).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One remembered message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// When, ms since the Unix epoch.
    pub(crate) at_ms: u64,
    /// `in` or `out`.
    pub(crate) direction: String,
    /// The sender.
    pub(crate) from: String,
    /// `name`, `#group` or `*`.
    pub(crate) to: String,
    /// The text.
    pub(crate) text: String,
    /// The server's message id.
    #[serde(default)]
    pub(crate) message_id: String,
}

/// One user's history file.
pub(crate) struct History {
    path: PathBuf,
}

/// Where cim keeps data for this user of the machine.
fn data_dir() -> Result<PathBuf, String> {
    xdg_dir("XDG_DATA_HOME", ".local/share", "the history")
}

/// The base directory an XDG variable names (an absolute path), else `$HOME/<fallback>`; the
/// error says what could not be kept (`what`).
pub(crate) fn xdg_dir(variable: &str, fallback: &str, what: &str) -> Result<PathBuf, String> {
    match std::env::var_os(variable).map(PathBuf::from).filter(|p| p.is_absolute()) {
        Some(dir) => Ok(dir),
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(fallback))
            .ok_or_else(|| format!("neither {variable} nor HOME is set: no place for {what}")),
    }
}

/// A file name for any user name: safe characters as they are, the rest as `%XX`.
fn file_name(user: &str) -> String {
    format!("{}.jsonl", file_stem(user))
}

/// A file name without extension for any user name: safe characters as they are, the rest
/// as `%XX`.
pub(crate) fn file_stem(user: &str) -> String {
    let mut name = String::with_capacity(user.len() + 6);
    for byte in user.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'@' => name.push(byte as char),
            b'.' if !name.is_empty() => name.push('.'),
            _ => name.push_str(&format!("%{byte:02X}")),
        }
    }
    name
}

impl History {
    /// The history of `user` on this machine.
    pub(crate) fn of(user: &str) -> Result<Self, String> {
        Ok(Self { path: data_dir()?.join("cim").join("history").join(file_name(user)) })
    }

    /// Where it is kept.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends one entry.
    pub(crate) fn append(&self, entry: &Entry) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        file.write_all(line.as_bytes())
    }

    /// Every entry, oldest first; lines that do not parse are skipped. No file is no history.
    pub(crate) fn read(&self) -> std::io::Result<Vec<Entry>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut entries = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            if let Ok(entry) = serde_json::from_str::<Entry>(&line?) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// Entries whose text, sender or recipient contains `keyword`, ignoring case.
    pub(crate) fn search(&self, keyword: &str) -> std::io::Result<Vec<Entry>> {
        let keyword = keyword.to_lowercase();
        let matches = |entry: &Entry| {
            [&entry.text, &entry.from, &entry.to].iter().any(|field| field.to_lowercase().contains(&keyword))
        };
        Ok(self.read()?.into_iter().filter(matches).collect())
    }
}

/// `2026-11-26 23:57:03 alice → #team: text`, for people.
pub(crate) fn line(entry: &Entry) -> String {
    format!("{} {} → {}: {}", utc(entry.at_ms), entry.from, entry.to, entry.text)
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of ms since the Unix epoch.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> Entry {
        Entry {
            at_ms: 1,
            direction: "in".into(),
            from: "bob".into(),
            to: "alice".into(),
            text: text.into(),
            message_id: "m".into(),
        }
    }

    #[test]
    fn appends_reads_and_searches_ignoring_case() {
        let dir = std::env::temp_dir().join(format!("cim-history-test-{}", std::process::id()));
        let history = History { path: dir.join("alice.jsonl") };
        assert!(history.read().expect("readable").is_empty(), "no file, no history");
        history.append(&entry("Lunch at noon?")).expect("written");
        history.append(&entry("see you")).expect("written");
        std::fs::OpenOptions::new()
            .append(true)
            .open(history.path())
            .and_then(|mut f| f.write_all(b"not json\n"))
            .expect("garbage appended");
        assert_eq!(history.read().expect("readable").len(), 2, "a bad line is skipped");
        assert_eq!(history.search("lunch").expect("readable"), [entry("Lunch at noon?")]);
        assert_eq!(history.search("BOB").expect("readable").len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn times_print_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_795_737_499_315), "2026-11-26 23:58:19");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
    }

    #[test]
    fn any_user_name_makes_a_safe_file_name() {
        assert_eq!(file_name("alice"), "alice.jsonl");
        assert_eq!(file_name("../etc/x"), "%2E.%2Fetc%2Fx.jsonl");
        assert_eq!(file_name("a b"), "a%20b.jsonl");
    }
}
