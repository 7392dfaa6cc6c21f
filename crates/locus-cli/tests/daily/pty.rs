//! A child process on a pseudo-terminal, as a person would run it,
//! through util-linux `script`: the program gets a terminal on all three
//! standard streams as its controlling one, so Ctrl-C typed into it
//! (`\x03`) becomes SIGINT, and `isatty` is true.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub struct Pty {
    input: ChildStdin,
    child: Child,
    output: Receiver<Vec<u8>>,
    seen: Vec<u8>,
    /// How much of `seen` `expect` has consumed.
    consumed: usize,
}

/// `arg` quoted for `sh`.
fn quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}

impl Pty {
    /// Runs `program args` with `home` as HOME and only `vars` besides PATH.
    pub fn spawn(program: &str, args: &[String], home: &Path, vars: &[(&str, &str)]) -> Pty {
        // `exec`: no shell stays between, to be interrupted by Ctrl-C in the program's stead.
        let quoted: Vec<String> = std::iter::once(program).chain(args.iter().map(String::as_str)).map(quote).collect();
        let line = format!("exec {}", quoted.join(" "));
        let mut child = Command::new("script")
            .args(["--quiet", "--return", "--flush", "--command", &line, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("TERM", "xterm")
            .envs(vars.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("util-linux `script` runs programs on a pseudo-terminal");
        let input = child.stdin.take().unwrap();
        let mut reader = child.stdout.take().unwrap();
        let (sender, output) = channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 || sender.send(buffer[..n].to_vec()).is_err() {
                    return;
                }
            }
        });
        Pty { input, child, output, seen: Vec::new(), consumed: 0 }
    }

    /// Types `text`.
    pub fn send(&mut self, text: &str) {
        self.input.write_all(text.as_bytes()).unwrap();
        self.input.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }

    fn pump(&mut self, wait: Duration) {
        if let Ok(bytes) = self.output.recv_timeout(wait) {
            self.seen.extend(bytes);
        }
        while let Ok(bytes) = self.output.try_recv() {
            self.seen.extend(bytes);
        }
    }

    /// Waits until `text` appears after what earlier calls found.
    pub fn expect(&mut self, text: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let seen = String::from_utf8_lossy(&self.seen[self.consumed..]).into_owned();
            if let Some(at) = seen.find(text) {
                self.consumed += seen[..at + text.len()].len();
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "`{text}` did not appear within {within:?}; seen: {:?}", self.seen());
            self.pump(left.min(Duration::from_millis(100)));
        }
    }

    /// Everything printed so far.
    pub fn seen(&mut self) -> String {
        self.pump(Duration::from_millis(10));
        String::from_utf8_lossy(&self.seen).into_owned()
    }

    /// The exit code, once the child has ended (`None`: still running after `within`, then killed).
    pub fn wait(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            self.pump(Duration::from_millis(20));
            if let Ok(Some(status)) = self.child.try_wait() {
                self.pump(Duration::from_millis(50));
                return status.code().or_else(|| {
                    use std::os::unix::process::ExitStatusExt;
                    status.signal().map(|s| 128 + s)
                });
            }
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
