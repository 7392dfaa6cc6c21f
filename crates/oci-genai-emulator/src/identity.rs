//! An instance identity: the metadata service (IMDS v2) and the auth
//! service's federation endpoint, for instance principals.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use oci_auth::SignableRequest;
use oci_auth::verify::{self, PublicKey, SignatureHeader};

/// A certificate chain and key, as an OCI instance has them.
pub(crate) struct Identity {
    pub leaf_pem: String,
    pub leaf_key_pem: String,
    pub intermediate_pem: String,
    /// `<tenancy>/fed-x509/<SHA-1 of the leaf>`: the key id federation requests must use.
    pub federation_key_id: String,
    pub leaf_public: PublicKey,
}

impl Identity {
    pub fn new(tenancy: &str) -> Result<Self, String> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca_key = KeyPair::generate().map_err(|e| e.to_string())?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "PKISVC Identity Intermediate (emulator)");
        let ca_cert = ca.self_signed(&ca_key).map_err(|e| e.to_string())?;
        let issuer = rcgen::Issuer::new(ca, ca_key);

        let (leaf, leaf_key_pem) = oci_auth::PrivateKey::generate_with_pem().map_err(|e| e.to_string())?;
        let leaf_key = KeyPair::from_pem_and_sign_algo(leaf_key_pem.expose(), &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| e.to_string())?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
        params.distinguished_name.push(DnType::CommonName, "ocid1.instance.oc1.us-chicago-1.emulator");
        params.distinguished_name.push(DnType::OrganizationalUnitName, format!("opc-tenant:{tenancy}"));
        let cert = params.signed_by(&leaf_key, &issuer).map_err(|e| e.to_string())?;
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.der());
        let fingerprint: Vec<String> = sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        Ok(Identity {
            leaf_pem: cert.pem(),
            leaf_key_pem: leaf_key_pem.expose().to_owned(),
            intermediate_pem: ca_cert.pem(),
            federation_key_id: format!("{tenancy}/fed-x509/{}", fingerprint.join(":")),
            leaf_public: PublicKey::from_spki_der(leaf.public_key_der()).map_err(|e| e.to_string())?,
        })
    }

    /// What `GET /opc/v2/<path>` answers.
    pub fn metadata(&self, path: &str, region: &str) -> Option<String> {
        Some(match path {
            "/opc/v2/instance/region" => region.to_owned(),
            "/opc/v2/instance/id" => "ocid1.instance.oc1.us-chicago-1.emulator".to_owned(),
            "/opc/v2/identity/cert.pem" => self.leaf_pem.clone(),
            "/opc/v2/identity/key.pem" => self.leaf_key_pem.clone(),
            "/opc/v2/identity/intermediate.pem" => self.intermediate_pem.clone(),
            _ => return None,
        })
    }

    /// Checks a federation request; returns the session public key it carries.
    pub fn federate(&self, signable: &SignableRequest<'_>, body: &[u8]) -> Result<PublicKey, String> {
        let authorization = signable.header("authorization").ok_or("no authorization")?;
        let header = SignatureHeader::parse(authorization).map_err(|e| e.to_string())?;
        if header.key_id() != self.federation_key_id {
            return Err(format!("unexpected key id {}", header.key_id()));
        }
        verify::verify(signable, &header, &self.leaf_public).map_err(|e| e.to_string())?;
        let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(json["publicKey"].as_str().ok_or("no publicKey")?)
            .map_err(|e| e.to_string())?;
        PublicKey::from_spki_der(&der).map_err(|e| e.to_string())
    }
}

/// A token (unsigned: clients only read its `exp`) valid `lifetime` seconds.
pub(crate) fn token(lifetime: u64, serial: usize) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let b64 = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.ZW11bGF0b3I",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#.into()),
        b64(format!(r#"{{"exp":{},"iat":{now},"sub":"instance-{serial}"}}"#, now + lifetime))
    )
}
