//! Text from servers and models on its way to a terminal.

use std::borrow::Cow;

/// `text` with control characters other than newline and tab escaped
/// (`\u{1b}`), so that a server or a model cannot move the cursor, recolour,
/// retitle or clear the user's terminal. C1 controls (U+0080–U+009F) count.
///
/// ```
/// use locus_cli::terminal::escape_controls;
/// assert_eq!(escape_controls("a\u{1b}[2Jb\n\tc"), "a\\u{1b}[2Jb\n\tc");
/// assert_eq!(escape_controls("plain"), "plain");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// [`escape_controls`], with line breaks folded to spaces: for one-line notices.
pub fn one_line(text: &str) -> String {
    escape_controls(&text.replace(['\n', '\t'], " ")).into_owned()
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_but_newline_and_tab_is_escaped() {
        for c in ['\u{0}', '\u{7}', '\u{8}', '\r', '\u{1b}', '\u{7f}', '\u{9b}'] {
            let shown = escape_controls(&format!("x{c}y")).into_owned();
            assert!(!shown.contains(c), "{c:?} reached the terminal");
        }
        assert_eq!(escape_controls("é ✓ 中"), "é ✓ 中");
        assert_eq!(one_line("a\nb\u{1b}"), "a b\\u{1b}");
    }
}
