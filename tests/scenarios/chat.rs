//! `locus chat` and `locus doctor` against a scripted model on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use locus_scenarios::{OciDir, ScriptedModel, locus};
use serde_json::{Value, json};

const DAC: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaexample";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaa";

fn calculator_then_answer() -> Vec<wiremock::ResponseTemplate> {
    vec![
        ScriptedModel::sse(&[
            json!({"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", "id": "call_1", "name": "calculator", "arguments": "{\"expression\": \"17*23\"}"}]}}),
            json!({"index": 0, "message": {"role": "ASSISTANT"}, "finishReason": "tool_calls"}),
            json!({"usage": {"promptTokens": 40, "completionTokens": 10, "totalTokens": 50}}),
        ]),
        ScriptedModel::sse(&[
            json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "17*23 = "}]}}),
            json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "391"}]}}),
            json!({"index": 0, "message": {"role": "ASSISTANT"}, "finishReason": "stop"}),
            json!({"usage": {"promptTokens": 60, "completionTokens": 5, "totalTokens": 65}}),
        ]),
    ]
}

fn chat_args<'a>(config: &'a str, endpoint: &'a str, model: &'a str) -> Vec<&'a str> {
    vec![
        "chat",
        "--model",
        model,
        "--compartment-id",
        COMPARTMENT,
        "--config-file",
        config,
        "--service-endpoint",
        endpoint,
        "--tools",
        "builtin",
        // The scripted model speaks the native API.
        "--transport",
        "native",
    ]
}

#[tokio::test]
async fn chat_json_matches_the_golden_output() {
    let (server, model) = ScriptedModel::serve(calculator_then_answer()).await;
    let oci = OciDir::new();
    let (config, endpoint) = (oci.config().display().to_string(), server.uri());
    let mut args = chat_args(&config, &endpoint, DAC);
    args.extend(["--json", "What is 17*23?"]);
    let output = locus(&args).await;
    assert_eq!(output.code, 0, "{}", output.stderr);
    let printed: Value = serde_json::from_str(&output.stdout).unwrap();
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/chat-json.golden.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(printed, golden);
    let bodies = model.bodies();
    assert_eq!(bodies[0]["servingMode"]["endpointId"], DAC);
    assert_eq!(bodies[0]["chatRequest"]["tools"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn chat_streams_text_to_stdout_and_tools_to_stderr() {
    let (server, _) = ScriptedModel::serve(calculator_then_answer()).await;
    let oci = OciDir::new();
    let (config, endpoint) = (oci.config().display().to_string(), server.uri());
    let mut args = chat_args(&config, &endpoint, "oci:meta.llama-3.3-70b-instruct");
    args.push("What is 17*23?");
    let output = locus(&args).await;
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert_eq!(output.stdout, "17*23 = 391\n");
    assert!(output.stderr.contains("⚙ calculator {\"expression\":\"17*23\"}"), "{}", output.stderr);
    assert!(output.stderr.contains("✓ calculator → 391"), "{}", output.stderr);
}

#[tokio::test]
async fn chat_exit_codes() {
    let (server, _) = ScriptedModel::serve(vec![calculator_then_answer().remove(0)]).await;
    let oci = OciDir::new();
    let (config, endpoint) = (oci.config().display().to_string(), server.uri());

    let mut args = chat_args(&config, &endpoint, "oci:meta.llama");
    args.extend(["--max-iterations", "1", "count forever"]);
    let output = locus(&args).await;
    assert_eq!(output.code, 5, "max iterations: {}", output.stderr);

    let output =
        locus(&["chat", "--model", DAC, "--config-file", &config, "--service-endpoint", &endpoint, "hi"]).await;
    assert_eq!(output.code, 3);
    assert!(output.stderr.contains("compartment_id is required for dedicated endpoints"), "{}", output.stderr);

    let mut args = chat_args(&config, &endpoint, "oci:meta.llama");
    args.extend(["--tools", "shell", "hi"]);
    let output = locus(&args).await;
    assert_eq!(output.code, 2);
    assert!(output.stderr.contains("unknown tool `shell`"), "{}", output.stderr);

    // A flag of the wrong form is a usage error.
    let output = locus(&["chat", "--model", "acme:model", "--config-file", &config, "hi"]).await;
    assert_eq!(output.code, 2);
    assert!(output.stderr.contains("known providers: oci"), "{}", output.stderr);
}

#[tokio::test]
async fn a_404_from_chat_exits_3_with_a_hint() {
    let reply = wiremock::ResponseTemplate::new(404).insert_header("opc-request-id", "REQ-404").set_body_json(
        json!({"code": "NotAuthorizedOrNotFound", "message": "Authorization failed or requested resource not found."}),
    );
    let (server, _) = ScriptedModel::serve(vec![reply]).await;
    let oci = OciDir::new();
    let (config, endpoint) = (oci.config().display().to_string(), server.uri());
    let mut args = chat_args(&config, &endpoint, DAC);
    args.extend(["--region", "us-ashburn-1", "hi"]);
    let output = locus(&args).await;
    assert_eq!(output.code, 3);
    for needle in
        ["404 NotAuthorizedOrNotFound", "REQ-404", "hint: the endpoint is in us-chicago-1 but us-ashburn-1 was called"]
    {
        assert!(output.stderr.contains(needle), "{needle}: {}", output.stderr);
    }
}

#[tokio::test]
async fn doctor_checks_the_setup() {
    let oci = OciDir::new();
    let config = oci.config().display().to_string();
    let dac = ["doctor", "--config-file", &config, "--model", DAC, "--compartment-id", COMPARTMENT, "--offline"];
    let output = locus(&[&dac[..], &["--region", "us-chicago-1"]].concat()).await;
    assert_eq!(output.code, 0, "{}{}", output.stdout, output.stderr);
    for needle in [
        "region           us-chicago-1  (from --region)",
        "compartment      ocid1.compartment.oc1..aaaa  (from --compartment-id)",
        "✓ api_key from profile [DEFAULT]",
        "✓ credentials load",
        "✓ dedicated endpoint",
        "through the native transport",
        "✓ endpoint https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat",
        "· no request sent (--offline)",
    ] {
        assert!(output.stdout.contains(needle), "{needle}: {}", output.stdout);
    }

    // The transport is named, and one that cannot serve the model fails the check.
    let on_demand = ["doctor", "--config-file", &config, "--model", "meta.llama-3.3-70b-instruct", "--offline"];
    let output = locus(&[&on_demand[..], &["--compartment-id", COMPARTMENT]].concat()).await;
    assert!(output.stdout.contains("through the chat-completions transport"), "{}", output.stdout);
    assert!(output.stdout.contains("/openai/v1/chat/completions"), "{}", output.stdout);
    let output = locus(&[&dac[..], &["--transport", "responses"]].concat()).await;
    assert_eq!(output.code, 3);
    assert!(output.stdout.contains("✗") && output.stdout.contains("--transport native"), "{}", output.stdout);

    // As chat: an on-demand model needs a compartment too.
    let output = locus(&on_demand).await;
    assert_eq!(output.code, 3);
    assert!(output.stdout.contains("✗ compartment_id is required"), "{}", output.stdout);

    // An explicit region away from the endpoint's fails (404 for sure); the profile's is a note (chat calls the endpoint's).
    let output = locus(&[&dac[..], &["--region", "us-ashburn-1"]].concat()).await;
    assert_eq!(output.code, 3);
    assert!(output.stdout.contains("✗ the dedicated endpoint") && output.stdout.contains("404"), "{}", output.stdout);

    let output = locus(&["doctor", "--config-file", "/nonexistent/config", "--offline"]).await;
    assert_eq!(output.code, 3);
    assert!(output.stdout.contains("✗ cannot read OCI config file /nonexistent/config"), "{}", output.stdout);
}
