//! Text from servers and models on its way to a terminal, and what the
//! terminal is: colour only for a person at a terminal, never under
//! `NO_COLOR` (no-color.org).

use std::borrow::Cow;
use std::io::IsTerminal;

/// What standard output and standard error are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terminal {
    /// Standard output is a terminal.
    pub stdout: bool,
    /// Standard error is a terminal.
    pub stderr: bool,
    /// Colour and motion on standard error: a terminal, and `NO_COLOR` unset or empty.
    pub color: bool,
}

impl Terminal {
    /// The process's.
    pub fn detect() -> Self {
        let stderr = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Terminal { stdout: std::io::stdout().is_terminal(), stderr, color: stderr && !no_color }
    }

    /// `text` dimmed, when colour is on.
    pub fn dim<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.color { Cow::Owned(format!("\x1b[2m{text}\x1b[0m")) } else { Cow::Borrowed(text) }
    }

    /// `text` in red, when colour is on.
    pub fn red<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.color { Cow::Owned(format!("\x1b[31m{text}\x1b[0m")) } else { Cow::Borrowed(text) }
    }
}

/// Prints each retry on stderr as it is decided (dimmed on a colour terminal).
pub fn announce_retry(terminal: Terminal) -> impl Fn(&oci_genai_transport::RetryNotice) + Send + Sync + 'static {
    move |notice| {
        let line = notice.to_string();
        // The waiting indicator may be on this line: the notice takes the whole line, and the indicator
        // draws again on the next one.
        let wipe = if terminal.color { "\r\x1b[2K" } else { "" };
        eprintln!("{wipe}{}", terminal.dim(&line));
    }
}

/// A waiting indicator on standard error (for terminals only): it appears
/// after 300 ms and is wiped when stopped, so a quick answer shows nothing.
#[derive(Debug)]
pub struct Spinner {
    task: tokio::task::JoinHandle<()>,
    drawn: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Spinner {
    /// For standard error that is not a terminal (a pipe, a log, or
    /// `NO_COLOR`): one line `note: <label> (N s)…` once `after` has passed
    /// without an event, where a terminal gets the moving indicator.
    pub fn notice_after(after: std::time::Duration, label: &'static str) -> Spinner {
        use std::io::Write;
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let mut err = std::io::stderr();
            let _ = writeln!(err, "note: {label} ({} s so far)…", after.as_secs());
            let _ = err.flush();
        });
        // Nothing to wipe: the notice is a whole line of its own.
        Spinner { task, drawn: std::sync::Arc::default() }
    }

    /// Starts showing `label`.
    pub fn start(label: &'static str) -> Spinner {
        use std::io::Write;
        let drawn = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&drawn);
        let task = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            for frame in ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'].iter().cycle() {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                let mut err = std::io::stderr();
                let _ = write!(err, "\r\x1b[2m{frame} {label}\x1b[0m");
                let _ = err.flush();
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        Spinner { task, drawn }
    }

    /// Stops and wipes it.
    pub fn stop(self) {
        use std::io::Write;
        self.task.abort();
        if self.drawn.load(std::sync::atomic::Ordering::SeqCst) {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

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

/// Runs `future` unless Ctrl-C comes first (`None`).
pub(crate) async fn interruptible<T>(future: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::select! {
        result = future => Some(result),
        _ = tokio::signal::ctrl_c() => None,
    }
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
