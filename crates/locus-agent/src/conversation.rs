//! A conversation: an agent's runs with their history kept.

use locus_providers::Message;

use crate::agent::{Agent, finish};
use crate::error::Error;
use crate::events::{AgentResult, AgentStream};

impl Agent {
    /// A conversation that keeps its history across runs.
    pub fn conversation(&self) -> Conversation {
        Conversation::new(self.clone())
    }

    /// A conversation that goes on from `history` (a saved session, say).
    ///
    /// ```
    /// # fn run(agent: locus_agent::Agent) {
    /// use locus_providers::Message;
    /// let conversation = agent.conversation_with(vec![Message::user("Hi"), Message::assistant("Hello!")]);
    /// assert_eq!(conversation.history().len(), 2);
    /// # }
    /// ```
    pub fn conversation_with(&self, history: Vec<Message>) -> Conversation {
        Conversation { agent: self.clone(), history, pending: None }
    }
}

/// A conversation: history kept across runs.
///
/// ```no_run
/// # async fn run(agent: locus_agent::Agent) -> Result<(), locus_agent::Error> {
/// let mut conversation = agent.conversation();
/// conversation.send("My name is Ada.").await?;
/// let reply = conversation.send("What is my name?").await?;
/// # let _ = reply; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Conversation {
    agent: Agent,
    history: Vec<Message>,
    /// The history a run in progress will leave.
    pending: Option<futures::channel::oneshot::Receiver<Vec<Message>>>,
}

impl Conversation {
    pub(crate) fn new(agent: Agent) -> Self {
        Conversation { agent, history: Vec::new(), pending: None }
    }

    /// The messages so far (without the system prompt).
    pub fn history(&self) -> &[Message] {
        &self.history
    }

    /// Runs the agent on `input` after the history, streaming its events; the
    /// history is updated when the stream has been read to its end.
    pub fn run(&mut self, input: impl Into<Message>) -> AgentStream {
        let agent = self.agent.clone();
        let mut messages = self.history.clone();
        messages.push(input.into());
        let (sender, receiver) = futures::channel::oneshot::channel();
        self.pending = Some(receiver);
        AgentStream::new(move |emitter| async move {
            if let Some(history) = agent.drive(messages, &emitter).await {
                let _ = sender.send(history);
            }
        })
    }

    /// Runs the agent on `input` and keeps the exchange in the history.
    pub async fn send(&mut self, input: impl Into<Message>) -> Result<AgentResult, Error> {
        let stream = self.run(input);
        let result = finish(stream).await;
        self.settle();
        result
    }

    /// Forgets the history (and any run in progress's).
    pub fn reset(&mut self) {
        self.history.clear();
        self.pending = None;
    }

    /// Takes the history of the last completed run.
    pub fn settle(&mut self) {
        if let Some(mut receiver) = self.pending.take()
            && let Ok(Some(history)) = receiver.try_recv()
        {
            self.history = history;
        }
    }
}
