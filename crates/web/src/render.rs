//! Small pieces of markup shared by the pages (form fields with their errors, usage meters,
//! times) and the response headers every page gets.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use valence_pod_manager_api::Requirements;

use crate::form::FormErrors;

/// Everything comes from this origin; nothing inline runs (htmx is configured not to inject
/// its indicator style), and no other site may frame a page.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers; pages (not assets) are never cached, as they show live state.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Same-origin requests keep their Referer: the CSRF check may fall back on it.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Attributes of an input for its error: `aria-invalid` and the id of the message.
fn error_id(name: &str) -> String {
    format!("{name}-error")
}

/// The message under a field, when it has one.
pub fn field_error(errors: &FormErrors, name: &str) -> Markup {
    html! {
        @if let Some(message) = errors.field(name) {
            p.field-error id=(error_id(name)) { (message) }
        }
    }
}

/// Options of an `<input>` beyond its name, label and value.
#[derive(Debug, Clone, Copy, Default)]
pub struct InputOpts<'a> {
    pub input_type: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
    pub placeholder: Option<&'a str>,
    pub autocomplete: Option<&'a str>,
    pub inputmode: Option<&'a str>,
    pub min: Option<&'a str>,
}

/// A labelled input with its hint and error message.
pub fn input(
    name: &str,
    label: &str,
    value: Option<&str>,
    errors: &FormErrors,
    opts: InputOpts<'_>,
) -> Markup {
    let id = format!("f-{name}");
    let hint_id = format!("{name}-hint");
    let invalid = errors.field(name).is_some();
    let described = match (opts.hint.is_some(), invalid) {
        (true, true) => Some(format!("{hint_id} {}", error_id(name))),
        (true, false) => Some(hint_id.clone()),
        (false, true) => Some(error_id(name)),
        (false, false) => None,
    };
    let input_type = if opts.input_type.is_empty() {
        "text"
    } else {
        opts.input_type
    };
    html! {
        div.field {
            label for=(id) { (label) @if opts.required { " " span.required aria-hidden="true" { "*" } } }
            @if let Some(hint) = opts.hint { p.hint id=(hint_id) { (hint) } }
            input id=(id) name=(name) type=(input_type) value=[value]
                required[opts.required] placeholder=[opts.placeholder]
                autocomplete=[opts.autocomplete] inputmode=[opts.inputmode] min=[opts.min]
                aria-invalid=[invalid.then_some("true")] aria-describedby=[described];
            (field_error(errors, name))
        }
    }
}

/// A labelled `<select>`: `options` are `(value, text, disabled)`.
pub fn select(
    name: &str,
    label: &str,
    options: &[(String, String, bool)],
    selected: Option<&str>,
    errors: &FormErrors,
    hint: Option<&str>,
) -> Markup {
    let id = format!("f-{name}");
    let hint_id = format!("{name}-hint");
    let invalid = errors.field(name).is_some();
    let described = match (hint.is_some(), invalid) {
        (true, true) => Some(format!("{hint_id} {}", error_id(name))),
        (true, false) => Some(hint_id.clone()),
        (false, true) => Some(error_id(name)),
        (false, false) => None,
    };
    html! {
        div.field {
            label for=(id) { (label) }
            @if let Some(hint) = hint { p.hint id=(hint_id) { (hint) } }
            select id=(id) name=(name) aria-invalid=[invalid.then_some("true")] aria-describedby=[described] {
                @for (value, text, disabled) in options {
                    option value=(value) selected[selected == Some(value.as_str())] disabled[*disabled] { (text) }
                }
            }
            (field_error(errors, name))
        }
    }
}

/// A labelled checkbox.
pub fn checkbox(name: &str, label: &str, checked: bool, hint: Option<&str>) -> Markup {
    let id = format!("f-{name}");
    let hint_id = format!("{name}-hint");
    html! {
        div.field.check {
            input id=(id) name=(name) type="checkbox" value="on" checked[checked]
                aria-describedby=[hint.map(|_| hint_id.clone())];
            label for=(id) { (label) }
            @if let Some(hint) = hint { p.hint id=(hint_id) { (hint) } }
        }
    }
}

/// The error summary above a form; focused on load so keyboard and screen-reader users land
/// on it.
pub fn error_summary(errors: &FormErrors) -> Markup {
    html! {
        @if let Some(summary) = &errors.summary {
            div.error-summary role="alert" tabindex="-1" autofocus {
                h2 { "The request was not accepted" }
                p { (summary) }
                @if !errors.fields.is_empty() {
                    ul {
                        @for (field, message) in &errors.fields {
                            li { a href=(format!("#f-{field}")) { (message) } }
                        }
                    }
                }
            }
        }
    }
}

/// `free` of `total` as a meter with the figures in words beside it.
pub fn usage_meter(label: &str, free: u64, total: u64, unit: &str) -> Markup {
    let text = if unit.is_empty() {
        format!("{free} of {total} free")
    } else {
        format!("{free} of {total} {unit} free")
    };
    html! {
        div.usage {
            meter min="0" max=(total.max(1)) value=(free) low=(total / 5) optimum=(total) title=(text) aria-label=(format!("{label}: {text}")) {}
            span.usage-text { (text) }
        }
    }
}

/// MiB as GiB with at most one decimal.
pub fn gib(mib: u64) -> String {
    let tenths = (mib * 10 + 512) / 1024;
    if tenths.is_multiple_of(10) {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// A time in UTC, machine-readable in `datetime`.
pub fn time(t: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S UTC")) }
    }
}

/// A time with how long ago it was, for "last seen".
pub fn time_ago(t: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    let secs = (now - t).num_seconds().max(0);
    let ago = match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    };
    html! {
        time datetime=(t.to_rfc3339()) title=(t.format("%Y-%m-%d %H:%M:%S UTC")) { (ago) }
    }
}

/// Requirements in words: `at least 8 cores, 32 GiB memory, a 100 GiB SSD`.
pub fn requirements(req: &Requirements) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &req.processor {
        match p.total_cores {
            Some(1) => parts.push("1 core".to_owned()),
            Some(cores) => parts.push(format!("{cores} cores")),
            None => {}
        }
        if let Some(model) = &p.model {
            parts.push(format!("processor {model}"));
        }
        if let Some(set) = &p.instruction_set {
            parts.push(set.clone());
        }
    }
    if let Some(m) = &req.memory {
        if let Some(mib) = m.capacity_mib {
            parts.push(format!("{} GiB memory", gib(mib)));
        }
        if let Some(t) = &m.memory_type {
            parts.push(t.clone());
        }
    }
    for drive in &req.storage {
        let size = drive
            .capacity_gib
            .map_or_else(|| "a".to_owned(), |g| format!("a {g} GiB"));
        let kind = drive.drive_type.as_deref().unwrap_or("drive");
        parts.push(format!("{size} {kind}"));
    }
    if parts.is_empty() {
        "anything free".to_owned()
    } else {
        format!("at least {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gib_rounds_to_a_tenth() {
        assert_eq!(gib(1024), "1");
        assert_eq!(gib(1536), "1.5");
        assert_eq!(gib(98_304), "96");
        assert_eq!(gib(0), "0");
    }

    #[test]
    fn requirements_read_as_words() {
        assert_eq!(requirements(&Requirements::default()), "anything free");
        let req: Requirements = serde_json::from_value(serde_json::json!({
            "processor": {"total_cores": 8},
            "memory": {"capacity_mib": 32768},
            "storage": [{"capacity_gib": 100, "type": "SSD"}]
        }))
        .unwrap();
        assert_eq!(
            requirements(&req),
            "at least 8 cores, 32 GiB memory, a 100 GiB SSD"
        );
    }

    #[test]
    fn inputs_carry_their_error() {
        let mut errors = FormErrors::default();
        errors.add("url", "is not a URL <b>");
        let html = input("url", "URL", Some("x\"y"), &errors, InputOpts::default()).into_string();
        assert!(html.contains(r#"aria-invalid="true""#), "{html}");
        assert!(html.contains(r#"aria-describedby="url-error""#), "{html}");
        assert!(html.contains("is not a URL &lt;b&gt;"), "{html}");
        assert!(html.contains(r#"value="x&quot;y""#), "{html}");
    }
}
