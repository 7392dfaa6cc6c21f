//! The management API's listings: the models of a region and the dedicated
//! endpoints of a compartment (`https://generativeai.<region>.oci.<domain>`,
//! `GET /20231130/models`, `GET /20231130/endpoints`), every page.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::GenAiClient;
use crate::error::Error;

/// A model the region offers (`ModelSummary`; read leniently).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ModelSummary {
    /// Its OCID.
    pub id: String,
    /// Its name: what chat requests use (`meta.llama-3.3-70b-instruct`).
    pub display_name: String,
    /// `meta`, `cohere`, `openai`, …
    pub vendor: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// `CHAT`, `TEXT_EMBEDDINGS`, …
    pub capabilities: Vec<String>,
    /// `ACTIVE`, `DELETED`, …
    pub lifecycle_state: Option<String>,
    /// `BASE` or `CUSTOM`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// When it was or will be deprecated, if announced (RFC 3339).
    pub time_deprecated: Option<String>,
    /// When it is retired on demand, if announced (RFC 3339).
    pub time_on_demand_retired: Option<String>,
    /// When it is retired on dedicated AI clusters, if announced (RFC 3339).
    pub time_dedicated_retired: Option<String>,
}

impl ModelSummary {
    /// Whether its deprecation date is on or before `today` (`YYYY-MM-DD`).
    ///
    /// ```
    /// let model = oci_genai_transport::ModelSummary { time_deprecated: Some("2026-01-31T00:00:00.000Z".into()), ..Default::default() };
    /// assert!(model.is_deprecated_on("2026-02-01") && !model.is_deprecated_on("2026-01-30"));
    /// ```
    pub fn is_deprecated_on(&self, today: &str) -> bool {
        self.time_deprecated.as_deref().is_some_and(|t| t.get(..10).is_some_and(|day| day <= today))
    }

    /// Whether its on-demand retirement date is on or before `today` (`YYYY-MM-DD`).
    pub fn is_retired_on(&self, today: &str) -> bool {
        self.time_on_demand_retired.as_deref().is_some_and(|t| t.get(..10).is_some_and(|day| day <= today))
    }
}

/// Today's date in UTC, `YYYY-MM-DD`, as lifecycle dates begin.
///
/// ```
/// let today = oci_genai_transport::today_utc(std::time::SystemTime::UNIX_EPOCH);
/// assert_eq!(today, "1970-01-01");
/// ```
pub fn today_utc(now: std::time::SystemTime) -> String {
    let date = time::OffsetDateTime::from(now).date();
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// A dedicated AI cluster endpoint (`EndpointSummary`; read leniently).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EndpointSummary {
    /// Its OCID: what chat requests use as the model.
    pub id: String,
    /// Its name.
    pub display_name: Option<String>,
    /// The model it serves (an OCID).
    pub model_id: Option<String>,
    /// Its compartment.
    pub compartment_id: Option<String>,
    /// `ACTIVE`, `CREATING`, …
    pub lifecycle_state: Option<String>,
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

/// The most pages read, so a server that always announces another cannot loop forever.
const MAX_PAGES: usize = 100;

impl GenAiClient {
    /// The models offered in the client's region to `compartment_id`, every
    /// page; with `capability` (`CHAT`), only those that have it.
    ///
    /// ```no_run
    /// # async fn run(client: oci_genai_transport::GenAiClient) -> Result<(), oci_genai_transport::Error> {
    /// for model in client.list_models("ocid1.compartment.oc1..example", Some("CHAT")).await? {
    ///     println!("{}", model.display_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_models(
        &self,
        compartment_id: &str,
        capability: Option<&str>,
    ) -> Result<Vec<ModelSummary>, Error> {
        let mut query = format!("compartmentId={}", encode(compartment_id));
        if let Some(capability) = capability {
            query.push_str(&format!("&capability={}", encode(capability)));
        }
        self.list("/20231130/models", &query).await
    }

    /// The dedicated endpoints in `compartment_id`, every page.
    pub async fn list_endpoints(&self, compartment_id: &str) -> Result<Vec<EndpointSummary>, Error> {
        self.list("/20231130/endpoints", &format!("compartmentId={}", encode(compartment_id))).await
    }

    async fn list<T: DeserializeOwned>(&self, path: &str, query: &str) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        let mut page: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page_query = page.as_deref().map(|p| format!("&page={}", encode(p))).unwrap_or_default();
            let (next, body) = self.get_json::<Page<T>>(&format!("{path}?{query}{page_query}")).await?;
            items.extend(body.items);
            match next {
                Some(next) if !next.is_empty() => page = Some(next),
                _ => return Ok(items),
            }
        }
        Ok(items)
    }
}

/// Percent-encodes a query value (OCIDs and page tokens are mostly safe already).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_civil_dates() {
        let at = |secs: u64| super::today_utc(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(951_782_400), "2000-02-29");
        assert_eq!(at(1_796_342_400), "2026-12-04");
        assert_eq!(at(4_107_542_399), "2100-02-28");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::encode("ocid1.compartment.oc1..a b&c"), "ocid1.compartment.oc1..a%20b%26c");
    }
}
