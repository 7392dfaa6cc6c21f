"""The official `openai` package against the locus-rs emulator's /openai/v1,
unchanged: with a Generative AI API key (Bearer), and with OCI request
signing (an httpx auth hook that signs with the official `oci` SDK's signer,
as oracle-samples/oci-genai-auth-python does). Run by `cargo xtask interop`.

Usage: openai_client.py <emulator url> <oci config file> <api key file> <compartment>
Prints one line per check; exits non-zero on the first failure.
"""

import json
import sys

import httpx
import oci
import openai
import requests

URL, CONFIG, KEY_FILE, COMPARTMENT = sys.argv[1:5]
MODEL = "meta.llama-3.3-70b-instruct"
TOOLS = [{"type": "function", "function": {"name": "calculator", "description": "Evaluates arithmetic.",
          "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}}]
RESPONSE_TOOLS = [{"type": "function", "name": "calculator", "description": "Evaluates arithmetic.",
                   "parameters": TOOLS[0]["function"]["parameters"]}]


class OciSigner(httpx.Auth):
    """Signs each request with the OCI SDK's signer; the OpenAI SDK's own Authorization is dropped."""

    requires_request_body = True

    def __init__(self, signer):
        self.signer = signer

    def auth_flow(self, request):
        request.headers.pop("Authorization", None)
        prepared = requests.Request(request.method, str(request.url), headers=dict(request.headers),
                                    data=request.content).prepare()
        self.signer(prepared)
        request.headers.update({k: v for k, v in prepared.headers.items()})
        yield request


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + (f": {detail}" if detail and not condition else ""))
    if not condition:
        sys.exit(1)


def chat_round_trip(client, label):
    # Whole answer, with a tool call, then the tool's result back.
    ask = [{"role": "user", "content": "What is 17*23?"}]
    first = client.chat.completions.create(model=MODEL, messages=ask, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    check(f"{label}: chat completion calls the calculator", call.function.name == "calculator", first)
    ask += [first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "391"}]
    second = client.chat.completions.create(model=MODEL, messages=ask, tools=TOOLS)
    check(f"{label}: the answer uses the result", "391" in second.choices[0].message.content, second)
    check(f"{label}: usage", second.usage.total_tokens > 0)
    # Streamed, with usage in the last chunk; the SDK stops at [DONE].
    text, usage, finish = "", None, None
    stream = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hello there"}],
                                            stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    check(f"{label}: streamed text", text == "You said: hello there", text)
    check(f"{label}: streamed finish reason and usage", finish == "stop" and usage is not None)


def responses_round_trip(client, label):
    first = client.responses.create(model=MODEL, input="What is 17*23?", tools=RESPONSE_TOOLS, store=False)
    calls = [item for item in first.output if item.type == "function_call"]
    check(f"{label}: response calls the calculator", calls and calls[0].name == "calculator", first)
    follow = [{"role": "user", "content": "What is 17*23?"},
              {"type": "function_call", "call_id": calls[0].call_id, "name": "calculator", "arguments": calls[0].arguments},
              {"type": "function_call_output", "call_id": calls[0].call_id, "output": "391"}]
    second = client.responses.create(model=MODEL, input=follow, tools=RESPONSE_TOOLS, store=False)
    check(f"{label}: response text uses the result", "391" in second.output_text, second)
    kinds, text, completed = [], "", None
    with client.responses.stream(model=MODEL, input="hello there", store=False) as stream:
        for event in stream:
            kinds.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
        completed = stream.get_final_response()
    check(f"{label}: streamed Responses text", text == "You said: hello there", text)
    check(f"{label}: typed events end with response.completed", kinds[-1] == "response.completed", kinds)
    check(f"{label}: the final response has an id and usage", completed.id and completed.usage.total_tokens > 0)


def errors(client, label):
    try:
        client.chat.completions.create(model="cohere.command-r-plus-08-2024", messages=[{"role": "user", "content": "hi"}])
        check(f"{label}: Cohere R refused", False)
    except openai.BadRequestError as e:
        check(f"{label}: Cohere R refused with 400 Unsupported OpenAI operation", "Unsupported OpenAI operation" in str(e), e)
    try:
        client.chat.completions.create(model="meta.llama-9", messages=[{"role": "user", "content": "hi"}])
        check(f"{label}: unknown model refused", False)
    except openai.NotFoundError as e:
        check(f"{label}: unknown model is a 404 the SDK types", e.status_code == 404)


key = open(KEY_FILE).read().strip()
bearer = openai.OpenAI(base_url=URL + "/openai/v1", api_key=key, max_retries=0)
chat_round_trip(bearer, "api key")
responses_round_trip(bearer, "api key")
errors(bearer, "api key")
try:
    openai.OpenAI(base_url=URL + "/openai/v1", api_key="sk-wrong", max_retries=0).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}])
    check("a wrong key is refused", False)
except openai.AuthenticationError:
    check("a wrong key is refused with 401", True)

config = oci.config.from_file(CONFIG)
signer = oci.signer.Signer(config["tenancy"], config["user"], config["fingerprint"], config["key_file"])
signed = openai.OpenAI(base_url=URL + "/openai/v1", api_key="unused", max_retries=0,
                       http_client=httpx.Client(auth=OciSigner(signer)),
                       default_headers={"opc-compartment-id": COMPARTMENT})
chat_round_trip(signed, "OCI signature")
responses_round_trip(signed, "OCI signature")
print(json.dumps({"openai": openai.__version__, "oci": oci.__version__}))
