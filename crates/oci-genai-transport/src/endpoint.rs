//! Which host a request goes to.

use oci_auth::Env;
use oci_auth::region::{self, RegionInfo};

use crate::error::Error;
use crate::serving::ServingMode;

/// Where requests go, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedEndpoint {
    /// The base URL, e.g. `https://inference.generativeai.us-chicago-1.oci.oraclecloud.com`.
    pub url: String,
    /// The region called, when known.
    pub region: Option<String>,
    /// A dedicated endpoint's own region (from its OCID), decided here once.
    pub endpoint_region: Option<String>,
    /// Problems noticed on the way (also logged as warnings).
    pub warnings: Vec<String>,
    /// The warning for a region the region table does not know (a typo, most
    /// often), naming the nearest known ones; among `warnings` too when that
    /// region's host is called (not with an explicit service endpoint).
    pub unknown_region: Option<String>,
}

/// The regions a client knows of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionSettings {
    /// Set explicitly (builder, command line): wins, with a warning on a mismatch.
    pub explicit: Option<String>,
    /// From configuration (profile, instance metadata): yields to a dedicated endpoint's own region.
    pub configured: Option<String>,
}

/// Resolves the inference endpoint for `serving`:
///
/// 1. an explicit `service_endpoint` is used as given;
/// 2. else `https://inference.generativeai.<region>.oci.<domain>`, where the
///    region is the explicit one, else a dedicated endpoint's own region (from
///    its OCID), else the configured one. When a dedicated endpoint lives in
///    another region than the one called, that is a warning: the service
///    would answer 404 `NotAuthorizedOrNotFound`.
///
/// ```
/// use oci_genai_transport::{resolve_endpoint, RegionSettings, ServingMode};
/// let dac = ServingMode::from_model_id("ocid1.generativeaiendpoint.oc1.us-chicago-1.x")?;
/// let regions = RegionSettings { explicit: None, configured: Some("us-ashburn-1".into()) };
/// let resolved = resolve_endpoint(None, &regions, &dac, &oci_auth::StaticEnv::new())?;
/// assert_eq!(resolved.url, "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com");
/// assert_eq!(resolved.warnings.len(), 1); // the profile said us-ashburn-1
/// # Ok::<(), oci_genai_transport::Error>(())
/// ```
pub fn resolve_endpoint(
    service_endpoint: Option<&str>,
    regions: &RegionSettings,
    serving: &ServingMode,
    env: &dyn Env,
) -> Result<ResolvedEndpoint, Error> {
    let endpoint_region = serving.endpoint_region(env);
    let own_region = endpoint_region.as_ref().map(|r| r.id().to_owned());
    let mut warnings = Vec::new();
    if let Some(url) = service_endpoint {
        let region = regions.explicit.clone().or_else(|| regions.configured.clone());
        let unknown_region =
            region.as_deref().and_then(|r| region::resolve(r, env).ok()).and_then(|info| unknown_region(&info));
        return Ok(ResolvedEndpoint {
            url: url.trim_end_matches('/').to_owned(),
            region,
            endpoint_region: own_region,
            warnings,
            unknown_region,
        });
    }
    let explicit = regions.explicit.as_deref().map(|r| region::resolve(r, env)).transpose()?;
    let configured = regions.configured.as_deref().map(|r| region::resolve(r, env)).transpose()?;
    let chosen: RegionInfo = match (explicit, endpoint_region.clone(), configured) {
        (Some(explicit), Some(own), _) if explicit.id() != own.id() => {
            warnings.push(format!(
                "the dedicated endpoint {} is in {} but the region is set to {}: the service will answer 404 \
                 NotAuthorizedOrNotFound; set the region to {}",
                serving.id(),
                own.id(),
                explicit.id(),
                own.id()
            ));
            explicit
        }
        (Some(explicit), _, _) => explicit,
        (None, Some(own), Some(configured)) => {
            if configured.id() != own.id() {
                warnings.push(format!(
                    "the dedicated endpoint {} is in {} while the configured region is {}; calling {}",
                    serving.id(),
                    own.id(),
                    configured.id(),
                    own.id()
                ));
            }
            own
        }
        (None, Some(own), None) => own,
        (None, None, Some(configured)) => configured,
        (None, None, None) => {
            return Err(Error::NoRegion { model: serving.id().to_owned() });
        }
    };
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    let unknown_region = unknown_region(&chosen);
    if let Some(warning) = &unknown_region {
        // Said once per region and process (a run makes many calls); kept in every resolution's warnings.
        static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        let mut said = SAID.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !said.iter().any(|r| r == chosen.id()) {
            said.push(chosen.id().to_owned());
            tracing::warn!("{warning}");
        }
        warnings.push(warning.clone());
    }
    Ok(ResolvedEndpoint {
        url: inference_url(&chosen),
        region: Some(chosen.id().to_owned()),
        endpoint_region: own_region,
        warnings,
        unknown_region,
    })
}

/// A warning for a region the table does not know: a typo, most often.
fn unknown_region(region: &RegionInfo) -> Option<String> {
    if region.is_known() {
        return None;
    }
    let nearest = region::suggestions(region.id());
    let guess = match nearest.as_slice() {
        [] => String::new(),
        names => format!("; did you mean {}?", names.join(" or ")),
    };
    Some(format!(
        "the region `{}` is not one this version knows{guess} (calling {} anyway; OCI_REGION_METADATA describes a \
         region newer than this release)",
        region.id(),
        inference_url(region)
    ))
}

/// `https://inference.generativeai.<region>.oci.<domain>`.
pub fn inference_url(region: &RegionInfo) -> String {
    format!("https://inference.generativeai.{}.oci.{}", region.id(), region.second_level_domain())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(explicit: Option<&str>, configured: Option<&str>, model: &str) -> Result<ResolvedEndpoint, Error> {
        let regions = RegionSettings { explicit: explicit.map(Into::into), configured: configured.map(Into::into) };
        resolve_endpoint(None, &regions, &ServingMode::from_model_id(model).unwrap(), &oci_auth::StaticEnv::new())
    }

    const DAC_ORD: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.x";

    #[test]
    fn an_unknown_region_is_called_with_a_warning_naming_the_nearest_known_ones() {
        let r = resolve(Some("us-chicgo-1"), None, "meta.llama").unwrap();
        assert_eq!(r.url, "https://inference.generativeai.us-chicgo-1.oci.oraclecloud.com");
        assert!(r.warnings.iter().any(|w| w.contains("did you mean us-chicago-1?")), "{:?}", r.warnings);
        assert!(resolve(Some("us-chicago-1"), None, "meta.llama").unwrap().warnings.is_empty());
    }

    #[test]
    fn on_demand_uses_the_configured_or_explicit_region() {
        let r = resolve(None, Some("fra"), "meta.llama").unwrap();
        assert_eq!(r.url, "https://inference.generativeai.eu-frankfurt-1.oci.oraclecloud.com");
        assert!(r.warnings.is_empty());
        let r = resolve(Some("ord"), Some("fra"), "meta.llama").unwrap();
        assert_eq!(r.region.as_deref(), Some("us-chicago-1"));
    }

    #[test]
    fn a_dedicated_endpoint_brings_its_region() {
        let r = resolve(None, None, DAC_ORD).unwrap();
        assert_eq!(r.url, "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com");
        let r = resolve(None, Some("us-ashburn-1"), DAC_ORD).unwrap();
        assert_eq!(r.region.as_deref(), Some("us-chicago-1"));
        assert!(r.warnings[0].contains("configured region is us-ashburn-1"), "{:?}", r.warnings);
    }

    #[test]
    fn an_explicit_region_wins_with_a_404_warning() {
        let r = resolve(Some("iad"), None, DAC_ORD).unwrap();
        assert_eq!(r.region.as_deref(), Some("us-ashburn-1"));
        assert!(r.warnings[0].contains("404") && r.warnings[0].contains("set the region to us-chicago-1"));
        assert!(resolve(Some("ord"), None, DAC_ORD).unwrap().warnings.is_empty());
    }

    #[test]
    fn no_region_at_all_is_an_error() {
        let err = resolve(None, None, "cohere.command-r-plus").unwrap_err();
        assert!(err.to_string().contains("region"), "{err}");
    }

    #[test]
    fn other_realms_use_their_domain() {
        let r = resolve(None, Some("us-langley-1"), "meta.llama").unwrap();
        assert_eq!(r.url, "https://inference.generativeai.us-langley-1.oci.oraclegovcloud.com");
    }

    #[test]
    fn an_explicit_endpoint_is_used_as_given() {
        let regions = RegionSettings::default();
        let mode = ServingMode::from_model_id(DAC_ORD).unwrap();
        let r = resolve_endpoint(Some("http://127.0.0.1:8080/"), &regions, &mode, &oci_auth::StaticEnv::new()).unwrap();
        assert_eq!(r.url, "http://127.0.0.1:8080");
    }
}
