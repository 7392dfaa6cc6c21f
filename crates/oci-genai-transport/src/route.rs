//! Where a chat call would go, decided as sending decides it, without
//! sending anything: what `locus doctor` shows and `locus chat` sends.

use crate::client::GenAiClient;
use crate::error::Error;
use crate::serving::ServingMode;
use crate::transport::Transport;

/// Where a chat call goes: the URL, through which transport, in which region.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// The whole URL (`https://inference.generativeai.<region>.oci.<domain>/20231130/actions/chat`).
    pub url: String,
    /// The API it goes through.
    pub transport: Transport,
    /// The region called, when known (not with an explicit service endpoint).
    pub region: Option<String>,
    /// Problems noticed on the way, as sending would log them (a region
    /// that is not the endpoint's, say).
    pub warnings: Vec<String>,
    /// A region the region table does not know (a typo, most often): the
    /// warning that says so, naming the nearest known regions. Not repeated
    /// in `warnings`.
    pub unknown_region: Option<String>,
}

impl GenAiClient {
    /// Where a chat call for `serving` through `transport` would go: the
    /// same checks (a transport that cannot serve the model) and the same
    /// region resolution (explicit, the endpoint's own, the profile's) as a
    /// call, and no request.
    ///
    /// ```
    /// use oci_genai_transport::{GenAiClient, ServingMode, Transport};
    /// # async fn run() -> Result<(), oci_genai_transport::Error> {
    /// let client = GenAiClient::builder().genai_api_key("sk-example").region("us-chicago-1").build()?;
    /// let serving = ServingMode::from_model_id("openai.gpt-5")?;
    /// let route = client.route(&serving, Transport::ChatCompletions).await?;
    /// assert_eq!(
    ///     route.url,
    ///     "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1/chat/completions"
    /// );
    /// assert_eq!(route.region.as_deref(), Some("us-chicago-1"));
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
    /// ```
    pub async fn route(&self, serving: &ServingMode, transport: Transport) -> Result<Route, Error> {
        transport.check(serving)?;
        let mut resolved = self.routing().resolve(serving).await?;
        let unknown_region = resolved.unknown_region.take();
        resolved.warnings.retain(|w| Some(w) != unknown_region.as_ref());
        Ok(Route {
            url: format!("{}{}", resolved.url, transport.chat_path()),
            transport,
            region: resolved.region,
            warnings: resolved.warnings,
            unknown_region,
        })
    }
}
