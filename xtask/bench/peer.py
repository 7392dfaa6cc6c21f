#!/usr/bin/env python3
"""The peer of `cargo xtask bench`: the official OCI Python SDK as a streaming
client against the same emulator (GenerativeAiInferenceClient.chat with
isStream, iterating response.data.events(), parsing each event's JSON).
Prints one JSON object; exits 3 when the SDK is not installed."""
import json, resource, sys, time

try:
    import oci
    from oci.generative_ai_inference import GenerativeAiInferenceClient, models
except ImportError:
    print(json.dumps({"skipped": "the oci package is not installed (pip install oci)"}))
    sys.exit(3)

url, config_file = sys.argv[1], sys.argv[2]
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaaemulator"
config = oci.config.from_file(config_file)
client = GenerativeAiInferenceClient(config, service_endpoint=url, retry_strategy=oci.retry.NoneRetryStrategy())


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stream(model):
    details = models.ChatDetails(
        compartment_id=COMPARTMENT,
        serving_mode=models.OnDemandServingMode(model_id=model),
        chat_request=models.GenericChatRequest(
            messages=[models.UserMessage(content=[models.TextContent(text="go")])], is_stream=True))
    started = time.perf_counter()
    response = client.chat(details)
    events, first = 0, None
    for event in response.data.events():
        json.loads(event.data)
        if first is None:
            first = time.perf_counter() - started
        events += 1
    return events, first or 0.0


def cpu_per_1000(model, streams):
    before, wall, events = cpu(), time.perf_counter(), 0
    for _ in range(streams):
        events += stream(model)[0]
    return (cpu() - before) * 1e3 * 1000 / events, events / (time.perf_counter() - wall)


stream("bench-64")
cpu_1, _ = cpu_per_1000("bench-1", 10)
cpu_64, per_second = cpu_per_1000("bench-64", 10)
cpu_50k_1, _ = cpu_per_1000("bench-50k-1", 1)
cpu_50k_64, _ = cpu_per_1000("bench-50k-64", 1)
ttft = sorted(stream("bench-small")[1] for _ in range(50))


def embed_1000():
    """1,000 inputs in the SDK's way: one embed_text call per 96 (it does not batch), one after another."""
    inputs = ["passage %d of the benchmark about oracle cloud" % i for i in range(1000)]
    for start in range(0, len(inputs), 96):
        details = models.EmbedTextDetails(
            inputs=inputs[start:start + 96], compartment_id=COMPARTMENT,
            serving_mode=models.OnDemandServingMode(model_id="cohere.embed-english-v3.0"))
        vectors = client.embed_text(details).data.embeddings
        assert len(vectors) == len(inputs[start:start + 96])


embed_1000()
before, wall = cpu(), time.perf_counter()
for _ in range(10):
    embed_1000()
embed_cpu = (cpu() - before) * 1e3 / 10
embed_rate = 10 * 1000 / (time.perf_counter() - wall)
print(json.dumps({
    "sdk": oci.__version__,
    "embed_cpu_ms_per_1000_vectors": embed_cpu,
    "embed_inputs_per_second": embed_rate,
    "cpu_ms_per_1000_events_1_per_write": cpu_1,
    "cpu_ms_per_1000_events_64_per_write": cpu_64,
    "single_stream_events_per_second": per_second,
    "cpu_ms_per_1000_events_50k_1_per_write": cpu_50k_1,
    "cpu_ms_per_1000_events_50k_64_per_write": cpu_50k_64,
    "ttft_median_ms": ttft[len(ttft) // 2] * 1e3,
}))
