//! MCP servers as hostile peers (issue 25, items 8 to 11), played by
//! `fixtures/hostile_mcp.py`, a server written without an MCP library.

use std::time::Duration;

use crate::harness::{chat, fixtures, run};

/// `--mcp` for the hostile server in `mode`.
fn server(mode: &str, marker: Option<&std::path::Path>) -> String {
    let script = fixtures().join("hostile_mcp.py");
    let marker = marker.map(|m| format!(" '{}'", m.display())).unwrap_or_default();
    format!("python3 '{}' {mode}{marker}", script.display())
}

/// No escape sequence, bell or other control byte but newlines reached the terminal.
fn assert_no_controls(text: &str) {
    assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "control bytes: {text:?}");
}

fn ran(marker: &std::path::Path) -> String {
    std::fs::read_to_string(marker).unwrap_or_default()
}

#[test]
fn item_08_read_only_hints_are_not_trust() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let mcp = server("hints", Some(&marker));
    for tool in ["wipe", "peek"] {
        let result = run(&mut chat("tool-caller", &["--mcp", &mcp, &format!("use {tool} on \"x\"")]));
        result.assert_sane().assert_code(0);
        assert!(result.stderr.contains(&format!("`{tool}` was not run")), "{}", result.stderr);
    }
    assert_eq!(ran(&marker), "", "an untrusted server's hints let nothing run unasked");

    // Trusted in the defaults file: the read-only tool runs, the destructive one still does not.
    let config = dir.path().join("config.toml");
    let command: Vec<String> = vec![
        "python3".into(),
        fixtures().join("hostile_mcp.py").display().to_string(),
        "hints".into(),
        marker.display().to_string(),
    ];
    std::fs::write(
        &config,
        format!(
            "[mcp.servers.hostile]\ncommand = {}\ntrust = \"read-only-hints\"\n",
            serde_json::to_string(&command).unwrap()
        ),
    )
    .unwrap();
    let locus_config = config.to_str().unwrap();
    for tool in ["peek", "wipe"] {
        let result = run(&mut chat("tool-caller", &["--locus-config", locus_config, &format!("use {tool} on \"x\"")]));
        result.assert_sane().assert_code(0);
    }
    assert_eq!(ran(&marker), "peek\n", "destructiveHint is never safe");
    let yes = run(&mut chat("tool-caller", &["--mcp", &mcp, "--yes", "use wipe on \"x\""]));
    yes.assert_sane().assert_code(0);
    assert_eq!(ran(&marker), "peek\nwipe\n");
}

#[test]
fn item_09_nothing_from_a_server_drives_the_terminal() {
    let mcp = server("escapes", None);
    let listed = run(&mut chat("tool-caller", &["--mcp", &mcp, "hello"]));
    listed.assert_sane().assert_code(0);
    assert!(
        listed.stdout.contains("evil__0_owned___2J__31mname"),
        "the name is cut to safe characters: {}",
        listed.stdout
    );
    let refused = run(&mut chat("tool-caller", &["--mcp", &mcp, "use evil__0_owned___2J__31mname on \"x\""]));
    refused.assert_sane().assert_code(0);
    assert!(refused.stderr.contains("was not run"), "{}", refused.stderr);
    assert_no_controls(&refused.stderr);
    let died = run(&mut chat("tool-caller", &["--mcp", &mcp, "--yes", "use evil__0_owned___2J__31mname on \"x\""]));
    died.assert_sane();
    assert!(died.stderr.contains("stopped working") && died.stderr.contains("dying"), "{}", died.stderr);
    assert_no_controls(&died.stderr);

    let list_error = run(&mut chat("tool-caller", &["--mcp", &server("list-error", None), "hello"]));
    list_error.assert_sane().assert_code(0);
    assert!(list_error.stderr.contains("cannot list its tools"), "{}", list_error.stderr);
    assert_no_controls(&list_error.stderr);
}

#[test]
fn item_10_a_flooding_server_costs_kilobytes_and_a_huge_result_fails_at_once() {
    // 200 MB of stderr without a newline: read in bounded chunks (assert_sane caps the peak RSS at 256 MiB).
    let flood = run(&mut chat("tool-caller", &["--mcp", &server("stderr-flood", None), "--yes", "use echo on \"x\""]));
    flood.assert_sane().assert_code(0);
    assert!(flood.peak_rss_kib < 64 * 1024, "peak RSS {} KiB", flood.peak_rss_kib);
    assert!(flood.stdout.contains("ran echo"), "{}", flood.stdout);

    // A 17 MiB answer: past what the SDK reads, so the call fails now, not at its 60 s timeout.
    let huge = run(&mut chat("tool-caller", &["--mcp", &server("huge-result", None), "--yes", "use echo on \"x\""]));
    huge.assert_sane().assert_faster_than(Duration::from_secs(20));
    assert!(huge.stderr.contains("larger than 16 MiB"), "{}", huge.stderr);
}

#[test]
fn item_11_an_http_server_that_refuses_the_token_says_so() {
    let mut server = Killed(
        std::process::Command::new(env!("CARGO_BIN_EXE_locus"))
            .args(["emulator", "mcp-server", "--http", "127.0.0.1:0", "--token", "right"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.0.stdout.take().unwrap()));
    let first = lines.next().unwrap().unwrap();
    let url = first.rsplit(' ').next().unwrap().to_owned();
    let mut wrong = chat("tool-caller", &["--mcp-url", &url, "--mcp-bearer-env", "MCP_TOKEN", "hello"]);
    let result = run(wrong.env("MCP_TOKEN", "wrong"));
    result.assert_sane().assert_code(0);
    assert!(result.stderr.contains(&format!("the MCP server at {url} refused the token (401)")), "{}", result.stderr);
    assert!(!result.stderr.contains("Transport") && !result.stderr.contains("worker quit"), "{}", result.stderr);
    let mut right = chat("tool-caller", &["--mcp-url", &url, "--mcp-bearer-env", "MCP_TOKEN", "please echo \"hi\""]);
    let result = run(right.env("MCP_TOKEN", "right").arg("--yes"));
    result.assert_sane().assert_code(0);
    assert!(result.stdout.contains("echo: hi"), "{}{}", result.stdout, result.stderr);
    let unset = run(&mut chat("tool-caller", &["--mcp-url", &url, "--mcp-bearer-env", "NOT_SET", "hello"]));
    unset.assert_sane().assert_code(2);
    assert!(unset.stderr.contains("--mcp-bearer-env NOT_SET"), "{}", unset.stderr);
}

/// A child process, killed when dropped (a failed assertion included).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
