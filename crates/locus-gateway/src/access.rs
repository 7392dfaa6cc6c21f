//! Who may use the gateway: client keys, rate limits per key or address,
//! wrong keys throttled, and — without keys — only same-origin JSON
//! requests, so that no web page can spend the user's OCI credentials.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::HeaderMap;
use hyper::http::request::Parts;

use crate::config::GatewayConfig;
use crate::error::GatewayError;

/// Wrong keys one address may send in a minute before it is refused outright.
pub(crate) const WRONG_KEYS_PER_MINUTE: u32 = 10;
/// Clients remembered at once; past it, windows older than a minute are forgotten first.
const REMEMBERED_CLIENTS: usize = 4096;
const MINUTE: Duration = Duration::from_secs(60);

/// Whom a rate applies to: a key by its position, or an address without keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Client {
    Key(usize),
    Address(IpAddr),
}

/// Counts per client over one-minute windows.
#[derive(Debug, Default)]
pub(crate) struct Windows(Mutex<HashMap<Client, (Instant, u32)>>);

impl Windows {
    /// Counts one more for `client`; the count in its current window.
    fn count(&self, client: Client) -> u32 {
        let mut windows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if windows.len() >= REMEMBERED_CLIENTS && !windows.contains_key(&client) {
            windows.retain(|_, (start, _)| now.duration_since(*start) < MINUTE);
        }
        let entry = windows.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= MINUTE {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }

    /// The count in `client`'s current window, without counting.
    fn current(&self, client: Client) -> u32 {
        let windows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get(&client) {
            Some((start, n)) if start.elapsed() < MINUTE => *n,
            _ => 0,
        }
    }
}

/// The guard's memory.
#[derive(Debug, Default)]
pub(crate) struct Access {
    requests: Windows,
    wrong_keys: Windows,
}

impl Access {
    /// Lets the request in, or says why not: browser checks without keys,
    /// the key with keys, then the rate.
    pub(crate) fn admit(&self, config: &GatewayConfig, parts: &Parts, peer: SocketAddr) -> Result<(), GatewayError> {
        let client = if config.api_keys.is_empty() {
            same_origin(config, parts)?;
            Client::Address(peer.ip())
        } else {
            Client::Key(self.authenticate(config, &parts.headers, peer.ip())?)
        };
        let Some(per_minute) = config.requests_per_minute else { return Ok(()) };
        if self.requests.count(client) > per_minute {
            let whom = if matches!(client, Client::Key(_)) { "this key" } else { "this client address" };
            return Err(GatewayError::new(
                429,
                "rate_limit_error",
                "rate_limit_exceeded",
                format!("more than {per_minute} requests a minute for {whom}"),
            ));
        }
        Ok(())
    }

    /// The client's key, by position; compared in constant time. An address
    /// that sent too many wrong keys this minute is refused before any compare.
    fn authenticate(
        &self,
        config: &GatewayConfig,
        headers: &HeaderMap,
        address: IpAddr,
    ) -> Result<usize, GatewayError> {
        let wrong = Client::Address(address);
        if self.wrong_keys.current(wrong) >= WRONG_KEYS_PER_MINUTE {
            return Err(GatewayError::new(
                429,
                "rate_limit_error",
                "too_many_wrong_keys",
                format!("more than {WRONG_KEYS_PER_MINUTE} wrong API keys a minute from this address; wait a minute"),
            ));
        }
        let refused = || {
            GatewayError::new(
                401,
                "authentication_error",
                "invalid_api_key",
                "a valid API key is needed: Authorization: Bearer <key>",
            )
        };
        let Some(given) = headers.get(hyper::header::AUTHORIZATION).and_then(|v| bearer(v.as_bytes())) else {
            return Err(refused());
        };
        // Every key is compared, whatever matched: the time taken says nothing about which.
        let mut found = None;
        for (position, key) in config.api_keys.iter().enumerate() {
            if constant_time_eq(key.expose().as_bytes(), given) && found.is_none() {
                found = Some(position);
            }
        }
        found.ok_or_else(|| {
            self.wrong_keys.count(wrong);
            refused()
        })
    }
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 7235).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let space = value.iter().position(|b| *b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Without keys, a request a browser could send from another site is
/// refused: the `Host` must name the gateway itself (no DNS rebinding),
/// an `Origin` must be the gateway's own, and a POST must be JSON (a
/// cross-site form or `fetch` without a preflight cannot send that).
fn same_origin(config: &GatewayConfig, parts: &Parts) -> Result<(), GatewayError> {
    let forbidden = |message: String| GatewayError::new(403, "permission_error", "cross_site_refused", message);
    let host = parts.headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    if !is_own_host(host, config.listen) {
        return Err(forbidden(format!(
            "Host `{}` is not this gateway ({}): a gateway without API keys answers only requests addressed to it \
             by its loopback address or `localhost`",
            host.escape_debug(),
            config.listen
        )));
    }
    if let Some(origin) = parts.headers.get(hyper::header::ORIGIN) {
        let own =
            origin.to_str().ok().and_then(|o| o.strip_prefix("http://")).is_some_and(|o| is_own_host(o, config.listen));
        if !own {
            return Err(forbidden(format!(
                "requests from the web page at {} are refused: a gateway without API keys serves only local \
                 programs (give it keys with --api-keys to serve others)",
                String::from_utf8_lossy(origin.as_bytes()).escape_debug()
            )));
        }
    }
    if parts.method == hyper::Method::POST {
        let json = parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(GatewayError::new(
                415,
                "invalid_request_error",
                "unsupported_media_type",
                "send the request as JSON (Content-Type: application/json)",
            ));
        }
    }
    Ok(())
}

/// `localhost`, the listen address, or any loopback literal, with the listen port (or none for port 80).
fn is_own_host(host: &str, listen: SocketAddr) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !port.contains(']') => (name, port.parse::<u16>().ok()),
        _ => (host, Some(80)),
    };
    if port != Some(listen.port()) {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip == listen.ip() || (ip.is_loopback() && listen.ip().is_loopback()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"bearer  abc "), Some(&b"abc"[..]));
        assert_eq!(bearer(b"BEARER abc"), Some(&b"abc"[..]));
        assert_eq!(bearer(b"Basic abc"), None);
        assert_eq!(bearer(b"Bearer "), None);
        assert_eq!(bearer(b"Bearerabc"), None);
    }

    #[test]
    fn only_the_gateways_own_names_are_its_host() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap_or_else(|_| unreachable!());
        for own in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080", "127.0.0.2:8080"] {
            assert!(is_own_host(own, listen), "{own}");
        }
        for foreign in ["evil.example:8080", "127.0.0.1:8081", "127.0.0.1", "localhost.evil.example:8080", "", "[::1]"]
        {
            assert!(!is_own_host(foreign, listen), "{foreign}");
        }
        let port_80: SocketAddr = "127.0.0.1:80".parse().unwrap_or_else(|_| unreachable!());
        assert!(is_own_host("localhost", port_80));
    }
}
