//! The emulator's MCP server (`oci_genai_emulator::mcp`) as a program for
//! the scenarios: over stdio by default; `--http 127.0.0.1:0 [--token T]`
//! over streamable HTTP, printing `listening on http://ADDR/mcp` first.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    match flag("--http") {
        Some(address) => oci_genai_emulator::mcp::serve_http(&address, flag("--token")),
        None => oci_genai_emulator::mcp::serve_stdio(),
    }
}
