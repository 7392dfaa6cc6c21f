//! Which requests go through a proxy: decided once, from the client's
//! environment, for reqwest and for streams' own connections alike.
//!
//! The variables are curl's, read as hyper-util reads them: `HTTPS_PROXY` /
//! `https_proxy` for `https://` URLs, `HTTP_PROXY` / `http_proxy` for
//! `http://` ones, `ALL_PROXY` / `all_proxy` for either, and `NO_PROXY` /
//! `no_proxy` (host names and their subdomains, IP addresses and ranges,
//! `*`). Under CGI (`REQUEST_METHOD` set) none is read, as a request's
//! `Proxy:` header would reach `HTTP_PROXY` ("httpoxy").

use std::sync::Arc;

use hyper_util::client::proxy::matcher::Matcher;
use oci_auth::Env;

/// An `http://` proxy to open a `CONNECT` tunnel through.
#[derive(Clone)]
pub(crate) struct Tunnel {
    pub host: String,
    pub port: u16,
    /// `Proxy-Authorization` (basic, from the proxy URL's user and password).
    pub authorization: Option<http::HeaderValue>,
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunnel").field("host", &self.host).field("port", &self.port).finish_non_exhaustive()
    }
}

/// How a stream reaches its URL ([`Proxies::stream_route`]).
#[derive(Debug)]
pub(crate) enum StreamRoute {
    /// Its own connection, straight to the service.
    Direct,
    /// Its own connection, through this proxy's `CONNECT` tunnel.
    Tunnel(Tunnel),
    /// Through reqwest, with the same proxy.
    Reqwest,
}

/// The proxy settings of one client.
#[derive(Clone)]
pub(crate) struct Proxies {
    matcher: Arc<Matcher>,
    /// The variables' own values (user and password included), by URL scheme.
    http: Option<String>,
    https: Option<String>,
}

impl std::fmt::Debug for Proxies {
    // A proxy URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxies").field("http", &self.http.is_some()).field("https", &self.https.is_some()).finish()
    }
}

impl Proxies {
    pub fn from_env(env: &dyn Env) -> Self {
        let first = |names: [&str; 2]| names.iter().find_map(|name| env.var(name)).filter(|v| !v.trim().is_empty());
        if env.var("REQUEST_METHOD").is_some() {
            return Proxies { matcher: Arc::new(Matcher::builder().build()), http: None, https: None };
        }
        let all = first(["ALL_PROXY", "all_proxy"]);
        let http = first(["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone());
        let https = first(["HTTPS_PROXY", "https_proxy"]).or(all);
        let mut builder = Matcher::builder();
        if let Some(http) = &http {
            builder = builder.http(http.clone());
        }
        if let Some(https) = &https {
            builder = builder.https(https.clone());
        }
        if let Some(no) = first(["NO_PROXY", "no_proxy"]) {
            builder = builder.no(no);
        }
        Proxies { matcher: Arc::new(builder.build()), http, https }
    }

    /// Whether a request to `uri` goes through a proxy.
    pub fn applies_to(&self, uri: &http::Uri) -> bool {
        self.matcher.intercept(uri).is_some()
    }

    /// How a stream to `uri` reaches it, decided once: directly; through a
    /// `CONNECT` tunnel, for an `https://` URL behind a plain `http://` proxy
    /// (the kind a stream's own connection speaks); or through reqwest,
    /// behind any other proxy.
    pub fn stream_route(&self, uri: &http::Uri) -> StreamRoute {
        let Some(intercept) = self.matcher.intercept(uri) else { return StreamRoute::Direct };
        let proxy = intercept.uri();
        match (uri.scheme_str(), proxy.scheme_str(), proxy.host()) {
            (Some("https"), Some("http"), Some(host)) => StreamRoute::Tunnel(Tunnel {
                host: host.to_owned(),
                port: proxy.port_u16().unwrap_or(80),
                authorization: intercept.basic_auth().cloned(),
            }),
            _ => StreamRoute::Reqwest,
        }
    }

    /// The same decision for reqwest: the proxy's URL as given (with its
    /// credentials, which reqwest sends as `Proxy-Authorization`).
    pub fn for_reqwest(&self) -> Option<reqwest::Proxy> {
        if self.http.is_none() && self.https.is_none() {
            return None;
        }
        let proxies = self.clone();
        Some(reqwest::Proxy::custom(move |url| {
            let uri: http::Uri = url.as_str().parse().ok()?;
            if !proxies.applies_to(&uri) {
                return None;
            }
            match url.scheme() {
                "https" => proxies.https.clone(),
                _ => proxies.http.clone(),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use oci_auth::StaticEnv;

    use super::*;

    fn uri(s: &str) -> http::Uri {
        s.parse().unwrap()
    }

    #[test]
    fn no_variable_no_proxy() {
        let proxies = Proxies::from_env(&StaticEnv::new());
        assert!(!proxies.applies_to(&uri("https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/")));
        assert!(proxies.for_reqwest().is_none());
        let blank = Proxies::from_env(&StaticEnv::new().with_var("HTTPS_PROXY", " "));
        assert!(!blank.applies_to(&uri("https://a.example/")));
    }

    #[test]
    fn each_scheme_has_its_variable_and_no_proxy_excludes_hosts_and_subdomains() {
        let env = StaticEnv::new()
            .with_var("https_proxy", "http://user:pw@proxy.example:3128")
            .with_var("NO_PROXY", "localhost,127.0.0.1,.internal.example");
        let proxies = Proxies::from_env(&env);
        assert!(proxies.applies_to(&uri("https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/x")));
        assert!(!proxies.applies_to(&uri("http://inference.example/x")), "no HTTP_PROXY");
        assert!(!proxies.applies_to(&uri("https://127.0.0.1:8443/x")));
        assert!(!proxies.applies_to(&uri("https://genai.internal.example/x")));
        assert!(!format!("{proxies:?}").contains("pw"));
    }

    #[test]
    fn https_through_an_http_proxy_is_tunnelled_with_its_credentials() {
        let env = StaticEnv::new().with_var("HTTPS_PROXY", "http://user:pw@proxy.example:3128");
        let proxies = Proxies::from_env(&env);
        let StreamRoute::Tunnel(tunnel) = proxies.stream_route(&uri("https://inference.example/x")) else {
            panic!("not tunnelled")
        };
        assert_eq!((tunnel.host.as_str(), tunnel.port), ("proxy.example", 3128));
        assert_eq!(tunnel.authorization.unwrap(), "Basic dXNlcjpwdw==");
        assert!(!format!("{:?}", proxies.stream_route(&uri("https://a.example/"))).contains("dXNl"));
        let socks = Proxies::from_env(&StaticEnv::new().with_var("HTTPS_PROXY", "socks5://proxy.example:1080"));
        assert!(matches!(socks.stream_route(&uri("https://a.example/")), StreamRoute::Reqwest));
    }

    #[test]
    fn all_proxy_serves_both_schemes_and_cgi_reads_none() {
        let env = StaticEnv::new().with_var("ALL_PROXY", "http://proxy.example:3128");
        let proxies = Proxies::from_env(&env);
        assert!(proxies.applies_to(&uri("http://a.example/")) && proxies.applies_to(&uri("https://a.example/")));
        let cgi = Proxies::from_env(&env.with_var("REQUEST_METHOD", "GET"));
        assert!(!cgi.applies_to(&uri("https://a.example/")));
    }
}
