//! Where a run meets its guard: the input, each tool result and each answer.

use locus_providers::{ContentPart, Message, Role};

use crate::agent::Agent;
use crate::error::Error;
use crate::events::{AgentEvent, Emitter, ToolCallRecord};
use crate::guard::{GuardBlock, GuardStage, Screening};

impl Agent {
    /// Whether answers are held back until screened (they then arrive whole).
    pub(crate) fn holds_answers(&self) -> bool {
        self.inner.guard.as_ref().is_some_and(|g| g.screens(GuardStage::Answer))
    }

    /// Screens each text part of `message` at `stage`, redacting in place;
    /// the first block ends the screening.
    async fn screen_message(
        &self,
        stage: GuardStage,
        message: &mut Message,
        emitter: &Emitter,
    ) -> Result<Option<GuardBlock>, Error> {
        let Some(guard) = self.inner.guard.as_ref().filter(|g| g.screens(stage)) else { return Ok(None) };
        for part in &mut message.content {
            let failed = |source| Error::Guard { stage, source: Box::new(source) };
            let verdict = match part {
                ContentPart::Text(text) => guard.screen(stage, text).await.map_err(failed)?,
                ContentPart::Image { source, .. } => {
                    guard.screen_image(stage, &source.to_url()).await.map_err(failed)?
                }
            };
            match verdict {
                Screening::Pass => {}
                Screening::Redact { text: redacted, finding } => {
                    // An image cannot be redacted: only text parts are rewritten.
                    if let ContentPart::Text(text) = part {
                        *text = redacted;
                        emitter.emit(AgentEvent::Guarded { stage, finding, blocked: false });
                    }
                }
                Screening::Block(finding) => {
                    emitter.emit(AgentEvent::Guarded { stage, finding: finding.clone(), blocked: true });
                    return Ok(Some(GuardBlock { stage, finding }));
                }
            }
        }
        Ok(None)
    }

    /// Screens the user's new message (the last of `history`, when it is one).
    pub(crate) async fn screen_input(
        &self,
        history: &mut [Message],
        emitter: &Emitter,
    ) -> Result<Option<GuardBlock>, Error> {
        match history.last_mut() {
            Some(message) if message.role == Role::User => {
                self.screen_message(GuardStage::Input, message, emitter).await
            }
            _ => Ok(None),
        }
    }

    /// Screens an answer; when answers are held back, hands on what passed.
    pub(crate) async fn screen_answer(
        &self,
        message: &mut Message,
        emitter: &Emitter,
    ) -> Result<Option<GuardBlock>, Error> {
        let blocked = self.screen_message(GuardStage::Answer, message, emitter).await?;
        if blocked.is_none() && self.holds_answers() {
            let text = message.text();
            if !text.is_empty() {
                emitter.emit(AgentEvent::TextDelta(text));
            }
        }
        Ok(blocked)
    }

    /// Screens a tool's output before the model reads it: redacted in place;
    /// blocked, the output is withheld and the call counts as failed.
    pub(crate) async fn screen_tool_result(&self, record: &mut ToolCallRecord, emitter: &Emitter) -> Result<(), Error> {
        let mut message = Message::tool_result(record.id.clone(), std::mem::take(&mut record.output), record.is_error);
        let blocked = self.screen_message(GuardStage::ToolResult, &mut message, emitter).await;
        record.output = message.text();
        if let Some(block) = blocked? {
            record.output = format!("the result of `{}` was withheld: {}", record.name, block.finding);
            record.is_error = true;
        }
        Ok(())
    }
}
