//! Cross-site request forgery defence: a same-origin check on every state-changing request.
//!
//! Choice: the forms must work without JavaScript, so a custom header (htmx's `HX-Request`)
//! cannot be required: a plain form POST cannot send one. Instead every request other than
//! GET, HEAD and OPTIONS must prove it comes from a page of this origin:
//! - `Sec-Fetch-Site`, when the browser sends it, must be `same-origin`;
//! - `Origin`, when sent, must name this host and port (`null` is refused);
//! - without `Origin`, `Referer` must name this host and port;
//! - a request with none of the three is refused.
//!
//! Browsers send `Origin` (and `Sec-Fetch-Site`) on every POST, and pages are served with
//! `Referrer-Policy: same-origin`, so the console's own forms always pass; a form on another
//! site cannot forge them. The host compared is the request's `Host`: a reverse proxy in front
//! of Valence must pass the original `Host` through. Pages also forbid framing
//! (`frame-ancestors 'none'`), so a click cannot be hijacked either.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

/// Refuses state-changing requests that do not come from this origin.
pub async fn same_origin(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && let Err(why) = check(request.headers()) {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), why, "cross-site request refused");
        return WebError::CrossSite(why).into_response();
    }
    next.run(request).await
}

/// `Ok` when the headers show a request from a page of this origin.
pub fn check(headers: &HeaderMap) -> Result<(), &'static str> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text(header::HOST).ok_or("the request has no Host header")?;
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
    {
        return Err("the browser says it came from another site");
    }
    match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) => {
            if same_authority(origin, host) {
                Ok(())
            } else {
                Err("its Origin is another site")
            }
        }
        (None, Some(referer)) => {
            if same_authority(referer, host) {
                Ok(())
            } else {
                Err("its Referer is another site")
            }
        }
        (None, None) => Err("it carries neither Origin nor Referer"),
    }
}

/// Whether `url` (an origin or a full URL) has the host and port of `host` (a `Host` header).
fn same_authority(url: &str, host: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    // The Host header is read with the origin's scheme so that default ports compare equal.
    let Ok(server) = url::Url::parse(&format!("{}://{host}/", url.scheme())) else {
        return false;
    };
    server.path() == "/"
        && server.username().is_empty()
        && url.host_str().is_some()
        && url.host_str() == server.host_str()
        && url.port_or_known_default() == server.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_posts_pass() {
        assert!(
            check(&headers(&[
                ("host", "127.0.0.1:8181"),
                ("origin", "http://127.0.0.1:8181")
            ]))
            .is_ok()
        );
        assert!(
            check(&headers(&[
                ("host", "valence.example"),
                ("origin", "https://valence.example")
            ]))
            .is_ok()
        );
        assert!(
            check(&headers(&[
                ("host", "valence.example:443"),
                ("origin", "https://valence.example")
            ]))
            .is_ok()
        );
        assert!(
            check(&headers(&[
                ("host", "127.0.0.1:8181"),
                ("referer", "http://127.0.0.1:8181/ui/flavors")
            ]))
            .is_ok()
        );
        assert!(
            check(&headers(&[
                ("host", "127.0.0.1:8181"),
                ("origin", "http://127.0.0.1:8181"),
                ("sec-fetch-site", "same-origin")
            ]))
            .is_ok()
        );
    }

    #[test]
    fn cross_site_and_anonymous_posts_are_refused() {
        for case in [
            headers(&[("host", "127.0.0.1:8181")]),
            headers(&[
                ("host", "127.0.0.1:8181"),
                ("origin", "http://evil.example"),
            ]),
            headers(&[
                ("host", "127.0.0.1:8181"),
                ("origin", "http://127.0.0.1:9999"),
            ]),
            headers(&[("host", "127.0.0.1:8181"), ("origin", "null")]),
            headers(&[
                ("host", "127.0.0.1:8181"),
                ("referer", "http://evil.example/ui"),
            ]),
            headers(&[
                ("host", "127.0.0.1:8181"),
                ("origin", "http://127.0.0.1:8181"),
                ("sec-fetch-site", "cross-site"),
            ]),
            headers(&[("origin", "http://127.0.0.1:8181")]),
            headers(&[
                ("host", "127.0.0.1:8181/evil"),
                ("origin", "http://127.0.0.1:8181"),
            ]),
        ] {
            assert!(check(&case).is_err(), "{case:?} passed");
        }
    }
}
