//! The instance metadata service: what an instance knows about itself.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::http_client::{HttpClient, HttpRequest};

/// The instance metadata service, unless `OCI_METADATA_BASE_URL` says otherwise.
pub(crate) const DEFAULT_METADATA_BASE_URL: &str = "http://169.254.169.254/opc/v2";

const METADATA_ATTEMPTS: u32 = 3;
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// Short waits: the service is on the instance's own link.
const METADATA_BACKOFF: Backoff = Backoff::const_new(Duration::from_millis(100), Duration::from_secs(1));

/// `GET <base><path>` on the instance metadata service, as text.
pub(crate) async fn metadata_get(http: &dyn HttpClient, base: &str, path: &str) -> Result<String> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let mut last = None;
    for attempt in 0..METADATA_ATTEMPTS {
        if attempt > 0 {
            http.sleep(METADATA_BACKOFF.delay(attempt - 1)).await;
        }
        let request = HttpRequest {
            method: "GET",
            url: url.clone(),
            headers: vec![("authorization".into(), "Bearer Oracle".into())],
            body: Vec::new(),
            timeout: METADATA_TIMEOUT,
        };
        match http.send(request).await {
            Ok(response) if (200..300).contains(&response.status) => {
                return String::from_utf8(response.body)
                    .map_err(|_| Error::MetadataStatus { url: url.clone(), status: response.status });
            }
            // The metadata service answers 404 while an instance is still starting: the SDKs retry it.
            Ok(response) if matches!(response.status, 404 | 429) || response.status >= 500 => {
                last = Some(Error::MetadataStatus { url: url.clone(), status: response.status });
            }
            Ok(response) => return Err(Error::MetadataStatus { url, status: response.status }),
            Err(e) => last = Some(Error::MetadataUnreachable { url: url.clone(), message: e.to_string() }),
        }
    }
    Err(last.unwrap_or(Error::MetadataUnreachable { url, message: "no attempt made".into() }))
}
