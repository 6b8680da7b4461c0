//! Reading forms and query strings: every field arrives as text; these helpers turn it into
//! typed values or into a message shown next to the field.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use valence_api::ApiError;

use crate::error::WebError;

/// A URL-encoded form body; a body that does not parse is a 400 page.
#[derive(Debug)]
pub struct HtmlForm<T>(pub T);

impl<S, T> FromRequest<S> for HtmlForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(value)| HtmlForm(value))
            .map_err(|rejection| WebError::BadRequest(rejection.body_text()))
    }
}

/// A query string; one that does not parse is a 400 page.
#[derive(Debug)]
pub struct HtmlQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for HtmlQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| HtmlQuery(value))
            .map_err(|rejection| WebError::BadRequest(rejection.body_text()))
    }
}

/// Messages of a form that was refused: one above the form, and per field.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    pub summary: Option<String>,
    pub fields: Vec<(&'static str, String)>,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.summary.is_none() && self.fields.is_empty()
    }

    /// The message of form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, message)| message.as_str())
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.fields.push((field, message.into()));
    }

    /// An error of a service: next to the form field it names, when `fields` maps the request
    /// field it names to one (`(api field prefix, form field)`), with its title above the
    /// form; otherwise all of it above the form.
    pub fn from_api(err: &ApiError, fields: &[(&str, &'static str)]) -> Self {
        let named = err
            .extra
            .as_ref()
            .and_then(|extra| extra.get("field"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .or_else(|| err.detail.split_once(':').map(|(f, _)| f.trim().to_owned()));
        let mut errors = FormErrors::default();
        if let Some(named) = named
            && let Some((_, form_field)) = fields
                .iter()
                .find(|(api_field, _)| named.starts_with(api_field))
        {
            errors.add(form_field, err.detail.clone());
            errors.summary = Some(format!("{}.", err.code.title()));
        } else {
            errors.summary = Some(format!("{}: {}", err.code.title(), err.detail));
        }
        errors
    }

    /// Summary for field errors found while reading the form.
    pub fn with_summary(mut self) -> Self {
        if self.summary.is_none() && !self.fields.is_empty() {
            self.summary = Some(if self.fields.len() == 1 {
                "One field needs attention.".to_owned()
            } else {
                format!("{} fields need attention.", self.fields.len())
            });
        }
        self
    }
}

/// Trimmed text, `None` when blank.
pub fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A checkbox: browsers send it only when checked.
pub fn checked(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.is_empty())
}

/// A whole number of at least `min`, `None` when blank; otherwise a message for `errors`
/// that starts with the field's `label`.
pub fn number(
    errors: &mut FormErrors,
    (field, label): (&'static str, &str),
    value: &Option<String>,
    min: u64,
) -> Option<u64> {
    let raw = text(value)?;
    match raw.parse::<u64>() {
        Ok(n) if n >= min => Some(n),
        Ok(_) => {
            errors.add(field, format!("{label}: must be at least {min}"));
            None
        }
        Err(_) => {
            errors.add(field, format!("{label}: {raw:?} is not a whole number"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use valence_api::ErrorCode;

    #[test]
    fn numbers_are_checked_and_blank_is_none() {
        let mut errors = FormErrors::default();
        let cores = ("cores", "Cores");
        assert_eq!(number(&mut errors, cores, &Some(" 8 ".into()), 1), Some(8));
        assert_eq!(number(&mut errors, cores, &Some(String::new()), 1), None);
        assert_eq!(number(&mut errors, cores, &None, 1), None);
        assert!(errors.is_empty());
        assert_eq!(number(&mut errors, cores, &Some("0".into()), 1), None);
        let memory = ("memory", "Memory");
        assert_eq!(number(&mut errors, memory, &Some("lots".into()), 1), None);
        assert_eq!(errors.field("cores"), Some("Cores: must be at least 1"));
        assert!(errors.field("memory").is_some_and(|m| m.contains("lots")));
        assert!(errors.with_summary().summary.is_some());
    }

    #[test]
    fn api_errors_land_on_the_named_field() {
        let err = ApiError::invalid_field("url", "is not a URL").with("field", "url".into());
        let errors = FormErrors::from_api(&err, &[("name", "name"), ("url", "url")]);
        assert_eq!(errors.field("url"), Some("url: is not a URL"));
        assert_eq!(errors.summary.as_deref(), Some("Invalid field."));

        let err = ApiError::invalid_field("authentication[0].auth_items.password", "must be given");
        let errors = FormErrors::from_api(&err, &[("authentication", "password")]);
        assert!(errors.field("password").is_some());

        let err = ApiError::new(ErrorCode::PodmUnreachable, "no answer");
        let errors = FormErrors::from_api(&err, &[("url", "url")]);
        assert!(errors.fields.is_empty());
        assert!(errors.summary.is_some_and(|s| s.contains("unreachable")));
    }
}
