//! Asking before a tool runs: a hook that allows or denies each call.

use std::fmt;
use std::sync::Arc;

/// A tool call about to run, as an approval hook sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PendingCall<'a> {
    /// The call's id.
    pub id: &'a str,
    /// The tool's name.
    pub name: &'a str,
    /// The arguments, already valid against the tool's schema.
    pub arguments: &'a serde_json::Value,
    /// Whether the tool says it changes nothing ([`Tool::is_safe`](super::Tool::is_safe)).
    pub safe: bool,
}

/// What a hook decides about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// Run it.
    Allow,
    /// Do not run it; the model gets this reason as the call's error result.
    Deny(String),
}

/// Decides, before each tool call, whether it runs. The hook is async, so it
/// may ask someone (the `locus` CLI asks on the terminal) — "ask" is an
/// answer it obtains, not a third outcome. Set with
/// [`AgentBuilder::approval`](crate::AgentBuilder::approval); without one
/// every valid call runs.
///
/// ```
/// use locus_agent::tools::{Approval, approve_fn};
/// let hook = approve_fn(|call| match call.safe {
///     true => Approval::Allow,
///     false => Approval::Deny(format!("`{}` changes things; ask the user first", call.name)),
/// });
/// # let _ = hook;
/// ```
#[async_trait::async_trait]
pub trait ApproveToolCall: Send + Sync {
    /// Allow or deny `call`.
    async fn approve(&self, call: &PendingCall<'_>) -> Approval;
}

/// A shared approval hook.
pub type SharedApproval = Arc<dyn ApproveToolCall>;

/// A hook from a function.
pub fn approve_fn<F>(decide: F) -> ApproveFn<F>
where
    F: Fn(&PendingCall<'_>) -> Approval + Send + Sync,
{
    ApproveFn(decide)
}

/// The hook [`approve_fn`] makes.
pub struct ApproveFn<F>(F);

impl<F> fmt::Debug for ApproveFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApproveFn")
    }
}

#[async_trait::async_trait]
impl<F> ApproveToolCall for ApproveFn<F>
where
    F: Fn(&PendingCall<'_>) -> Approval + Send + Sync,
{
    async fn approve(&self, call: &PendingCall<'_>) -> Approval {
        (self.0)(call)
    }
}
