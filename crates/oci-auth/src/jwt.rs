//! Just enough JWT to read when a token expires (we never verify it: the
//! service does).

use std::time::{Duration, SystemTime};

use base64::Engine as _;

/// The `exp` claim of a JWT, or what is wrong with the token.
pub(crate) fn expiry(token: &str) -> Result<SystemTime, String> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected three dot-separated parts".into());
    };
    let payload = payload.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| "the payload is not base64url".to_owned())?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| "the payload is not JSON".to_owned())?;
    let exp = claims
        .get("exp")
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| "the payload has no numeric `exp` claim".to_owned())?;
    if !(0.0..=1e12).contains(&exp) {
        return Err("the `exp` claim is out of range".into());
    }
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64(payload))
    }

    #[test]
    fn reads_exp() {
        let t = expiry(&token(r#"{"exp":4102444800,"sub":"x"}"#)).unwrap();
        assert_eq!(t, SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800));
    }

    #[test]
    fn rejects_malformed_tokens() {
        for (t, needle) in [
            ("abc".to_owned(), "three"),
            ("a.b.c.d".to_owned(), "three"),
            ("a.!!!.c".to_owned(), "base64url"),
            (token("not json"), "JSON"),
            (token(r#"{"sub":"x"}"#), "exp"),
            (token(r#"{"exp":"soon"}"#), "exp"),
            (token(r#"{"exp":-5}"#), "range"),
        ] {
            let err = expiry(&t).unwrap_err();
            assert!(err.contains(needle), "{t}: {err}");
        }
    }
}
