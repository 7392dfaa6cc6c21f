//! A stdio server's process: its own process group (so whatever it starts
//! goes with it), killed when dropped, and the tail of its stderr kept to
//! say why it died.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout};

/// The last stderr lines kept.
const STDERR_LINES: usize = 20;

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
            reader = Some(tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(pipe).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(server = %server, "{line}");
                    let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
                    if tail.len() == STDERR_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }));
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
            Some(line) => format!("it exited ({status}): {line}"),
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
