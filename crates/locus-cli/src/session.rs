//! Conversations kept on disk: `--session NAME`, `--continue`, and the
//! interactive session's line history, under the data directory
//! (`$XDG_DATA_HOME/locus`, else `~/.local/share/locus`), readable only by
//! the user.

use std::path::{Path, PathBuf};

use locus_providers::Message;
use oci_auth::Env;
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The data directory.
pub fn data_dir(env: &dyn Env) -> Option<PathBuf> {
    env.var("XDG_DATA_HOME")
        .filter(|p| !p.trim().is_empty())
        .map(PathBuf::from)
        .or_else(|| env.home_dir().map(|home| home.join(".local/share")))
        .map(|base| base.join("locus"))
}

/// A saved conversation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Session {
    /// Its name (the file's stem).
    #[serde(skip)]
    pub name: String,
    /// The model it was held with.
    pub model: String,
    /// The messages, without the system prompt.
    pub messages: Vec<Message>,
    /// Tokens spent on it so far (prompt and answer, every model call).
    #[serde(default)]
    pub tokens: u64,
}

/// Where sessions live.
#[derive(Debug, Clone)]
pub struct Sessions {
    dir: PathBuf,
}

impl Sessions {
    /// The sessions under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Sessions { dir: data_dir.join("sessions") }
    }

    pub(crate) fn path(&self, name: &str) -> Result<PathBuf, CliError> {
        let valid = !name.is_empty()
            && name.len() <= 100
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !name.starts_with('.');
        if !valid {
            return Err(CliError::Usage(format!(
                "--session `{name}`: use letters, digits, `-`, `_` and `.` (at most 100, not starting with `.`)"
            )));
        }
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// The session `name`, or a new empty one.
    pub fn open(&self, name: &str) -> Result<Session, CliError> {
        let path = self.path(name)?;
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let mut session: Session = serde_json::from_str(&text)
                    .map_err(|e| CliError::Usage(format!("the session file {} is damaged: {e}", path.display())))?;
                session.name = name.to_owned();
                Ok(session)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Session { name: name.to_owned(), ..Default::default() })
            }
            Err(e) => Err(CliError::Usage(format!("cannot read the session {}: {e}", path.display()))),
        }
    }

    /// Every saved session's name and when it was last saved, newest first.
    pub fn list(&self) -> Result<Vec<(String, std::time::SystemTime)>, CliError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CliError::Usage(format!("cannot list {}: {e}", self.dir.display()))),
        };
        let mut found: Vec<(String, std::time::SystemTime)> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| {
                let name = e.path().file_stem()?.to_string_lossy().into_owned();
                Some((name, e.metadata().ok()?.modified().ok()?))
            })
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(found)
    }

    /// Deletes the session `name`; `false` when there was none.
    pub fn remove(&self, name: &str) -> Result<bool, CliError> {
        let path = self.path(name)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(CliError::Usage(format!("cannot delete {}: {e}", path.display()))),
        }
    }

    /// Whether the session `name` exists.
    pub fn exists(&self, name: &str) -> Result<bool, CliError> {
        Ok(self.path(name)?.exists())
    }

    /// The most recently saved session, if any.
    pub fn latest(&self) -> Result<Option<Session>, CliError> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Ok(None) };
        let newest = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .max();
        match newest.and_then(|(_, path)| path.file_stem().map(|s| s.to_string_lossy().into_owned())) {
            Some(name) => self.open(&name).map(Some),
            None => Ok(None),
        }
    }

    /// Saves `session`: the directory is made `0700`, the file `0600`, and
    /// written whole before it replaces the old one.
    pub fn save(&self, session: &Session) -> Result<(), CliError> {
        let path = self.path(&session.name)?;
        let cannot = |e: std::io::Error| CliError::Usage(format!("cannot write {}: {e}", path.display()));
        crate::files::create_private_dir(&self.dir).map_err(cannot)?;
        let text = serde_json::to_string_pretty(session).map_err(std::io::Error::from).map_err(cannot)?;
        crate::files::replace_private(&path, text.as_bytes()).map_err(cannot)?;
        Ok(())
    }
}

/// A name for a new session: the time it started, `YYYYMMDD-HHMMSS` (UTC),
/// and four hex digits so that two sessions started in one second differ.
pub fn new_name(now: std::time::SystemTime) -> String {
    format!("{}-{}", timestamp(now), crate::files::random_hex(2))
}

/// `YYYYMMDD-HHMMSS` (UTC).
pub(crate) fn timestamp(now: std::time::SystemTime) -> String {
    let at = time::OffsetDateTime::from(now).replace_nanosecond(0).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    // `2026-12-04T03:16:52Z` → `20261204-031652`.
    let rfc3339 = at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    rfc3339.chars().filter(|c| c.is_ascii_digit() || *c == 'T').map(|c| if c == 'T' { '-' } else { c }).collect()
}

/// Which conversation a chat holds: a saved one by name (`--session`), the
/// latest saved (`--continue`), or a new one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Resume<'a> {
    Named(&'a str),
    Latest,
    New,
}

/// Where this chat's conversation is kept, if anywhere.
pub(crate) struct SessionStore {
    pub session: Session,
    sessions: Option<Sessions>,
    /// Whether the session is on disk (read from it, or saved once): then even an empty history is written.
    on_disk: bool,
    /// The data directory, for the line history.
    pub data_dir: Option<PathBuf>,
}

impl SessionStore {
    /// The session `resume` names, held with `model`, kept under `data_dir`
    /// (`None`: nothing is kept, as with `--no-save`).
    pub fn open(resume: Resume<'_>, model: &str, data_dir: Option<PathBuf>) -> Result<Self, CliError> {
        let sessions = data_dir.as_deref().map(Sessions::new);
        let session = match (&sessions, resume) {
            (Some(sessions), Resume::Named(name)) => sessions.open(name)?,
            (Some(sessions), Resume::Latest) => sessions.latest()?.ok_or_else(|| {
                CliError::Usage("--continue: there is no saved session yet; start one with --session NAME".into())
            })?,
            (None, Resume::Named(_) | Resume::Latest) => {
                return Err(CliError::Usage(
                    "sessions need a data directory: set HOME or XDG_DATA_HOME (or drop --session/--continue, \
                     or --no-save)"
                        .into(),
                ));
            }
            (_, Resume::New) => Session { name: new_name(std::time::SystemTime::now()), ..Default::default() },
        };
        let on_disk = !session.messages.is_empty();
        let session = Session { model: model.to_owned(), ..session };
        Ok(SessionStore { session, sessions, on_disk, data_dir })
    }

    /// Keeps the conversation as the session `name` from now on (`/save`):
    /// written at once, and after every answer.
    pub fn save_as(&mut self, name: &str, history: &[Message]) -> Result<PathBuf, CliError> {
        let Some(sessions) = &self.sessions else {
            return Err(CliError::Usage("nothing is saved in this session (--no-save, or no data directory)".into()));
        };
        let path = sessions.path(name)?;
        self.session.name = name.to_owned();
        self.on_disk = true;
        self.save(history);
        Ok(path)
    }

    /// Saves `history` as the session (nothing with `--no-save`). A session
    /// that cannot be written is a warning naming the path, once, and is not
    /// tried again: the answer the user has is never turned into a failure.
    pub fn save(&mut self, history: &[Message]) {
        self.session.messages = history.to_vec();
        match &self.sessions {
            // A run that added nothing to a new session leaves no file; a /reset empties an existing one.
            Some(sessions) if !history.is_empty() || self.on_disk => match sessions.save(&self.session) {
                Ok(()) => self.on_disk = true,
                Err(e) => {
                    tracing::warn!("the conversation was not saved: {e}");
                    self.sessions = None;
                }
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_round_trip_privately_and_the_latest_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = Sessions::new(dir.path());
        assert!(sessions.latest().unwrap().is_none());
        let mut session = sessions.open("work").unwrap();
        assert!(session.messages.is_empty());
        session.model = "meta.llama".into();
        session.messages = vec![Message::user("Hi"), Message::assistant("Hello")];
        sessions.save(&session).unwrap();
        let again = sessions.latest().unwrap().unwrap();
        assert_eq!((again.name.as_str(), again.messages.len()), ("work", 2));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("sessions/work.json")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(sessions.open("../escape").is_err());
    }

    #[test]
    fn new_names_are_utc_timestamps() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_072_000);
        assert_eq!(timestamp(t), "20251125-120000");
        assert!(new_name(t).starts_with("20251125-120000-") && new_name(t).len() == 20);
    }
}
