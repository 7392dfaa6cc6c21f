//! The interactive session of `locus chat`: line editing with history,
//! multi-line input between `"""` lines, `/model ID`, `/reset`, `/save NAME`, `/usage`,
//! `/help` and `/exit`, and Ctrl-C cancelling the answer being written, not
//! the session.

use std::io::Write;

use locus_agent::{Agent, Conversation};
use rustyline::error::ReadlineError;

use crate::error::{CliError, ExitCode};
use crate::render::{ShowOptions, show};
use crate::session::SessionStore;
use crate::terminal::interruptible;

/// The line editor (its history in the data directory, `0600`).
type Editor = rustyline::DefaultEditor;

/// What the person typed.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    Prompt(String),
    Command(&'static str),
    /// `/save NAME`.
    Save(String),
    /// `/model ID` (empty: which model).
    Model(String),
    /// `/word` that is no command: never sent to the model.
    Unknown(String),
    Nothing,
    End,
}

/// Reads one line in a blocking thread, so the runtime (and an in-process
/// emulator) keeps running meanwhile.
async fn read_line(editor: Editor, prompt: &'static str) -> Result<(Editor, rustyline::Result<String>), CliError> {
    tokio::task::spawn_blocking(move || {
        let mut editor = editor;
        let line = editor.readline(prompt);
        (editor, line)
    })
    .await
    .map_err(|e| CliError::Usage(format!("the line editor failed: {e}")))
}

/// The next input: a prompt (one line, or the lines between two `"""`
/// lines), a command, nothing (an empty line, Ctrl-C at the prompt), or the end (Ctrl-D).
async fn next_input(editor: Editor) -> Result<(Editor, Input), CliError> {
    let (mut editor, line) = read_line(editor, "> ").await?;
    let line = match line {
        Ok(line) => line,
        Err(ReadlineError::Interrupted) => return Ok((editor, Input::Nothing)),
        Err(ReadlineError::Eof) => return Ok((editor, Input::End)),
        Err(e) => return Err(CliError::Usage(format!("cannot read the terminal: {e}"))),
    };
    let input = match line.trim() {
        "" => Input::Nothing,
        "/exit" | "/quit" => Input::End,
        "/reset" => Input::Command("reset"),
        "/help" => Input::Command("help"),
        "/usage" => Input::Command("usage"),
        text if text.split_whitespace().next() == Some("/model") => {
            Input::Model(text.split_whitespace().nth(1).unwrap_or_default().to_owned())
        }
        text if text.split_whitespace().next() == Some("/save") => {
            Input::Save(text.split_whitespace().nth(1).unwrap_or_default().to_owned())
        }
        // `/word` alone or with arguments is meant as a command; `/etc/hosts …` is a prompt.
        text if is_command_like(text) => Input::Unknown(text.split_whitespace().next().unwrap_or(text).to_owned()),
        "\"\"\"" => {
            let mut lines = Vec::new();
            loop {
                let (next_editor, line) = read_line(editor, "… ").await?;
                editor = next_editor;
                match line {
                    Ok(line) if line.trim() == "\"\"\"" => break,
                    Ok(line) => lines.push(line),
                    Err(ReadlineError::Interrupted) => return Ok((editor, Input::Nothing)),
                    Err(ReadlineError::Eof) => break,
                    Err(e) => return Err(CliError::Usage(format!("cannot read the terminal: {e}"))),
                }
            }
            let text = lines.join("\n");
            if text.trim().is_empty() { Input::Nothing } else { Input::Prompt(text) }
        }
        text => Input::Prompt(text.to_owned()),
    };
    if let Input::Prompt(text) = &input {
        let _ = editor.add_history_entry(text.as_str());
    }
    Ok((editor, input))
}

/// `text` cut to `max` characters, with `…` when cut.
fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `/word` or `/word args`, the word letters alone.
fn is_command_like(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or_default();
    first.strip_prefix('/').is_some_and(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_alphabetic()))
}

const HELP: &str = "/exit or Ctrl-D ends the session, /model ID goes on with another model, /reset forgets the \
                    conversation, /save NAME keeps it as session NAME, /usage shows the tokens spent, /help this; a line of \"\"\" starts and ends \
                    multi-line input, Ctrl-C cancels the answer being written";

/// Runs the session until `/exit` or Ctrl-D; every answer is saved to the session.
pub(crate) async fn run(
    agent: &Agent,
    switch: &dyn Fn(&str) -> Result<Agent, CliError>,
    conversation: &mut Conversation,
    store: &mut SessionStore,
    options: ShowOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let resumed = conversation.history().len();
    writeln!(err, "locus chat with {} — {HELP}", agent.model_name())?;
    if resumed > 0 {
        writeln!(err, "(going on from session `{}`: {resumed} messages)", store.session.name)?;
        // Where the conversation stood: its last exchange, shortened.
        let history = conversation.history();
        let last = |role| history.iter().rev().find(|m| m.role == role).map(|m| m.text());
        for (who, text) in
            [("you", last(locus_providers::Role::User)), ("model", last(locus_providers::Role::Assistant))]
        {
            if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
                writeln!(err, "  {who}: {}", shortened(&crate::terminal::one_line(&text), 200))?;
            }
        }
    }
    let history_file = store.data_dir.as_ref().map(|dir| dir.join("history.txt"));
    // The prompt and the editor's codes go to the terminal itself (/dev/tty): with stdout piped
    // (`| tee log`), only answers reach the pipe.
    let config = rustyline::Config::builder().behavior(rustyline::Behavior::PreferTerm).build();
    let mut editor =
        Editor::with_config(config).map_err(|e| CliError::Usage(format!("cannot open the terminal: {e}")))?;
    if let Some(path) = &history_file {
        let _ = editor.load_history(path);
    }
    let mut spent = (locus_providers::Usage::default(), 0u32);
    let mut model_name = agent.model_name().to_owned();
    loop {
        let (next_editor, input) = next_input(editor).await?;
        editor = next_editor;
        match input {
            Input::End => break,
            Input::Nothing => continue,
            Input::Command("reset") => {
                conversation.reset();
                store.save(&[]);
                writeln!(err, "(the conversation is forgotten)")?;
            }
            Input::Command("usage") => {
                writeln!(err, "{} (this session)", crate::render::usage_line(&spent.0, spent.1))?
            }
            Input::Command(_) => writeln!(err, "{HELP}")?,
            Input::Model(id) if id.is_empty() => writeln!(err, "the model is {}", model_name)?,
            Input::Model(id) => match switch(&id) {
                Ok(next) => {
                    model_name = next.model_name().to_owned();
                    *conversation = next.conversation_with(conversation.history().to_vec());
                    store.session.model = model_name.clone();
                    writeln!(err, "(going on with {model_name}: {} messages kept)", conversation.history().len())?;
                }
                Err(e) => writeln!(err, "error: {}", crate::terminal::escape_controls(&e.to_string()))?,
            },
            Input::Save(name) if name.is_empty() => writeln!(err, "/save needs a name: /save NAME")?,
            Input::Save(name) => match store.save_as(&name, conversation.history()) {
                Ok(path) => {
                    writeln!(err, "(saved as session `{name}`: {}; --session {name} goes on from it)", path.display())?
                }
                Err(e) => writeln!(err, "error: {}", crate::terminal::escape_controls(&e.to_string()))?,
            },
            Input::Unknown(command) => writeln!(
                err,
                "unknown command `{}` (not sent to the model): the commands are /help, /model ID, /reset, /save \
                 NAME, /usage and /exit",
                crate::terminal::one_line(&command)
            )?,
            Input::Prompt(text) => match interruptible(show(conversation.run(text), options, out, err)).await {
                None => writeln!(err, "\n(answer cancelled)")?,
                Some(Err(e)) => writeln!(err, "error: {}", crate::terminal::escape_controls(&e.to_string()))?,
                Some(Ok(result)) => {
                    spent.0.add(&result.usage);
                    spent.1 += result.iterations;
                    store.session.tokens += result.usage.total_tokens;
                    conversation.settle();
                    store.save(conversation.history());
                }
            },
        }
    }
    // The line editor writes the file itself: a history file planted as a link is not written through.
    let planted = |path: &std::path::Path| std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if let Some(path) = history_file.as_deref().filter(|path| planted(path)) {
        tracing::warn!("the line history was not saved: {} is a symbolic link", path.display());
    } else if let Some(path) = &history_file
        && crate::files::create_private_dir(path.parent().unwrap_or(path)).is_ok()
        && editor.save_history(path).is_ok()
    {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
    }
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::is_command_like;

    #[test]
    fn only_a_slash_word_is_a_command() {
        for command in ["/model openai.gpt-4.1", "/save work", "/usage", "/x"] {
            assert!(is_command_like(command), "{command}");
        }
        for prompt in ["/etc/hosts: what is it?", "/ alone", "what is 1/2?", "//comment", "/v1/models"] {
            assert!(!is_command_like(prompt), "{prompt}");
        }
    }
}
