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
    pub(crate) fn read_all(self) -> Result<Option<String>, CliError> {
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
    compose(argument, files, stdin, false)
}

/// The largest image `--file` attaches (the service takes a few MB per image).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// The message of a one-shot run, as [`prompt`] composes its text, with
/// each `--file` that is an image (png, jpeg, webp, gif; at most
/// [`MAX_IMAGE_BYTES`]) attached as an image instead of as text.
///
/// ```
/// use locus_cli::input::{Stdin, message};
/// let dir = tempfile::tempdir()?;
/// let png = dir.path().join("dot.png");
/// std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")?;
/// let message = message(Some("what is this?"), &[png], Stdin::Text(String::new()))?.unwrap();
/// assert_eq!(message.text(), "what is this?");
/// assert_eq!(message.content.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn message(
    argument: Option<&str>,
    files: &[PathBuf],
    stdin: Stdin,
) -> Result<Option<locus_providers::Message>, CliError> {
    let mut images = Vec::new();
    let mut texts = Vec::new();
    for path in files {
        match image(path)? {
            Some(source) => images.push(source),
            None => texts.push(path.clone()),
        }
    }
    let Some(text) = compose(argument, &texts, stdin, !images.is_empty())? else { return Ok(None) };
    Ok(Some(images.into_iter().fold(locus_providers::Message::user(text), |message, image| message.with_image(image))))
}

/// `path`, which must be an image, as a `data:` URL; `flag` names it in errors.
pub(crate) fn image_url(path: &std::path::Path, flag: &str) -> Result<String, CliError> {
    match image_from(path, flag)? {
        Some(locus_providers::ImageSource::Base64 { media_type, data }) => {
            Ok(format!("data:{media_type};base64,{data}"))
        }
        _ => Err(CliError::Usage(format!("{flag} {}: not an image (png, jpeg, webp, gif)", path.display()))),
    }
}

/// `path` as an image, when its first bytes say it is one.
fn image(path: &std::path::Path) -> Result<Option<locus_providers::ImageSource>, CliError> {
    image_from(path, "--file")
}

fn image_from(path: &std::path::Path, flag: &str) -> Result<Option<locus_providers::ImageSource>, CliError> {
    use base64::Engine as _;
    let cannot = |e: std::io::Error| CliError::Usage(format!("{flag} {}: cannot read it: {e}", path.display()));
    // One open file for the first bytes, the size and the rest: what is checked is what is sent.
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::with_capacity(16);
    (&mut file).take(16).read_to_end(&mut bytes).map_err(cannot)?;
    let Some(media_type) = image_type(&bytes) else { return Ok(None) };
    let size = file.metadata().map_err(cannot)?.len();
    if size > MAX_IMAGE_BYTES as u64 {
        return Err(CliError::Usage(format!(
            "{flag} {}: the image is {:.1} MiB; at most {} MiB is attached (make it smaller)",
            path.display(),
            size as f64 / 1_048_576.0,
            MAX_IMAGE_BYTES / 1_048_576
        )));
    }
    file.read_to_end(&mut bytes).map_err(cannot)?;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(Some(locus_providers::ImageSource::Base64 { media_type: media_type.to_owned(), data }))
}

/// The image type its first bytes name: PNG, JPEG, GIF or WebP.
fn image_type(head: &[u8]) -> Option<&'static str> {
    match head {
        [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// The prompt's text; `images`: images are attached too (then the text may be empty).
fn compose(argument: Option<&str>, files: &[PathBuf], stdin: Stdin, images: bool) -> Result<Option<String>, CliError> {
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
            None if files.is_empty() && !images => return Ok(None),
            None => String::new(),
        },
    };
    for path in files {
        let content = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => CliError::Usage(format!(
                "--file {}: neither text (UTF-8) nor an image (png, jpeg, webp, gif): attach text or an image",
                path.display()
            )),
            _ => CliError::Usage(format!("--file {}: cannot read it: {e}", path.display())),
        })?;
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!("File {}:\n```\n{}\n```", path.display(), content.trim_end()));
    }
    if text.trim().is_empty() && !images {
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
