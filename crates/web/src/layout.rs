//! The frame of every page: head, skip link, navigation, notices, and the error page.

use maud::{DOCTYPE, Markup, html};

use crate::assets::{HTMX_URL, STYLE_URL};
use crate::error::WebError;

/// Sections of the navigation; the current one is marked `aria-current="page"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    PodManagers,
    Systems,
    Nodes,
    Compose,
    Flavors,
    None,
}

const NAV: [(Section, &str, &str); 5] = [
    (Section::PodManagers, "/ui/pod_managers", "Pod managers"),
    (Section::Systems, "/ui/systems", "Systems"),
    (Section::Nodes, "/ui/nodes", "Nodes"),
    (Section::Compose, "/ui/nodes/new", "Compose"),
    (Section::Flavors, "/ui/flavors", "Flavors"),
];

/// htmx settings: no injected `<style>` (the CSP allows none), and error answers are swapped in
/// like any other, because they carry the message to show.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"historyCacheSize":0,"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}"#;

/// A confirmation shown after a redirect, chosen by a fixed key so no text from the URL is
/// ever echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Registered,
    Updated,
    Cordoned,
    Uncordoned,
    PodmDeleted,
    ResetSent,
    BootSet,
    Decomposed,
    FlavorCreated,
    FlavorDeleted,
}

impl Notice {
    pub fn key(self) -> &'static str {
        match self {
            Notice::Registered => "registered",
            Notice::Updated => "updated",
            Notice::Cordoned => "cordoned",
            Notice::Uncordoned => "uncordoned",
            Notice::PodmDeleted => "podm-deleted",
            Notice::ResetSent => "reset",
            Notice::BootSet => "boot",
            Notice::Decomposed => "decomposed",
            Notice::FlavorCreated => "flavor-created",
            Notice::FlavorDeleted => "flavor-deleted",
        }
    }

    pub fn parse(key: Option<&str>) -> Option<Notice> {
        let all = [
            Notice::Registered,
            Notice::Updated,
            Notice::Cordoned,
            Notice::Uncordoned,
            Notice::PodmDeleted,
            Notice::ResetSent,
            Notice::BootSet,
            Notice::Decomposed,
            Notice::FlavorCreated,
            Notice::FlavorDeleted,
        ];
        let key = key?;
        all.into_iter().find(|n| n.key() == key)
    }

    fn text(self) -> &'static str {
        match self {
            Notice::Registered => "Pod manager registered.",
            Notice::Updated => "Pod manager updated.",
            Notice::Cordoned => "Pod manager cordoned: the scheduler no longer places nodes on it.",
            Notice::Uncordoned => "Pod manager uncordoned: it receives new nodes again.",
            Notice::PodmDeleted => "Pod manager deleted.",
            Notice::ResetSent => "Reset sent to the node.",
            Notice::BootSet => "Boot override set.",
            Notice::Decomposed => "Node decomposed: its resources are back in the pool.",
            Notice::FlavorCreated => "Flavor created.",
            Notice::FlavorDeleted => "Flavor deleted.",
        }
    }
}

/// What a page puts in the frame.
#[derive(Debug)]
pub struct Page<'a> {
    pub title: &'a str,
    pub section: Section,
    pub notice: Option<Notice>,
    /// Reload after this many seconds when JavaScript is off (a node being composed).
    pub refresh_without_js: Option<u32>,
    pub body: Markup,
}

impl<'a> Page<'a> {
    pub fn new(title: &'a str, section: Section, body: Markup) -> Self {
        Page {
            title,
            section,
            notice: None,
            refresh_without_js: None,
            body,
        }
    }

    pub fn notice(mut self, notice: Option<Notice>) -> Self {
        self.notice = notice;
        self
    }

    pub fn refresh_without_js(mut self, seconds: Option<u32>) -> Self {
        self.refresh_without_js = seconds;
        self
    }

    pub fn render(self) -> Markup {
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="htmx-config" content=(HTMX_CONFIG);
                    title { (self.title) " · Valence" }
                    // No icon to fetch: browsers would otherwise ask for /favicon.ico.
                    link rel="icon" href="data:,";
                    link rel="stylesheet" href=(STYLE_URL);
                    script src=(HTMX_URL) defer {}
                    @if let Some(seconds) = self.refresh_without_js {
                        noscript { meta http-equiv="refresh" content=(seconds); }
                    }
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        a.brand href="/ui/pod_managers" { "Valence" }
                        nav aria-label="Main" {
                            ul {
                                @for (section, href, label) in NAV {
                                    li {
                                        a href=(href) aria-current=[(section == self.section).then_some("page")] { (label) }
                                    }
                                }
                            }
                        }
                    }
                    main id="main" tabindex="-1" {
                        @if let Some(notice) = self.notice {
                            div.notice role="status" { (notice.text()) }
                        }
                        (self.body)
                    }
                    footer.bottom {
                        p { "Valence web console · REST API at " a href="/v1" { "/v1" } }
                    }
                }
            }
        }
    }
}

/// The page of a failed request.
pub fn error_page(error: &WebError, request_id: Option<&str>) -> Markup {
    let status = error.status();
    Page::new(
        error.title(),
        Section::None,
        html! {
            h1 { (error.title()) }
            div.error-summary role="alert" {
                p { (error.detail()) }
                p.meta {
                    "Status " (status.as_u16())
                    @if let Some(id) = request_id { " · request id " code { (id) } }
                }
            }
            p { a href="/ui/pod_managers" { "Back to the pod managers" } }
        },
    )
    .render()
}
