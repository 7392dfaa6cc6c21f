//! Tools the model can call.

mod approval;
pub mod builtin;
mod fn_tool;
mod registered;
mod tool;

pub use approval::{Approval, ApproveFn, ApproveToolCall, PendingCall, SharedApproval, approve_fn};
pub use fn_tool::{FnTool, tool_fn};
pub(crate) use registered::RegisteredTool;
pub use tool::{SharedTool, Tool, ToolError, ToolOutput};
