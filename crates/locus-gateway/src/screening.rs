//! Guardrails on a route: the request's newest user and tool messages before
//! the model reads them, the answer before the client does.
//!
//! A blocked request is a 400 (`guardrail_blocked`); a blocked answer is
//! answered as OpenAI answers a filtered one: no content, finish reason
//! `content_filter`. Screened answers are asked whole and, when the client
//! streams, sent as one chunk. Guardrails that cannot answer fail the
//! request (502 `guardrails_unavailable`): nothing unscreened passes.

use locus_providers::guard::{GuardStage, OciGuard, Screening};
use locus_providers::{ChatRequest, ChatResponse, ContentPart, FinishReason, Message, OciChatModel, Role};

use crate::config::{GatewayConfig, RouteGuard};
use crate::error::GatewayError;

/// The guard of requests for `name` (an alias's own, else the gateway's), in `model`'s compartment.
pub(crate) fn guard_for(config: &GatewayConfig, name: &str, model: &OciChatModel) -> Option<OciGuard> {
    let policy = match config.aliases.get(name).map(|alias| &alias.guard) {
        Some(RouteGuard::Off) => None,
        Some(RouteGuard::Policy(policy)) => Some(policy.clone()),
        Some(RouteGuard::Inherit) | None => config.guard.clone(),
    }?;
    Some(OciGuard::new(model.client().clone(), model.compartment()).policy(policy))
}

fn unavailable(stage: GuardStage, error: &locus_providers::Error) -> GatewayError {
    GatewayError::new(
        502,
        "api_error",
        "guardrails_unavailable",
        format!("the guardrails could not screen {}: {error}", stage.describe()),
    )
}

/// Screens each text part of `message`, redacting in place; `Some` when blocked.
async fn screen(guard: &OciGuard, stage: GuardStage, message: &mut Message) -> Result<Option<String>, GatewayError> {
    if !guard.screens(stage) {
        return Ok(None);
    }
    for part in &mut message.content {
        let verdict = match part {
            ContentPart::Text(text) => guard.screen(stage, text).await,
            ContentPart::Image { source, .. } => guard.screen_image(stage, &source.to_url()).await,
        };
        match verdict.map_err(|e| unavailable(stage, &e))? {
            Screening::Pass => {}
            Screening::Redact { text: redacted, .. } => {
                if let ContentPart::Text(text) = part {
                    *text = redacted;
                }
            }
            Screening::Block(finding) => {
                return Ok(Some(format!("guardrails blocked {}: {finding}", stage.describe())));
            }
        }
    }
    Ok(None)
}

/// Screens the messages after the last answer (the user's new message, the
/// client's tool results); a block is a 400.
pub(crate) async fn screen_request(guard: &OciGuard, request: &mut ChatRequest) -> Result<(), GatewayError> {
    let newest = request.messages.iter().rposition(|m| m.role == Role::Assistant).map_or(0, |at| at + 1);
    for message in &mut request.messages[newest..] {
        let stage = match message.role {
            Role::User => GuardStage::Input,
            Role::Tool => GuardStage::ToolResult,
            _ => continue,
        };
        if let Some(blocked) = screen(guard, stage, message).await? {
            return Err(GatewayError::new(400, "invalid_request_error", "guardrail_blocked", blocked));
        }
    }
    Ok(())
}

/// Screens a whole answer: redacted in place, or emptied with finish reason
/// `content_filter` when blocked.
pub(crate) async fn screen_answer(guard: &OciGuard, response: &mut ChatResponse) -> Result<(), GatewayError> {
    if let Some(blocked) = screen(guard, GuardStage::Answer, &mut response.message).await? {
        tracing::info!(target: "locus_gateway::access", "{blocked}");
        response.message.content.clear();
        response.message.tool_calls.clear();
        response.finish_reason = FinishReason::ContentFilter;
    }
    Ok(())
}
