//! `docs/perf.md` from one run's figures: ours, the SDK's and the floor's, beside each other.

use std::process::Command;

use serde_json::Value;

use super::run;

pub(super) fn report(machine: &str, ours: &Value, peer: &Value) -> String {
    let number = |v: &Value, key: &str| v.get(key).and_then(Value::as_f64);
    let fmt = |v: Option<f64>, digits: usize| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.digits$}"));
    let ratio = |key: &str| match (number(ours, key), number(peer, key)) {
        (Some(a), Some(b)) if a > 0.0 => format!("{:.0}× less", b / a),
        _ => "—".into(),
    };
    let times = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.1}×", a / b),
        _ => "—".into(),
    };
    let peer_note = match peer.get("skipped").and_then(Value::as_str) {
        Some(why) => format!("The Python SDK peer was skipped: {why}."),
        None => format!(
            "Peer: the official OCI Python SDK {} in the same run.",
            peer.get("sdk").and_then(Value::as_str).unwrap_or("?")
        ),
    };
    let date = run(Command::new("date").arg("-u").arg("+%Y-%m-%d"), "date").unwrap_or_default();
    format!(
        "# Performance\n\n\
         Measured by `cargo xtask bench` on {date_trim}: {machine}.\n\n\
         The emulator (`locus emulator serve`, release build) runs in its own process on 127.0.0.1, so client\n\
         and server costs are separate. Streams are GENERIC chat streams of one-character text deltas\n\
         (10,000 events per stream), each event's JSON parsed by the client, as a real client does; every\n\
         figure is the native API's unless it says otherwise.\n\
         {peer_note}\n\n\
         ## What users run, beside the SDK and the floor\n\n\
         One 50,000-event stream. `locus chat --json` is the whole process (user + system CPU of the child, as\n\
         the kernel accounts it: start-up, config, key, signing, streaming, the answer's JSON). The floor\n\
         (`crates/oci-genai-transport/examples/floor_reader.rs`) sends the same signed request over a blocking\n\
         socket and only counts events, stopping at the finish event: the least any client must spend. It is\n\
         measured twice: as a whole process, the same way as `locus chat`, and on its streams alone (its\n\
         start-up and a warm-up stream left out). The SDK figure is its streams alone, each event's JSON parsed.\n\n\
         | CPU per 1,000 events | `locus chat --json` | Python SDK | floor, whole process | locus / floor | floor, streams alone | locus / that |\n|---|---|---|---|---|---|---|\n\
         | 1 event per write | {c1} ms | {pc1} ms | {fp1} ms | {cfp1} | {f1} ms | {cf1} |\n\
         | 64 events per write | {c64} ms | {pc64} ms | {fp64} ms | {cfp64} | {f64_} ms | {cf64} |\n\n\
         The same stream through the OpenAI-compatible API (`--transport chat-completions`: OpenAI chunks\n\
         ending with `[DONE]`), the whole `locus chat --json` process: {cc1} ms per 1,000 events at 1 per\n\
         write ({ccr1} native), {cc64} ms at 64 per write ({ccr64} native).\n\n\
         The library on a 2-worker multi-thread runtime (as `#[tokio::main]` gives), 10,000-event streams:\n\
         {m1} ms per 1,000 events at 1 per write ({mr1}× current-thread), {m64} ms at 64 per write ({mr64}×).\n\
         Targets (issue 14): `locus chat` ≤ 1.2× the floor at 1 event per write and ≤ 1.5× at 64; a\n\
         multi-thread runtime ≤ 1.3× current-thread.\n\n\
         ## The library, current-thread runtime\n\n\
         | figure | locus-rs | Python SDK | |\n|---|---|---|---|\n\
         | client CPU per 1,000 events, 1 event per write | {a1} ms | {p1} ms | {r1} |\n\
         | client CPU per 1,000 events, 64 events per write | {a64} ms | {p64} ms | {r64} |\n\
         | single stream, events/s (64 per write, no delay) | {eps} | {peps} | |\n\
         | time to first event, median, 100-event stream | {ttft} ms | {pttft} ms | |\n\
         | 1,000 concurrent streams: peak RSS | {rss} MiB | | |\n\
         | 1,000 concurrent streams: client CPU | {ccpu} ms for {cev} events | | |\n\
         | agent tool round trip (2 model calls, 1 tool), client CPU | {agent} ms | | |\n\
         | agent tool round trips/s | {aps} | | |\n\
         | embeddings: 1,000 inputs (96 a call), client CPU | {ecpu} ms | {pecpu} ms | {eratio} |\n\
         | embeddings: inputs/s (4 calls in flight; the SDK, one at a time) | {erate} | {perate} | |\n\n\
         ## The gateway (`locus serve`)\n\n\
         In front of the same emulator, an OpenAI client (`crates/locus-gateway/examples/gateway_reader.rs`,\n\
         counting chunks) streaming through it. The gateway's own CPU per streamed event — what it adds to a\n\
         direct `locus-providers` client, whose figure is the library's above: {g1} µs at 1 event per write,\n\
         {g64} µs at 64 (target ≤ 1 µs); its peak RSS after 1,000 concurrent streams: {grss} MiB (target ≤ 128).\n\
         A fresh gateway holding 10,000 idle connections (half of them with half a request head sent, as a\n\
         slow-loris client leaves them): {gidle} MiB resident, from {gidle0} MiB before.\n\n\
         ## MCP tool calls\n\n\
         5,000 sequential calls of `echo` on `locus emulator mcp-server` over stdio\n\
         (`crates/locus-agent/examples/mcp_bench.rs`): through an `McpTools` tool on a 2-worker runtime,\n\
         {mw} µs per call, {mc} µs of client CPU; the floor — the same JSON-RPC lines written and read by\n\
         hand on one blocking thread — {fw} µs and {fc} µs. What `rmcp` adds (its service task, channels\n\
         and message types) is the difference, {md} µs of CPU a call: nothing beside a model call's\n\
         milliseconds.\n\n\
         Targets (issue 8): CPU per 1,000 events at most 1/20 of the SDK's; ≥ 1,000,000 events/s on one\n\
         stream when the emulator batches; ≤ 64 MiB RSS for 1,000 concurrent streams; an agent tool round\n\
         trip under 1 ms of client CPU. Micro-benchmarks: `cargo bench` (SSE parsing, signing, accumulation,\n\
         agent overhead) — see docs/transport.md, docs/auth.md, docs/providers.md and docs/agent.md.\n\n\
         ## What limits these figures\n\n\
         - **No hop per chunk.** A stream owns its HTTP/1.1 connection (`oci-genai-transport`'s `h1`): it reads\n\
           the socket in its own `poll` and takes the chunked framing apart in place, so it wakes only when the\n\
           socket has data, on a current-thread or a multi-thread runtime alike. Through reqwest, each chunk\n\
           crossed from hyper's connection task to the reader's: an `epoll_wait` and a task switch per event at\n\
           one event per write (50,022 `epoll_wait`s for 50,000 events; now about 600).\n\
         - **Per event** the client parses the chunk's JSON (the GENERIC view: ~40% of the process's CPU at 64\n\
           per write, `perf record`), splits the SSE lines and allocates the event's text; the floor does none\n\
           of this, which is most of the gap to it. `cargo bench --bench sse` and `-p locus-providers --bench\n\
           accumulate` measure these parts alone.\n\
         - **A faster JSON reader does not close it.** The chunk is already read as a field subset\n\
           (`locus-providers` `shape/chunk_view.rs`: text borrowed, unknown fields skipped, no list built):\n\
           140–190 ns a chunk with serde_json on this CPU. `sonic-rs` 0.5 reading the same borrowed view\n\
           through serde took 235–370 ns (1.6–1.9× slower; `-C target-cpu=native` did not change the order)\n\
           on 81–129-byte chunks, measured 2026-12-04, so serde_json stays. Parsing exactly is ~40% of the\n\
           gap to a floor that parses nothing.\n\
         - **Chat completions** chunks carry `id`, `object`, `created` and `model` in every event: about\n\
           180 bytes per one-character delta against the native ~100, which the client scans and parses; the signing,\n\
           connection and SSE path is shared with native, so the bytes are the likely\n\
           cause of the gap above.\n\
         - **Start-up**: the `locus` process spends ~3 ms before its first byte is sent (config, key, signing,\n\
           runtime), ~0.07 ms per 1,000 events of a 50,000-event stream.\n\
         - **Single stream**: client and emulator share the machine's 2 cores, and the emulator serialises\n\
           every event's JSON.\n\
         - **Agent round trip**: two model calls mean two RSA-2048 signatures: ~0.21 ms each with AWS-LC (the\n\
           default above `oci-auth`), ~0.43 ms with ring, on this CPU (`cargo bench -p oci-auth --bench sign\n\
           --features aws-lc-rs`); the second call reuses the first's kept connection.\n\
         - The emulator sets `TCP_NODELAY`; without it, Nagle and delayed ACKs added ~40 ms to the first event.\n",
        date_trim = date.trim(),
        c1 = fmt(number(ours, "process_cpu_ms_per_1000_events_1_per_write"), 3),
        c64 = fmt(number(ours, "process_cpu_ms_per_1000_events_64_per_write"), 3),
        pc1 = fmt(number(peer, "cpu_ms_per_1000_events_50k_1_per_write"), 2),
        pc64 = fmt(number(peer, "cpu_ms_per_1000_events_50k_64_per_write"), 2),
        f1 = fmt(number(ours, "floor_cpu_ms_per_1000_events_1_per_write"), 3),
        fp1 = fmt(number(ours, "floor_process_cpu_ms_per_1000_events_1_per_write"), 3),
        fp64 = fmt(number(ours, "floor_process_cpu_ms_per_1000_events_64_per_write"), 3),
        cfp1 = times(
            number(ours, "process_cpu_ms_per_1000_events_1_per_write"),
            number(ours, "floor_process_cpu_ms_per_1000_events_1_per_write")
        ),
        cfp64 = times(
            number(ours, "process_cpu_ms_per_1000_events_64_per_write"),
            number(ours, "floor_process_cpu_ms_per_1000_events_64_per_write")
        ),
        f64_ = fmt(number(ours, "floor_cpu_ms_per_1000_events_64_per_write"), 3),
        cf1 = times(
            number(ours, "process_cpu_ms_per_1000_events_1_per_write"),
            number(ours, "floor_cpu_ms_per_1000_events_1_per_write")
        ),
        cf64 = times(
            number(ours, "process_cpu_ms_per_1000_events_64_per_write"),
            number(ours, "floor_cpu_ms_per_1000_events_64_per_write")
        ),
        cc1 = fmt(number(ours, "chat_completions_process_cpu_ms_per_1000_events_1_per_write"), 3),
        cc64 = fmt(number(ours, "chat_completions_process_cpu_ms_per_1000_events_64_per_write"), 3),
        ccr1 = times(
            number(ours, "chat_completions_process_cpu_ms_per_1000_events_1_per_write"),
            number(ours, "process_cpu_ms_per_1000_events_1_per_write")
        ),
        ccr64 = times(
            number(ours, "chat_completions_process_cpu_ms_per_1000_events_64_per_write"),
            number(ours, "process_cpu_ms_per_1000_events_64_per_write")
        ),
        m1 = fmt(number(ours, "multi_thread_cpu_ms_per_1000_events_1_per_write"), 3),
        m64 = fmt(number(ours, "multi_thread_cpu_ms_per_1000_events_64_per_write"), 3),
        mr1 = fmt(
            number(ours, "multi_thread_cpu_ms_per_1000_events_1_per_write")
                .zip(number(ours, "cpu_ms_per_1000_events_1_per_write"))
                .map(|(m, c)| m / c),
            2
        ),
        mr64 = fmt(
            number(ours, "multi_thread_cpu_ms_per_1000_events_64_per_write")
                .zip(number(ours, "cpu_ms_per_1000_events_64_per_write"))
                .map(|(m, c)| m / c),
            2
        ),
        a1 = fmt(number(ours, "cpu_ms_per_1000_events_1_per_write"), 3),
        p1 = fmt(number(peer, "cpu_ms_per_1000_events_1_per_write"), 2),
        r1 = ratio("cpu_ms_per_1000_events_1_per_write"),
        a64 = fmt(number(ours, "cpu_ms_per_1000_events_64_per_write"), 3),
        p64 = fmt(number(peer, "cpu_ms_per_1000_events_64_per_write"), 2),
        r64 = ratio("cpu_ms_per_1000_events_64_per_write"),
        eps = fmt(number(ours, "single_stream_events_per_second"), 0),
        peps = fmt(number(peer, "single_stream_events_per_second"), 0),
        ttft = fmt(number(ours, "ttft_median_ms"), 2),
        pttft = fmt(number(peer, "ttft_median_ms"), 2),
        rss = fmt(number(ours, "concurrent_peak_rss_mib"), 1),
        ccpu = fmt(number(ours, "concurrent_cpu_ms"), 0),
        cev = fmt(number(ours, "concurrent_events"), 0),
        agent = fmt(number(ours, "agent_round_trip_cpu_ms"), 3),
        aps = fmt(number(ours, "agent_round_trips_per_second"), 0),
        g1 = fmt(number(ours, "gateway_cpu_us_per_event_1_per_write"), 2),
        g64 = fmt(number(ours, "gateway_cpu_us_per_event_64_per_write"), 2),
        grss = fmt(number(ours, "gateway_1000_streams_peak_rss_mib"), 1),
        gidle0 = fmt(number(ours, "gateway_idle_rss_mib_before"), 1),
        gidle = fmt(number(ours, "gateway_10000_idle_rss_mib"), 1),
        mw = fmt(number(ours, "mcp_call_wall_us"), 1),
        mc = fmt(number(ours, "mcp_call_cpu_us"), 1),
        fw = fmt(number(ours, "mcp_floor_call_wall_us"), 1),
        fc = fmt(number(ours, "mcp_floor_call_cpu_us"), 1),
        md = fmt(number(ours, "mcp_call_cpu_us").zip(number(ours, "mcp_floor_call_cpu_us")).map(|(a, b)| a - b), 1),
        ecpu = fmt(number(ours, "embed_cpu_ms_per_1000_vectors"), 2),
        pecpu = fmt(number(peer, "embed_cpu_ms_per_1000_vectors"), 1),
        eratio = ratio("embed_cpu_ms_per_1000_vectors"),
        erate = fmt(number(ours, "embed_inputs_per_second"), 0),
        perate = fmt(number(peer, "embed_inputs_per_second"), 0),
    )
}
