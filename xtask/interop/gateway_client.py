"""The official `openai` package against `locus serve` (the gateway), unchanged:
a dedicated endpoint and a Cohere R model — what OCI's own OpenAI-compatible
API does not serve — whole and streamed, with a tool round trip driven by
the client, and the errors it types. Run by `cargo xtask interop`.

Usage: gateway_client.py <gateway url>
"""

import sys

import openai

URL = sys.argv[1]
DAC = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaemulatortoolcaller"
TOOLS = [{"type": "function", "function": {"name": "calculator", "description": "Evaluates arithmetic.",
          "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}}]


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + "gateway: " + name + (f": {detail}" if detail and not condition else ""))
    if not condition:
        sys.exit(1)


client = openai.OpenAI(base_url=URL + "/v1", api_key="unused", max_retries=0)
ask = [{"role": "user", "content": "What is 17*23?"}]
first = client.chat.completions.create(model=DAC, messages=ask, tools=TOOLS)
call = first.choices[0].message.tool_calls[0]
check("a dedicated endpoint calls the calculator", call.function.name == "calculator", first)
ask += [first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "391"}]
second = client.chat.completions.create(model=DAC, messages=ask, tools=TOOLS)
check("the answer uses the result", "391" in second.choices[0].message.content, second)

text, usage, calls = "", None, {}
stream = client.chat.completions.create(model="cohere.command-r-plus-08-2024", messages=[{"role": "user", "content": "What is 6*7?"}],
                                        tools=TOOLS, stream=True, stream_options={"include_usage": True})
finish = None
for chunk in stream:
    if chunk.choices:
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for fragment in delta.tool_calls or []:
            entry = calls.setdefault(fragment.index, {"name": "", "arguments": ""})
            entry["name"] += (fragment.function.name or "") if fragment.function else ""
            entry["arguments"] += (fragment.function.arguments or "") if fragment.function else ""
        finish = chunk.choices[0].finish_reason or finish
    if chunk.usage:
        usage = chunk.usage
check("a Cohere R model streams a tool call", calls.get(0, {}).get("name") == "calculator", calls)
check("its finish reason and usage", finish == "tool_calls" and usage is not None and usage.total_tokens > 0)

try:
    client.chat.completions.create(model="meta.nope", messages=[{"role": "user", "content": "hi"}])
    check("an unknown model is refused", False)
except openai.NotFoundError as e:
    check("an unknown model is a 404 the SDK types", "NotAuthorizedOrNotFound" in str(e), e)
