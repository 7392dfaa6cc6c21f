//! What to do about an error: each hint written once, here, naming the
//! settings it points at as [`Setting`]s, so that each caller names them as
//! its user knows them (a library user by builder methods, a command line
//! by its flags).

use crate::error::Error;
use crate::transport::Transport;

/// A setting a hint points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// The region called.
    Region,
    /// An explicit service endpoint.
    ServiceEndpoint,
    /// How long a stream may go without data.
    IdleTimeout,
    /// How long a whole answer may take.
    StreamDeadline,
    /// The API a model goes through, set to this one.
    Transport(Transport),
    /// The native request shape.
    ApiFormat,
    /// Whole answers instead of streams.
    WholeAnswers,
    /// Falling back to a whole answer when a stream is refused.
    Fallback,
    /// The cap on an answer's size.
    MaxAnswerBytes,
}

/// How a caller names [`Setting`]s in hints.
pub trait SettingNames {
    /// `setting`, as this caller's user sets it.
    fn name(&self, setting: Setting) -> String;
}

/// The library's names: builder methods and variables.
///
/// ```
/// use oci_genai_transport::{BuilderNames, Setting, SettingNames, Transport};
/// assert_eq!(BuilderNames.name(Setting::Transport(Transport::Native)), "OciChatModelBuilder::transport(Transport::Native)");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BuilderNames;

impl SettingNames for BuilderNames {
    fn name(&self, setting: Setting) -> String {
        match setting {
            Setting::Region => "GenAiClientBuilder::region, or the profile's `region`".into(),
            Setting::ServiceEndpoint => "GenAiClientBuilder::service_endpoint".into(),
            Setting::IdleTimeout => "GenAiClientBuilder::read_timeout".into(),
            Setting::StreamDeadline => "Limits::with_stream_deadline".into(),
            Setting::Transport(t) => format!("OciChatModelBuilder::transport(Transport::{t:?})"),
            Setting::ApiFormat => "OciChatModelBuilder::api_format".into(),
            Setting::WholeAnswers => "AgentBuilder::streaming(false)".into(),
            Setting::Fallback => "OciChatModelBuilder::allow_fallback(true), the default".into(),
            Setting::MaxAnswerBytes => "AgentBuilder::max_answer_bytes".into(),
        }
    }
}

/// The region of an inference or management URL (`https://inference.generativeai.<region>.oci.…`).
fn region_in(url: &str) -> Option<&str> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    let rest = host.strip_prefix("inference.generativeai.").or_else(|| host.strip_prefix("generativeai."))?;
    rest.split('.').next().filter(|r| !r.is_empty())
}

impl Error {
    /// What to do about it, for the failures we know, naming settings by the
    /// library's builders ([`hint_for`](Self::hint_for) names them otherwise).
    pub fn hint(&self) -> Option<String> {
        self.hint_for(&BuilderNames)
    }

    /// [`hint`](Self::hint) with settings named by `names`.
    pub fn hint_for(&self, names: &dyn SettingNames) -> Option<String> {
        let n = |setting| names.name(setting);
        let Error::Service(e) = self else {
            return match self {
                Error::BatchFailed { source, .. } => source.hint_for(names),
                Error::StreamIdle { .. } => Some(format!(
                    "the model stopped sending; raise the idle timeout ({}) or retry",
                    n(Setting::IdleTimeout)
                )),
                Error::StreamDeadline { .. } => Some(format!(
                    "the answer took longer than the deadline: raise it ({}), or ask for a shorter answer",
                    n(Setting::StreamDeadline)
                )),
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
                Error::Transport { message, url, .. } if crate::error::names_no_host(message) => {
                    let called = region_in(url).map(|region| {
                        let nearest = oci_auth::region::suggestions(region);
                        match nearest.as_slice() {
                            [] => format!(" `{region}`"),
                            names => format!(" `{region}` — did you mean {}?", names.join(" or ")),
                        }
                    });
                    Some(format!(
                        "that host name does not exist: check the region{} ({}) and any service endpoint ({})",
                        called.unwrap_or_default(),
                        n(Setting::Region),
                        n(Setting::ServiceEndpoint)
                    ))
                }
                Error::Transport { timeout: true, connect: false, .. } => Some(format!(
                    "the service took the request but sent no reply in time (it was retried); raise the wait ({} for \
                     a stream, {} for the whole call), or retry later",
                    n(Setting::IdleTimeout),
                    n(Setting::StreamDeadline)
                )),
                Error::NotAStream { .. } => Some(format!(
                    "this deployment does not stream: ask for whole answers ({})",
                    n(Setting::WholeAnswers)
                )),
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
                "{} is not served by the OpenAI-compatible API: use the native transport ({})",
                ctx.model.as_deref().unwrap_or("this model"),
                n(Setting::Transport(Transport::Native))
            ),
            (400, _) if e.message.to_ascii_lowercase().contains("compartment") => {
                "check compartment_id: a valid compartment OCID (for a dedicated endpoint, the endpoint's compartment)"
                    .into()
            }
            (400, _) if e.message.to_ascii_lowercase().contains("apiformat") || e.message.contains("api format") => {
                format!(
                    "wrong request shape for this model: set the API format, cohere or generic ({})",
                    n(Setting::ApiFormat)
                )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A region typo shows up as a host that does not exist: the hint names the region and its likely meaning.
    #[test]
    fn a_missing_host_names_the_region_called_and_the_nearest_known() {
        let error = Error::Transport {
            url: "https://inference.generativeai.us-chicgo-1.oci.oraclecloud.com/20231130/actions/chat".into(),
            message: "error sending request: dns error: failed to lookup address information: Name or service not \
                      known"
                .into(),
            timeout: false,
            connect: true,
            retryable: false,
            opc_request_id: None,
            source: None,
        };
        let hint = error.hint().unwrap_or_default();
        assert!(hint.contains("`us-chicgo-1` — did you mean us-chicago-1?"), "{hint}");
        assert_eq!(region_in("https://generativeai.eu-frankfurt-1.oci.oraclecloud.com/x"), Some("eu-frankfurt-1"));
        assert_eq!(region_in("http://127.0.0.1:8080/x"), None);
    }
}
