//! A small Model Context Protocol server, written without any MCP library,
//! for offline runs (`locus emulator mcp-server`) and for checking MCP clients
//! against the wire: JSON-RPC over stdio (one message per line), or
//! streamable HTTP answered with JSON.
//!
//! Tools: `echo {text}` (read-only), `add {a, b}` (read-only; structured
//! content), `fail {}` (an error result), `crash {}` (exits mid-call),
//! `hang {}` (never answers), `garbage {}` (answers a line that is not JSON).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use serde_json::{Value, json};

fn tools() -> Value {
    let text = json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]});
    let numbers = json!({
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"]
    });
    let none = json!({"type": "object", "properties": {}});
    json!([
        {"name": "echo", "description": "Repeats the text.", "inputSchema": text, "annotations": {"readOnlyHint": true}},
        {"name": "add", "description": "Adds two numbers.", "inputSchema": numbers, "annotations": {"readOnlyHint": true}},
        {"name": "fail", "description": "Always fails.", "inputSchema": none},
        {"name": "crash", "description": "Exits while answering.", "inputSchema": none},
        {"name": "hang", "description": "Never answers.", "inputSchema": none},
        {"name": "garbage", "description": "Answers with a line that is not JSON.", "inputSchema": none},
    ])
}

enum Answer {
    /// A JSON-RPC message to send.
    Message(Value),
    /// Nothing: the message was a notification.
    Nothing,
    /// A line that is not JSON.
    Garbage,
    /// Never an answer.
    Hang,
}

fn handle(message: &Value) -> Answer {
    let Some(id) = message.get("id").cloned() else { return Answer::Nothing };
    let params = &message["params"];
    let result = match message["method"].as_str().unwrap_or_default() {
        "initialize" => json!({
            "protocolVersion": params["protocolVersion"].as_str().filter(|v| *v <= "2025-11-25").unwrap_or("2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "locus-emulator-mcp", "version": "1.0.0"}
        }),
        "ping" => json!({}),
        "tools/list" => json!({"tools": tools()}),
        "tools/call" => {
            let arguments = &params["arguments"];
            match params["name"].as_str().unwrap_or_default() {
                "echo" => {
                    json!({"content": [{"type": "text", "text": format!("echo: {}", arguments["text"].as_str().unwrap_or_default())}]})
                }
                "add" => {
                    let sum = arguments["a"].as_f64().unwrap_or_default() + arguments["b"].as_f64().unwrap_or_default();
                    json!({"content": [{"type": "text", "text": sum.to_string()}], "structuredContent": {"sum": sum}})
                }
                "fail" => json!({"content": [{"type": "text", "text": "it failed"}], "isError": true}),
                "crash" => std::process::exit(3),
                "hang" => return Answer::Hang,
                "garbage" => return Answer::Garbage,
                other => {
                    return Answer::Message(json!({
                        "jsonrpc": "2.0", "id": id,
                        "error": {"code": -32602, "message": format!("unknown tool: {other}")}
                    }));
                }
            }
        }
        other => {
            return Answer::Message(json!({
                "jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": format!("method not found: {other}")}
            }));
        }
    };
    Answer::Message(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

/// Serves MCP over this process's stdin and stdout until stdin closes.
pub fn serve_stdio() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return };
        let Ok(message) = serde_json::from_str::<Value>(&line) else { continue };
        let written = match handle(&message) {
            Answer::Message(answer) => writeln!(stdout, "{answer}"),
            Answer::Garbage => writeln!(stdout, "this is not JSON"),
            Answer::Nothing | Answer::Hang => Ok(()),
        };
        if written.and_then(|()| stdout.flush()).is_err() {
            return;
        }
    }
}

/// Serves MCP over streamable HTTP at `address` (JSON answers, a session id),
/// printing `listening on http://ADDR/mcp` first; with `token`, requests need
/// `Authorization: Bearer <token>`. Runs until the process ends.
pub fn serve_http(address: &str, token: Option<String>) {
    let listener = match TcpListener::bind(address) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {address}: {e}");
            return;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on http://{local}/mcp"),
        Err(e) => eprintln!("error: {e}"),
    }
    let _ = std::io::stdout().flush();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let token = token.clone();
        std::thread::spawn(move || {
            let Ok(read_half) = stream.try_clone() else { return };
            let mut reader = BufReader::new(read_half);
            let mut stream = stream;
            loop {
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    return;
                }
                let method = request_line.split_whitespace().next().unwrap_or_default().to_owned();
                let (mut length, mut authorization) = (0, None);
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 {
                        return;
                    }
                    if header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        match name.trim().to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "authorization" => authorization = Some(value.trim().to_owned()),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let reply = |status: &str, headers: &str, body: &str| {
                    format!("HTTP/1.1 {status}\r\n{headers}content-length: {}\r\n\r\n{body}", body.len())
                };
                let expected = token.as_ref().map(|t| format!("Bearer {t}"));
                let response = if expected.is_some() && authorization != expected {
                    reply("401 Unauthorized", "", "")
                } else if method != "POST" {
                    reply(if method == "DELETE" { "200 OK" } else { "405 Method Not Allowed" }, "", "")
                } else {
                    match serde_json::from_slice::<Value>(&body).map(|m| handle(&m)) {
                        Ok(Answer::Message(answer)) => reply(
                            "200 OK",
                            "content-type: application/json\r\nmcp-session-id: test-session\r\n",
                            &answer.to_string(),
                        ),
                        Ok(Answer::Garbage) => reply("200 OK", "content-type: application/json\r\n", "not json"),
                        Ok(Answer::Hang) => {
                            std::thread::park();
                            return;
                        }
                        Ok(Answer::Nothing) => reply("202 Accepted", "", ""),
                        Err(_) => reply("400 Bad Request", "", ""),
                    }
                };
                if stream.write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        });
    }
}
