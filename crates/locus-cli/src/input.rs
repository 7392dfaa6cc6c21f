//! Where a prompt comes from: the argument, standard input, attached files.

use std::io::Read;
use std::path::PathBuf;

use crate::error::CliError;

/// Standard input, as `locus` sees it.
#[derive(Debug)]
pub enum Stdin {
    /// The process's: read when it is not a terminal.
    Process,
    /// A terminal: never read for a prompt (an interactive session reads it).
    Terminal,
    /// This text (tests, embedding).
    Text(String),
}

impl Stdin {
    /// Whether a person is typing (an interactive session is possible).
    pub fn is_terminal(&self) -> bool {
        match self {
            Stdin::Process => std::io::IsTerminal::is_terminal(&std::io::stdin()),
            Stdin::Terminal => true,
            Stdin::Text(_) => false,
        }
    }

    /// All of it; `None` for a terminal.
    fn read_all(self) -> Result<Option<String>, CliError> {
        match self {
            Stdin::Process if std::io::IsTerminal::is_terminal(&std::io::stdin()) => Ok(None),
            Stdin::Process => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?;
                Ok(Some(text))
            }
            Stdin::Terminal => Ok(None),
            Stdin::Text(text) => Ok(Some(text)),
        }
    }
}

/// The prompt of a one-shot run, or `None` for an interactive session:
///
/// - `PROMPT` alone is the prompt; piped input is appended to it after a
///   blank line (`cat notes.md | locus chat "summarise"`);
/// - `-` is standard input alone;
/// - no prompt: standard input, or an interactive session on a terminal;
/// - each `--file` is attached after it, named;
/// - an empty prompt is a usage error.
///
/// ```
/// use locus_cli::input::{Stdin, prompt};
/// let text = prompt(Some("summarise"), &[], Stdin::Text("line one\nline two\n".into()))?;
/// assert_eq!(text.as_deref(), Some("summarise\n\nline one\nline two"));
/// assert!(prompt(Some("-"), &[], Stdin::Text("  \n".into())).is_err());
/// # Ok::<(), locus_cli::CliError>(())
/// ```
pub fn prompt(argument: Option<&str>, files: &[PathBuf], stdin: Stdin) -> Result<Option<String>, CliError> {
    let mut text = match argument {
        Some("-") => {
            let read = stdin.read_all()?.ok_or_else(|| {
                CliError::Usage("`-` reads the prompt from standard input, but it is a terminal: pipe text in".into())
            })?;
            read.trim_end().to_owned()
        }
        Some(argument) => {
            let piped = stdin.read_all()?.map(|t| t.trim_end().to_owned()).filter(|t| !t.trim().is_empty());
            match piped {
                Some(piped) => format!("{argument}\n\n{piped}"),
                None => argument.to_owned(),
            }
        }
        None => match stdin.read_all()? {
            Some(read) => read.trim_end().to_owned(),
            None if files.is_empty() => return Ok(None),
            None => String::new(),
        },
    };
    for path in files {
        let content = std::fs::read_to_string(path)
            .map_err(|e| CliError::Usage(format!("--file {}: cannot read it as text: {e}", path.display())))?;
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!("File {}:\n```\n{}\n```", path.display(), content.trim_end()));
    }
    if text.trim().is_empty() {
        return Err(CliError::Usage(
            "the prompt is empty: give it as an argument, pipe it in, or attach a file with --file".into(),
        ));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_combines_as_documented() {
        assert_eq!(prompt(Some("hi"), &[], Stdin::Text(String::new())).unwrap().as_deref(), Some("hi"));
        assert_eq!(
            prompt(Some("-"), &[], Stdin::Text("from a pipe\n".into())).unwrap().as_deref(),
            Some("from a pipe")
        );
        assert_eq!(prompt(None, &[], Stdin::Text("a\nb\n".into())).unwrap().as_deref(), Some("a\nb"));
        assert_eq!(prompt(None, &[], Stdin::Terminal).unwrap(), None);
        assert!(prompt(Some("-"), &[], Stdin::Terminal).is_err());
        assert!(prompt(None, &[], Stdin::Text("\n\n".into())).unwrap_err().to_string().contains("empty"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "remember milk\n").unwrap();
        let text = prompt(Some("summarise"), std::slice::from_ref(&file), Stdin::Terminal).unwrap().unwrap();
        assert!(text.starts_with("summarise\n\nFile ") && text.ends_with("remember milk\n```"), "{text}");
        let missing = prompt(Some("x"), &[dir.path().join("none")], Stdin::Terminal).unwrap_err().to_string();
        assert!(missing.contains("--file"), "{missing}");
    }
}
