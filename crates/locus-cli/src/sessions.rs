//! `locus sessions`: the conversations kept by `locus chat --session` and
//! the interactive session, listed, shown, deleted and pruned.

use std::io::Write;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use locus_providers::Role;

use crate::error::{CliError, ExitCode};
use crate::session::{Session, Sessions, timestamp};
use crate::terminal::one_line;

/// The arguments of `locus sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub command: Option<SessionsCommand>,
}

/// The subcommands of `locus sessions`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Every session, newest first: name, last saved (UTC), model, turns, tokens.
    List {
        /// One JSON object per session.
        #[arg(long)]
        json: bool,
    },
    /// A session's conversation.
    Show {
        /// The session.
        name: String,
    },
    /// Delete sessions.
    Rm {
        /// The sessions.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Delete the sessions not saved for DAYS days.
    Prune {
        /// Age in days.
        #[arg(long, value_name = "DAYS")]
        older_than: u64,
        /// Only say what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs `locus sessions` on the sessions under `data_dir`.
pub fn run(
    args: SessionsArgs,
    data_dir: Option<std::path::PathBuf>,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let Some(data_dir) = data_dir else {
        return Err(CliError::Usage("sessions need a data directory: set HOME or XDG_DATA_HOME".into()));
    };
    let sessions = Sessions::new(&data_dir);
    match args.command.unwrap_or(SessionsCommand::List { json: false }) {
        SessionsCommand::List { json } => list(&sessions, json, out),
        SessionsCommand::Show { name } => show(&sessions, &name, out),
        SessionsCommand::Rm { names } => {
            for name in &names {
                if !sessions.remove(name)? {
                    return Err(CliError::Usage(format!("no session `{}`", one_line(name))));
                }
                writeln!(out, "deleted {name}")?;
            }
            Ok(ExitCode::Ok)
        }
        SessionsCommand::Prune { older_than, dry_run } => {
            let cutoff = SystemTime::now() - Duration::from_secs(older_than.saturating_mul(86_400));
            for (name, saved) in sessions.list()?.into_iter().filter(|(_, saved)| *saved < cutoff) {
                if !dry_run {
                    sessions.remove(&name)?;
                }
                let verb = if dry_run { "would delete" } else { "deleted" };
                writeln!(out, "{verb} {name} (saved {})", shown_time(saved))?;
            }
            Ok(ExitCode::Ok)
        }
    }
}

fn list(sessions: &Sessions, json: bool, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let found = sessions.list()?;
    if found.is_empty() && !json {
        writeln!(out, "no sessions yet (locus chat --session NAME, or the interactive session, keeps one)")?;
        return Ok(ExitCode::Ok);
    }
    if !json {
        writeln!(out, "{:<28} {:<17} {:<36} {:>5} {:>9}", "NAME", "SAVED (UTC)", "MODEL", "TURNS", "TOKENS")?;
    }
    for (name, saved) in found {
        // A damaged file is listed as such, not a reason to list nothing.
        let session = sessions.open(&name).unwrap_or_else(|_| Session { name: name.clone(), ..Default::default() });
        let turns = session.messages.iter().filter(|m| m.role == Role::User).count();
        if json {
            let value = serde_json::json!({"name": name, "saved": shown_time(saved), "model": session.model,
                "turns": turns, "tokens": session.tokens});
            writeln!(out, "{value}")?;
        } else {
            let model = one_line(&session.model);
            writeln!(out, "{name:<28} {:<17} {model:<36} {turns:>5} {:>9}", shown_time(saved), session.tokens)?;
        }
    }
    Ok(ExitCode::Ok)
}

fn show(sessions: &Sessions, name: &str, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    if !sessions.exists(name)? {
        return Err(CliError::Usage(format!("no session `{}` (`locus sessions` lists them)", one_line(name))));
    }
    let session = sessions.open(name)?;
    writeln!(out, "session {name} with {} ({} tokens)", one_line(&session.model), session.tokens)?;
    for message in &session.messages {
        let who = match message.role {
            Role::User => "you",
            Role::Assistant => "model",
            Role::Tool => "tool",
            _ => "system",
        };
        let text = crate::terminal::escape_controls(&message.text()).into_owned();
        if !text.trim().is_empty() {
            writeln!(out, "\n{who}: {text}")?;
        }
    }
    Ok(ExitCode::Ok)
}

/// `2026-12-04 01:58` (UTC).
pub(crate) fn shown_time(time: SystemTime) -> String {
    let stamp = timestamp(time); // YYYYMMDD-HHMMSS
    format!("{}-{}-{} {}:{}", &stamp[0..4], &stamp[4..6], &stamp[6..8], &stamp[9..11], &stamp[11..13])
}
