//! A stdio server's process: its own process group (so whatever it starts
//! goes with it), killed when dropped, and the tail of its stderr kept to
//! say why it died.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout};

/// The last stderr lines kept.
const STDERR_LINES: usize = 20;
/// What is kept of one stderr line: a server may write without ever ending a line.
const STDERR_LINE_BYTES: usize = 4096;

/// A running server process; dropping it kills the process group.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    child: Child,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// The stderr reader, until its last lines have been waited for.
    reader: Option<tokio::task::JoinHandle<()>>,
}

impl ServerProcess {
    /// Starts `program` with `args` and `env`; its stdin and stdout carry the protocol.
    pub(crate) fn spawn(
        server: &str,
        program: &str,
        args: &[String],
        env: &[(String, oci_auth::Secret)],
    ) -> std::io::Result<(ServerProcess, ChildStdout, ChildStdin)> {
        let mut command = tokio::process::Command::new(program);
        command.args(args).envs(env.iter().map(|(key, value)| (key, value.expose())));
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command.spawn()?;
        let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
            return Err(std::io::Error::other("the child's stdio was not piped"));
        };
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let mut reader = None;
        if let Some(pipe) = child.stderr.take() {
            let (tail, server) = (Arc::clone(&stderr), server.to_owned());
            // Servers log to stderr: at debug level here, and the last lines kept for errors.
            reader = Some(tokio::spawn(read_stderr(pipe, tail, server)));
        }
        Ok((ServerProcess { child, stderr, reader }, stdout, stdin))
    }

    /// The process id, while it runs.
    pub(crate) fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// How the process ended, if it has: its status and last stderr line
    /// (waiting a moment for the last lines to be read).
    pub(crate) async fn exit(this: &Mutex<Option<ServerProcess>>) -> Option<String> {
        // A closed pipe comes a moment before the exit can be read.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(500);
        let reader = loop {
            {
                let mut guard = this.lock().unwrap_or_else(PoisonError::into_inner);
                let process = guard.as_mut()?;
                if process.child.try_wait().ok().flatten().is_some() {
                    break process.reader.take();
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        };
        if let Some(reader) = reader {
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), reader).await;
        }
        this.lock().unwrap_or_else(PoisonError::into_inner).as_mut().and_then(ServerProcess::describe_exit)
    }

    fn describe_exit(&mut self) -> Option<String> {
        let status = self.child.try_wait().ok().flatten()?;
        let tail = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        Some(match tail.back() {
            Some(line) => format!("it exited ({status}): {}", printable(line)),
            None => format!("it exited ({status})"),
        })
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // The whole group: a server started through `npx` or a shell leaves no orphan behind.
        #[cfg(unix)]
        if let Some(id) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(id), nix::sys::signal::Signal::SIGKILL);
        }
        let _ = self.child.start_kill();
    }
}

/// Reads `pipe` in bounded chunks: each line is kept to its first
/// [`STDERR_LINE_BYTES`] (the rest is counted, not stored), so a server that
/// writes without end costs a few KiB.
async fn read_stderr(mut pipe: tokio::process::ChildStderr, tail: Arc<Mutex<VecDeque<String>>>, server: String) {
    let mut chunk = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let mut dropped = 0usize;
    let finish = |line: &mut Vec<u8>, dropped: &mut usize| {
        let mut text = String::from_utf8_lossy(line).into_owned();
        if *dropped > 0 {
            text.push_str(&format!("… ({} more bytes)", *dropped));
        }
        tracing::debug!(server = %server, "{}", printable(&text));
        let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
        if tail.len() == STDERR_LINES {
            tail.pop_front();
        }
        tail.push_back(text);
        line.clear();
        *dropped = 0;
    };
    loop {
        let n = match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for piece in chunk[..n].split_inclusive(|b| *b == b'\n') {
            let (body, ends) = match piece.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (piece, false),
            };
            let room = STDERR_LINE_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&body[..body.len().min(room)]);
            dropped += body.len().saturating_sub(room);
            if ends {
                finish(&mut line, &mut dropped);
            }
        }
    }
    if !line.is_empty() || dropped > 0 {
        finish(&mut line, &mut dropped);
    }
}

/// `text` with control characters escaped: a server's words never drive the terminal.
pub(crate) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
