//! HTTP middleware: counts every request by route template (never the raw path, so the number of
//! series stays bounded whatever clients send), method and status, times it, and writes one log
//! line per request inside the request's span (so it carries the request id).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::{HttpLabels, Metrics, RouteLabels};

/// Route label of requests that matched no route (answered 404 by the fallback).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Paths polled by probes and scrapers: logged at debug so they do not drown the log.
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// The method as a label: the standard ones by name, anything else as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Decrements the in-flight gauge even when the request is dropped midway.
struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.http_in_flight.dec();
    }
}

pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let method = method_label(request.method());
    let started = Instant::now();
    metrics.http_in_flight.inc();
    let in_flight = InFlight(&metrics);
    let response = next.run(request).await;
    drop(in_flight);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics
        .http_duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method,
        })
        .observe(elapsed.as_secs_f64());
    // Microsecond precision, printed without binary-fraction noise.
    let elapsed_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    if is_probe(&route) {
        tracing::debug!(status, elapsed_ms, "request answered");
    } else {
        tracing::info!(status, elapsed_ms, "request answered");
    }
    metrics
        .http_requests
        .get_or_create(&HttpLabels {
            route,
            method,
            status,
        })
        .inc();
    response
}
