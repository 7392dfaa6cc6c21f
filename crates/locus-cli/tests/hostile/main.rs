//! Hostile input: misbehaving servers (the emulator's faults and raw
//! sockets), misbehaving models, broken files. Every case ends in a correct
//! answer or a clear error, with an exit code that is not a panic's, in
//! bounded time and memory, printing no secret (issue 12; the numbers in
//! the names are its items).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use harness::{
    chat, chat_at, chat_with_config, chunk, chunked_head, config_file, key_fixture, locus, profile_with_key,
    raw_server, run, service,
};

const QUICK: Duration = Duration::from_secs(10);

#[test]
fn item_01_a_stream_without_its_finish_event_is_an_error_with_the_partial_answer() {
    let plain = run(&mut chat("hostile.no-finish", &["hello world"]));
    plain.assert_sane().assert_code(4).assert_faster_than(QUICK);
    assert!(plain.stdout.starts_with("hello world"), "the partial answer stays shown: {}", plain.stdout);
    assert!(
        plain.stderr.contains("without its finish event") && plain.stderr.contains("is incomplete"),
        "{}",
        plain.stderr
    );
    assert!(
        plain.stderr.lines().any(|l| l.starts_with("error: ")),
        "the error is on a line of its own: {}",
        plain.stderr
    );

    let json = run(&mut chat("hostile.no-finish", &["--json", "hello world"]));
    json.assert_sane().assert_code(4);
    let value = json.json();
    assert_eq!((value["partial"].as_bool(), value["text"].as_str()), (Some(true), Some("hello world")));
}

#[test]
fn item_02_a_cut_off_or_filtered_answer_is_not_completed() {
    let cut = run(&mut chat("hostile.length", &["--json", "tell me"]));
    cut.assert_sane().assert_code(5).assert_faster_than(QUICK);
    let value = cut.json();
    assert_eq!((value["stop_reason"].as_str(), value["finish_reason"].as_str()), (Some("max_tokens"), Some("length")));
    assert!(cut.stderr.contains("cut off") && cut.stderr.contains("--max-tokens"), "{}", cut.stderr);

    let filtered = run(&mut chat("hostile.filtered", &["--json", "tell me"]));
    filtered.assert_sane().assert_code(5);
    assert_eq!(filtered.json()["finish_reason"], "content_filter");
    assert!(filtered.stderr.contains("content filter"), "{}", filtered.stderr);

    let whole = run(&mut chat("echo", &["--json", "tell me"]));
    whole.assert_sane().assert_code(0);
    assert_eq!(
        (whole.json()["stop_reason"].as_str(), whole.json()["finish_reason"].as_str()),
        (Some("completed"), Some("stop"))
    );
}

#[test]
fn item_03_usage_in_every_chunk_does_not_end_the_answer() {
    let result = run(&mut chat("hostile.usage-every-chunk", &["--json", "hello streaming world"]));
    result.assert_sane().assert_code(0).assert_faster_than(QUICK);
    assert_eq!(result.json()["text"], "hello streaming world");
}

#[test]
fn item_04_garbage_after_the_end_leaves_the_answer_whole() {
    let result = run(&mut chat("hostile.garbage-after-end", &["--json", "all of it"]));
    result.assert_sane().assert_code(0).assert_faster_than(QUICK);
    assert_eq!(result.json()["text"], "all of it");
}

#[test]
fn item_05_an_endpoint_that_refuses_to_stream_falls_back_visibly() {
    let result = run(&mut chat("hostile.reject-stream", &["still answered"]));
    result.assert_sane().assert_code(0).assert_faster_than(QUICK);
    assert!(result.stdout.contains("still answered"), "{}", result.stdout);
    let notice: Vec<&str> = result.stderr.lines().filter(|l| l.starts_with("! ")).collect();
    assert_eq!(notice.len(), 1, "{}", result.stderr);
    assert!(notice[0].contains("Streaming is not supported") && notice[0].contains("opc-request-id"), "{}", notice[0]);

    let refused = run(&mut chat("hostile.reject-stream", &["--no-fallback", "x"]));
    refused.assert_sane().assert_code(4);
    assert!(refused.stderr.contains("turned off"), "{}", refused.stderr);
}

#[test]
fn item_06_keep_alive_comments_do_not_hold_a_stream_open() {
    let result = run(&mut chat("hostile.keep-alive", &["--idle-timeout", "1", "hello there"]));
    result.assert_sane().assert_code(4).assert_faster_than(Duration::from_secs(8));
    assert!(result.stderr.contains("no data for 1 s"), "{}", result.stderr);
}

#[test]
fn item_06_a_silent_server_costs_at_most_the_stream_deadline() {
    let url = raw_server(|socket| {
        std::thread::sleep(Duration::from_secs(30));
        drop(socket);
    });
    let result = run(&mut chat_at(&url, &["--idle-timeout", "1", "--stream-deadline", "3", "anyone?"]));
    result.assert_sane().assert_code(4).assert_faster_than(Duration::from_secs(8));
}

#[test]
fn item_06_a_stream_that_never_ends_stops_at_its_deadline() {
    let url = raw_server(|mut socket| {
        let delta = b"data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\",\"content\":[{\"type\":\"TEXT\",\"text\":\"more \"}]}}\n\n";
        if chunked_head(&mut socket, "200 OK", "text/event-stream").is_err() {
            return;
        }
        while chunk(&mut socket, delta).is_ok() {
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let result = run(&mut chat_at(&url, &["--stream-deadline", "2", "go on"]));
    result.assert_sane().assert_code(4).assert_faster_than(Duration::from_secs(8));
    assert!(result.stderr.contains("2 s deadline"), "{}", result.stderr);
    assert!(result.stdout.starts_with("more more"), "{}", result.stdout);
}

#[test]
fn item_07_an_endless_answer_stops_at_the_answer_cap() {
    // The default cap, 16 MiB.
    let result = run(&mut chat("hostile.endless", &["--json", "hello world"]));
    result.assert_sane().assert_code(4).assert_faster_than(Duration::from_secs(30));
    assert!(result.stderr.contains("passed 16777216 bytes"), "{}", result.stderr);
    assert_eq!(result.json()["partial"], true);
    eprintln!("endless answer: {} KiB peak RSS in {:?}", result.peak_rss_kib, result.elapsed);
    // A cap of one's own, with the text printed as it streams.
    let result = run(&mut chat("hostile.endless", &["--max-answer-bytes", "100000", "hello world"]));
    result.assert_sane().assert_code(4).assert_faster_than(QUICK);
    assert!(result.stderr.contains("passed 100000 bytes"), "{}", result.stderr);
    assert!(result.stdout.len() <= 100_001, "{} bytes printed", result.stdout.len());
}

#[test]
fn item_07_an_endless_whole_reply_stops_at_the_body_cap() {
    let url = raw_server(|mut socket| {
        if chunked_head(&mut socket, "200 OK", "application/json").is_err() {
            return;
        }
        let filler = vec![b' '; 64 * 1024];
        while chunk(&mut socket, &filler).is_ok() {}
    });
    let result = run(&mut chat_at(&url, &["--no-stream", "x"]));
    result.assert_sane().assert_code(4).assert_faster_than(Duration::from_secs(30));
    assert!(result.stderr.contains("exceeded 33554432 bytes"), "{}", result.stderr);
    eprintln!("endless reply: {} KiB peak RSS in {:?}", result.peak_rss_kib, result.elapsed);
}

#[test]
fn item_07_key_and_config_files_that_are_devices_are_refused_unread() {
    let (_dir, config) = config_file(&profile_with_key(Path::new("/dev/zero")));
    let key = run(&mut chat_with_config(&config, &[]));
    key.assert_sane().assert_code(3).assert_faster_than(QUICK);
    assert!(key.stderr.contains("/dev/zero") && key.stderr.contains("not a regular file"), "{}", key.stderr);

    let whole = run(&mut chat_with_config(Path::new("/dev/zero"), &[]));
    whole.assert_sane().assert_code(3).assert_faster_than(QUICK);
    assert!(whole.stderr.contains("not a regular file"), "{}", whole.stderr);
}

#[test]
fn item_08_a_huge_error_message_is_cut_for_display() {
    let result = run(&mut chat("hostile.huge-error", &["x"]));
    result.assert_sane().assert_code(4).assert_faster_than(Duration::from_secs(30));
    assert!(result.stderr.len() < 4096, "{} bytes on stderr", result.stderr.len());
    assert!(result.stderr.contains("more bytes"), "{}", result.stderr);
    assert!(result.stderr.contains("400 InvalidParameter"), "the code survives the cut: {}", result.stderr);
}

#[test]
fn item_09_a_config_with_many_profiles_parses_in_linear_time() {
    // 50,000 profiles in under 1 MiB: about 5 s when each header scanned those before it.
    let text: String = (0..50_000).map(|i| format!("[p{i}]\nregion=r\n")).collect();
    assert!(text.len() < 1024 * 1024);
    let (_dir, config) = config_file(&text);
    let result = run(&mut chat_with_config(&config, &["--profile", "p49999"]));
    result.assert_sane().assert_code(3).assert_faster_than(Duration::from_secs(2));
    assert!(result.stderr.contains("[p49999]"), "{}", result.stderr);
}

#[test]
fn item_10_a_retry_after_past_any_budget_is_an_error_not_a_panic() {
    let result = run(&mut chat("hostile.retry-after-max", &["x"]));
    result.assert_sane().assert_code(4).assert_faster_than(QUICK);
    assert!(result.stderr.contains("429"), "{}", result.stderr);
}

#[test]
fn item_11_deeply_nested_arithmetic_is_a_tool_error_the_model_sees() {
    let result = run(&mut chat("hostile.deep", &["--tools", "calculator", "--json", "compute"]));
    result.assert_sane().assert_code(0).assert_faster_than(QUICK);
    let value = result.json();
    assert_eq!(value["text"], "gave up");
    assert_eq!(value["tool_calls"][0]["is_error"], true);
    assert!(result.stderr.contains("nests deeper than 256"), "{}", result.stderr);
}

#[test]
fn item_12_a_permanent_error_is_not_retried() {
    let result = run(&mut chat_at("ftp://127.0.0.1:9/x", &["x"]));
    result.assert_sane().assert_code(3).assert_faster_than(Duration::from_secs(2));
    assert!(result.stderr.contains("use an https URL"), "{}", result.stderr);
}

#[test]
fn item_13_an_8192_bit_key_is_refused_for_what_it_is() {
    let (_dir, config) = config_file(&profile_with_key(&key_fixture("rsa8192-pkcs1.pem")));
    let result = run(&mut chat_with_config(&config, &[]));
    result.assert_sane().assert_code(3).assert_faster_than(QUICK);
    assert!(result.stderr.contains("larger than 4096 bits"), "{}", result.stderr);
}

#[test]
fn item_14_a_region_that_is_not_a_region_never_becomes_a_host() {
    let service = service();
    for how in [&["--region", "evil.example.com#"][..], &[][..]] {
        let mut command = locus();
        command.arg("chat").arg("--config-file").arg(&service.config_file);
        command.args(["--model", "oci:meta.llama-3.3-70b-instruct", "--compartment-id", "c"]).args(how).arg("x");
        if how.is_empty() {
            command.env("LOCUS_OCI_REGION", "evil.example.com#");
        }
        let result = run(&mut command);
        result.assert_sane().assert_code(3).assert_faster_than(QUICK);
        assert!(result.stderr.contains("is not an OCI region"), "{}", result.stderr);
    }
}

#[test]
fn item_15_a_signed_request_over_plain_http_off_loopback_is_refused() {
    let result = run(&mut chat_at("http://genai.example.com", &["x"]));
    result.assert_sane().assert_code(3).assert_faster_than(QUICK);
    assert!(result.stderr.contains("--allow-http"), "{}", result.stderr);
    let raw = run(locus().arg("raw-request").arg("--config-file").arg(&service().config_file).args([
        "--method",
        "GET",
        "--target-uri",
        "http://iaas.example.com/x",
    ]));
    raw.assert_sane().assert_code(2);
    assert!(raw.stderr.contains("--allow-http"), "{}", raw.stderr);
}

#[test]
fn item_16_control_characters_from_the_server_never_reach_the_terminal() {
    // An error message carrying escape sequences, on stderr.
    let url = raw_server(|mut socket| {
        let body = "{\"code\":\"InvalidParameter\",\"message\":\"bad \\u001b[2J\\u001b]0;owned\\u0007 input\"}";
        let head = format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let _ = socket.write_all(head.as_bytes());
        let _ = socket.write_all(body.as_bytes());
    });
    let result = run(&mut chat_at(&url, &["x"]));
    result.assert_sane().assert_code(4);
    assert!(!result.stderr.contains('\u{1b}') && !result.stderr.contains('\u{7}'), "{:?}", result.stderr);
    assert!(result.stderr.contains("\\u{1b}[2J"), "{}", result.stderr);

    // Model text on a terminal (a pseudo-terminal made by `script`).
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("`script` is not installed: the terminal half of this case is skipped");
        return;
    }
    let command = chat("hostile.escapes", &["say it"]);
    let line: Vec<String> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy().replace('\'', "'\\''")))
        .collect();
    let mut script = std::process::Command::new("script");
    harness::isolate(&mut script);
    script.args(["-qec", &line.join(" "), "/dev/null"]);
    let result = run(&mut script);
    assert_eq!(result.code, Some(0), "{}\n{}", result.stdout, result.stderr);
    assert!(result.stdout.contains("red \\u{1b}[31mALERT"), "{:?}", result.stdout);
    assert!(!result.stdout.contains('\u{1b}') && !result.stdout.contains('\u{7}'), "{:?}", result.stdout);
}

#[test]
fn item_17_the_emulator_refuses_an_oversized_request() {
    let body = vec![b'{'; 17 * 1024 * 1024];
    let url = format!("{}/20231130/actions/chat", service().url);
    let mut socket = TcpStream::connect(url.trim_start_matches("http://").split('/').next().unwrap()).unwrap();
    let head = format!("POST /20231130/actions/chat HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n", body.len());
    socket.write_all(head.as_bytes()).unwrap();
    let _ = socket.write_all(&body);
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut socket, &mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{}", answer.lines().next().unwrap_or_default());
}

#[test]
fn item_18_oci_log_requests_alone_shows_the_request_log_and_rust_log_works() {
    let logged = run(chat("echo", &["hi"]).env("OCI_LOG_REQUESTS", "1"));
    logged.assert_sane().assert_code(0);
    // A plain sentence with its fields, no timestamp or module path.
    assert!(
        logged.stderr.contains("note: OCI GenAI request (") && logged.stderr.contains("status: 200"),
        "{}",
        logged.stderr
    );
    assert!(!logged.stderr.contains("oci_genai_transport::"), "{}", logged.stderr);
    assert!(logged.stderr.contains("opc_request_id"), "{}", logged.stderr);

    let traced = run(chat("echo", &["hi"]).env("RUST_LOG", "trace").env("OCI_LOG_REQUESTS", "1"));
    traced.assert_sane().assert_code(0);
    assert!(traced.stderr.contains("TRACE"), "RUST_LOG is read");
    assert!(traced.stderr.contains("<redacted>"), "{}", traced.stderr);

    let quiet = run(&mut chat("echo", &["hi"]));
    assert!(!quiet.stderr.contains("OCI GenAI request"), "{}", quiet.stderr);
}

#[test]
fn item_19_every_crate_ships_its_license_texts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for dir in [
        "",
        "crates/oci-auth",
        "crates/oci-genai-transport",
        "crates/locus-providers",
        "crates/locus-agent",
        "crates/oci-genai-emulator",
        "crates/locus-cli",
    ] {
        for file in ["LICENSE-UPL", "LICENSE-APACHE"] {
            let path = root.join(dir).join(file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(text.len() > 1000, "{}", path.display());
        }
    }
}
