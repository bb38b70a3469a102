//! Saved sessions: `cim login --save` keeps the route's answer, and the scripted commands
//! (`send`, `listen`, `users`, `groups`) use it instead of asking for the password, until its
//! token expires. One file per user, `$XDG_STATE_HOME/cim/sessions/<user>.json`
//! (`~/.local/state/...` without XDG_STATE_HOME), readable by its owner only: it holds a
//! token that opens the account until it expires.

use std::path::PathBuf;

use cim_sdk::Login;
use serde::{Deserialize, Serialize};

/// What is saved: the login, and where and for which device it was made.
#[derive(Serialize, Deserialize)]
struct Saved {
    route: String,
    device: String,
    login: Login,
}

fn path(user: &str) -> Result<PathBuf, String> {
    let state_dir = crate::history::xdg_dir("XDG_STATE_HOME", ".local/state", "the session")?;
    Ok(state_dir.join("cim").join("sessions").join(format!("{}.json", crate::history::file_stem(user))))
}

/// Saves `login` of `user` at `route` for `device`; the file it wrote.
pub(crate) fn save(route: &str, user: &str, device: &str, login: &Login) -> Result<PathBuf, String> {
    let path = path(user)?;
    let saved = Saved { route: route.to_owned(), device: device.to_owned(), login: login.clone() };
    let text = serde_json::to_string_pretty(&saved).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    write_private(&path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Writes a file only its owner can read, replacing any.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// The saved session of `user` at `route`, and its device, if there is one that has not
/// expired.
pub(crate) fn load(route: &str, user: &str) -> Option<(String, Login)> {
    let text = std::fs::read_to_string(path(user).ok()?).ok()?;
    let saved: Saved = serde_json::from_str(&text).ok()?;
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    (saved.route == route && u128::from(saved.login.token_expires_at_ms) > now_ms)
        .then_some((saved.device, saved.login))
}
