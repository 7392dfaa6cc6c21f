//! Local files and headers (issue 25, items 12 to 15): planted symlinks,
//! secrets written private, header values checked before anything is
//! sent, and a whole reply to a streaming request used as the answer.

use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::{chat_at, fixtures, locus, raw_server, run};

#[test]
fn item_12_session_writes_follow_no_planted_symlink() {
    let data = tempfile::tempdir().unwrap();
    let sessions = data.path().join("locus/sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let victim = data.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    // The old temporary name (pid-based), and the session file itself, both planted as links.
    for pid in 0..64 {
        let _ = std::os::unix::fs::symlink(&victim, sessions.join(format!("work.json.{pid}.partial")));
    }
    std::os::unix::fs::symlink(&victim, sessions.join("work.json")).unwrap();
    let result =
        run(locus().env("XDG_DATA_HOME", data.path()).args(["chat", "--emulator", "--session", "fresh", "hello"]));
    result.assert_sane().assert_code(0);
    let planted =
        run(locus().env("XDG_DATA_HOME", data.path()).args(["chat", "--emulator", "--session", "work", "hi"]));
    planted.assert_sane();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "the planted link was written through");
    assert_eq!(std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777, 0o644, "nor chmod-ed");
    let saved = sessions.join("fresh.json");
    assert_eq!(std::fs::symlink_metadata(&saved).unwrap().permissions().mode() & 0o777, 0o600);

    // A sessions directory that is a link to someone's directory: used, its mode left alone.
    let data = tempfile::tempdir().unwrap();
    let shared = data.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(data.path().join("locus")).unwrap();
    std::os::unix::fs::symlink(&shared, data.path().join("locus/sessions")).unwrap();
    let result =
        run(locus().env("XDG_DATA_HOME", data.path()).args(["chat", "--emulator", "--session", "linked", "hello"]));
    result.assert_sane().assert_code(0);
    assert_eq!(std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777, 0o755);
}

#[test]
fn item_13_emulator_serve_writes_its_secrets_0600() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut child = locus()
        .args(["emulator", "serve", "--state-dir"])
        .arg(&state)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let _ = lines.next();
    let _ = lines.next();
    let mode = |name: &str| std::fs::metadata(state.join(name)).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    let started = std::time::Instant::now();
    while mode("genai-api-key") == 0 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((mode("key.pem"), mode("genai-api-key"), mode("config")), (0o600, 0o600, 0o600));
    assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o700);
}

/// An upstream that counts its requests and sends nothing back.
fn counting_upstream(count: &'static AtomicUsize) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    url
}

#[test]
fn item_14_header_values_from_settings_are_checked_before_sending() {
    static REQUESTS: AtomicUsize = AtomicUsize::new(0);
    let url = counting_upstream(&REQUESTS);
    for (variable, value) in
        [("LOCUS_OCI_GENAI_API_KEY", "sk\r\nx-injected: 1"), ("OCI_GENAI_PROJECT_ID", "project\r\nx-injected: 1")]
    {
        let mut command = locus();
        command.env(variable, value);
        if variable != "LOCUS_OCI_GENAI_API_KEY" {
            command.env("LOCUS_OCI_GENAI_API_KEY", "sk-fine");
        }
        command.args(["chat", "--service-endpoint", &url, "--model", "meta.llama-3.3-70b-instruct"]);
        command.args(["--compartment-id", "c", "--transport", "chat-completions", "--max-retries", "0", "hi"]);
        let result = run(&mut command);
        result.assert_sane().assert_code(3);
        assert!(result.stderr.contains("control character"), "{variable}: {}", result.stderr);
        assert!(!result.stderr.contains("x-injected"), "the value is not echoed: {}", result.stderr);
    }
    assert_eq!(REQUESTS.load(Ordering::SeqCst), 0, "nothing was sent");
}

static WHOLE_REPLIES: AtomicUsize = AtomicUsize::new(0);

fn whole_reply(mut socket: std::net::TcpStream) {
    use std::io::Write;
    WHOLE_REPLIES.fetch_add(1, Ordering::SeqCst);
    let body = std::fs::read_to_string(fixtures().join("whole-reply.json")).unwrap();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nopc-request-id: whole\r\n\r\n",
        body.len()
    );
    let _ = socket.write_all(head.as_bytes()).and_then(|()| socket.write_all(body.as_bytes()));
}

#[test]
fn item_15_a_whole_json_reply_to_a_streaming_request_is_the_answer() {
    let url = raw_server(whole_reply);
    let result = run(&mut chat_at(&url, &["what now?"]));
    result.assert_sane().assert_code(0);
    assert!(result.stdout.contains("the whole answer at once"), "{}", result.stdout);
    assert!(result.stderr.contains("read as the whole answer"), "announced: {}", result.stderr);
    assert_eq!(WHOLE_REPLIES.load(Ordering::SeqCst), 1, "the request was not sent again");
}
