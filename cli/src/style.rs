//! Colours for people at a terminal; plain text for pipes, files and `NO_COLOR` (no-color.org).

use std::io::IsTerminal;

/// How to decorate output.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    color: bool,
}

impl Style {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset or empty.
    pub(crate) fn for_stdout() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { color: std::io::stdout().is_terminal() && !no_color }
    }

    /// Whether colours are on.
    pub(crate) fn colored(self) -> bool {
        self.color
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// A user name.
    pub(crate) fn name(self, text: &str) -> String {
        self.paint("1;36", text)
    }

    /// A group or "all".
    pub(crate) fn place(self, text: &str) -> String {
        self.paint("35", text)
    }

    /// A connection change or other notice.
    pub(crate) fn notice(self, text: &str) -> String {
        self.paint("2;33", text)
    }

    /// Something that went wrong.
    pub(crate) fn error(self, text: &str) -> String {
        self.paint("31", text)
    }
}
