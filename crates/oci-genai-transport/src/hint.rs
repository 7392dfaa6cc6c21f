//! What to do about an error: each hint written once, here.

use crate::error::Error;

impl Error {
    /// What to do about it, for the failures we know.
    pub fn hint(&self) -> Option<String> {
        let Error::Service(e) = self else {
            return match self {
                Error::BatchFailed { source, .. } => source.hint(),
                Error::StreamIdle { .. } => Some(
                    "the model stopped sending; raise the idle timeout (--idle-timeout, \
                     GenAiClientBuilder::read_timeout) or retry"
                        .into(),
                ),
                Error::StreamDeadline { .. } => Some(
                    "the answer took longer than the deadline: raise it (--timeout, Limits::with_stream_deadline), \
                     or ask for a shorter answer"
                        .into(),
                ),
                Error::IncompleteStream { .. } => Some(
                    "the service or a proxy between closed the stream early; retry, and quote the opc-request-id \
                     if it persists"
                        .into(),
                ),
                Error::ReplyTooLarge { .. } => {
                    Some("raise the client's max body size if such a large reply is expected".into())
                }
                Error::StreamFailed { .. } => Some(
                    "the service failed the answer after it had started; retry, and quote the opc-request-id \
                     if it persists"
                        .into(),
                ),
                Error::Transport { message, .. } if crate::error::names_no_host(message) => {
                    Some(
                        "that host name does not exist: check the region (--region, the profile's `region`, \
                         GenAiClientBuilder::region) and any --service-endpoint"
                            .into(),
                    )
                }
                Error::NotAStream { .. } => {
                    Some("this deployment does not stream: ask for whole answers (--no-stream, AgentBuilder::streaming(false))".into())
                }
                _ => None,
            };
        };
        let ctx = &e.context;
        let compartment = ctx.compartment_id.as_deref().unwrap_or("<compartment>");
        let policy = format!("allow group <your-group> to use generative-ai-family in compartment id {compartment}");
        Some(match (e.status, e.code.as_str()) {
            // A listing of the management API: no model was named.
            (403 | 404, _) if ctx.model.is_none() => format!(
                "check the compartment OCID and the region ({}), and that a policy grants access: allow group \
                 <your-group> to inspect generative-ai-family in compartment id <compartment>",
                ctx.region.as_deref().unwrap_or("none set")
            ),
            (404, _) if ctx.dedicated => match ctx.wrong_region() {
                Some((own, called)) => {
                    format!("the endpoint is in {own} but {called} was called: set the region to {own}")
                }
                None => format!(
                    "check that the endpoint OCID is right, that compartment_id is the endpoint's compartment, \
                     and that a policy grants access: {policy}"
                ),
            },
            (404, _) => format!(
                "the model may not be offered in {} or you lack access: check the model name and region, and the policy: {policy}",
                ctx.region.as_deref().unwrap_or("this region")
            ),
            (400, _) if e.message.to_ascii_lowercase().contains("unsupported openai operation") => format!(
                "{} is not served by the OpenAI-compatible API: use the native transport (--transport native, \
                 Transport::Native, LOCUS_OCI_TRANSPORT=native)",
                ctx.model.as_deref().unwrap_or("this model")
            ),
            (400, _) if e.message.to_ascii_lowercase().contains("compartment") => {
                "check compartment_id: a valid compartment OCID (for a dedicated endpoint, the endpoint's compartment)"
                    .into()
            }
            (400, _) if e.message.to_ascii_lowercase().contains("apiformat") || e.message.contains("api format") => {
                "wrong request shape for this model: set the API format (--api-format cohere or generic, \
                 OciChatModelBuilder::api_format)"
                    .into()
            }
            (401, _) => format!(
                "authentication failed even after refreshing the credentials: {}",
                oci_auth::AuthType::rejected_signature_hint(None)
            ),
            (403, _) => format!("not authorized: add a policy such as `{policy}`"),
            (429, _) => {
                "rate limited even after retries: lower the request rate or concurrency, or ask for a higher limit"
                    .into()
            }
            (status, _) if status >= 500 => {
                "the service failed; it was retried. Quote the opc-request-id to Oracle support if it persists".into()
            }
            _ => return None,
        })
    }
}
