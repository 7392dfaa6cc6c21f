//! Serving modes: an on-demand model or a Dedicated AI Cluster endpoint.

use oci_auth::Env;
use oci_auth::region::{self, RegionInfo};

use crate::error::Error;
use crate::models;

/// Whether `id` is an OCID (`ocid1.…`, any case) rather than a model name.
///
/// ```
/// assert!(oci_genai_transport::is_ocid("OCID1.generativeaiendpoint.oc1.iad.x"));
/// assert!(!oci_genai_transport::is_ocid("meta.llama-3.3-70b-instruct"));
/// ```
pub fn is_ocid(id: &str) -> bool {
    id.trim().get(..6).is_some_and(|start| start.eq_ignore_ascii_case("ocid1."))
}

/// How a request reaches a model.
///
/// ```
/// use oci_genai_transport::ServingMode;
/// let dac = ServingMode::from_model_id("ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaa")?;
/// assert!(dac.is_dedicated());
/// assert_eq!(dac.endpoint_region(&oci_auth::StaticEnv::new()).map(|r| r.id().to_owned()), Some("us-chicago-1".into()));
/// assert_eq!(ServingMode::from_model_id("openai.gpt-5")?, ServingMode::OnDemand { model_id: "openai.gpt-5".into() });
/// assert!(ServingMode::from_model_id("ocid1.generativeaicluster.oc1.iad.x").is_err());
/// # Ok::<(), oci_genai_transport::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServingMode {
    /// A pay-per-token model, by name (`meta.llama-3.3-70b-instruct`) or model OCID.
    OnDemand {
        /// The model name or `ocid1.generativeaimodel…` OCID.
        model_id: String,
    },
    /// A Dedicated AI Cluster endpoint (`ocid1.generativeaiendpoint…`).
    Dedicated {
        /// The endpoint OCID.
        endpoint_id: String,
    },
}

impl ServingMode {
    /// Chooses the serving mode from a model id: endpoint OCIDs (any case)
    /// are dedicated; model names and model OCIDs are on demand; any other
    /// OCID is an error naming its kind.
    pub fn from_model_id(id: &str) -> Result<Self, Error> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::InvalidModelId { id: id.to_owned(), reason: "it is empty".into() });
        }
        let lower = id.to_ascii_lowercase();
        if lower.starts_with("ocid1.generativeaiendpoint.") {
            // The region part picks the host called: it must be a region, nothing else.
            let region = lower.split('.').nth(3).unwrap_or_default();
            let checked =
                if region.is_empty() { Ok(()) } else { region::resolve(region, &oci_auth::StaticEnv::new()).map(drop) };
            if let Err(e) = checked {
                return Err(Error::InvalidModelId {
                    id: id.escape_default().to_string(),
                    reason: format!(
                        "its region part is not usable ({e}); an endpoint OCID reads \
                         ocid1.generativeaiendpoint.oc1.<region>.<unique id>"
                    ),
                });
            }
            return Ok(ServingMode::Dedicated { endpoint_id: id.to_owned() });
        }
        if lower.starts_with("ocid1.generativeaimodel.") || !is_ocid(id) {
            return Ok(ServingMode::OnDemand { model_id: id.to_owned() });
        }
        let kind = lower.split('.').nth(1).unwrap_or_default().to_owned();
        Err(Error::InvalidModelId {
            id: id.to_owned(),
            reason: format!(
                "it is the OCID of a `{kind}`, not of a model or an endpoint; pass a model name, an \
                 ocid1.generativeaimodel… OCID or an ocid1.generativeaiendpoint… OCID"
            ),
        })
    }

    /// Whether this is a dedicated endpoint.
    pub fn is_dedicated(&self) -> bool {
        matches!(self, ServingMode::Dedicated { .. })
    }

    /// The model or endpoint id.
    pub fn id(&self) -> &str {
        match self {
            ServingMode::OnDemand { model_id } => model_id,
            ServingMode::Dedicated { endpoint_id } => endpoint_id,
        }
    }

    /// The region named inside a dedicated endpoint's OCID
    /// (`ocid1.generativeaiendpoint.oc1.<region>.<id>`; short codes too).
    pub fn endpoint_region(&self, env: &dyn Env) -> Option<RegionInfo> {
        let ServingMode::Dedicated { endpoint_id } = self else { return None };
        let region = endpoint_id.split('.').nth(3).filter(|r| !r.is_empty())?;
        region::resolve(region, env).ok()
    }

    /// The wire form.
    pub fn to_wire(&self) -> models::ServingMode {
        match self {
            ServingMode::OnDemand { model_id } => {
                models::ServingMode::OnDemand(models::OnDemandServingMode { model_id: model_id.clone() })
            }
            ServingMode::Dedicated { endpoint_id } => {
                models::ServingMode::Dedicated(models::DedicatedServingMode { endpoint_id: endpoint_id.clone() })
            }
        }
    }

    /// From the wire form (`None` for a serving type this version does not know).
    pub fn from_wire(wire: &models::ServingMode) -> Option<Self> {
        match wire {
            models::ServingMode::OnDemand(m) => Some(ServingMode::OnDemand { model_id: m.model_id.clone() }),
            models::ServingMode::Dedicated(d) => Some(ServingMode::Dedicated { endpoint_id: d.endpoint_id.clone() }),
            models::ServingMode::Unknown(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_choose_the_mode() {
        for (id, dedicated) in [
            ("ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaa", true),
            ("OCID1.GenerativeAIEndpoint.OC1.IAD.AMAAAA", true),
            ("ocid1.generativeaimodel.oc1.us-chicago-1.amaaaa", false),
            ("cohere.command-r-plus-08-2024", false),
            ("  meta.llama-3.3-70b-instruct ", false),
        ] {
            assert_eq!(ServingMode::from_model_id(id).unwrap().is_dedicated(), dedicated, "{id}");
        }
        let err = ServingMode::from_model_id("ocid1.compartment.oc1..aaaa").unwrap_err().to_string();
        assert!(err.contains("`compartment`"), "{err}");
        assert!(ServingMode::from_model_id(" ").is_err());
        let err = ServingMode::from_model_id("ocid1.generativeaiendpoint.oc1.evil#com/x.amaaaa").unwrap_err();
        assert!(err.to_string().contains("region part is not usable"), "{err}");
    }

    #[test]
    fn endpoint_regions_parse_long_and_short() {
        let env = oci_auth::StaticEnv::new();
        let region =
            |id: &str| ServingMode::from_model_id(id).unwrap().endpoint_region(&env).map(|r| r.id().to_owned());
        assert_eq!(region("ocid1.generativeaiendpoint.oc1.iad.x").as_deref(), Some("us-ashburn-1"));
        assert_eq!(region("ocid1.generativeaiendpoint.oc1.eu-frankfurt-1.x").as_deref(), Some("eu-frankfurt-1"));
        assert_eq!(region("ocid1.generativeaiendpoint.oc1..x"), None);
        assert_eq!(region("meta.llama"), None);
    }

    #[test]
    fn wire_round_trip() {
        for id in ["openai.gpt-5", "ocid1.generativeaiendpoint.oc1.iad.x"] {
            let mode = ServingMode::from_model_id(id).unwrap();
            assert_eq!(ServingMode::from_wire(&mode.to_wire()), Some(mode));
        }
    }
}
