//! What the client prints: JSON bodies or tables on stdout, errors (with the API's code, detail
//! and request id) and warnings on stderr.

use std::io::Write;

use chrono::{DateTime, Utc};
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;
use valence_client::ClientError;
use valence_client::types::NodeRef;

use super::CliError;

/// The output mode of one invocation.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints `value` as pretty JSON in `--json` mode, else what `human` renders.
    pub fn emit<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&T) -> String,
    ) -> Result<(), CliError> {
        if self.json {
            print_stdout(&serde_json::to_string_pretty(value)?)
        } else {
            print_stdout(&human(value))
        }
    }
}

/// Writes one block and a newline to stdout. A closed pipe (`valence ... | head`) is not an
/// error worth reporting.
pub fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Write(err)),
        _ => Ok(()),
    }
}

/// A table with a header row, in the style of every list.
pub fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    table
}

/// A two-column table of one resource's fields.
pub fn fields(rows: Vec<(&str, String)>) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (name, value) in rows {
        table.add_row([name.to_owned(), value]);
    }
    table
}

/// An optional value, `-` when absent.
pub fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or("-").to_owned()
}

pub fn time(value: Option<&DateTime<Utc>>) -> String {
    value.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// MiB as GiB with one decimal when it is not a whole number.
pub fn gib(mib: u64) -> String {
    if mib.is_multiple_of(1024) {
        (mib / 1024).to_string()
    } else {
        format!("{:.1}", mib as f64 / 1024.0)
    }
}

/// The nodes an API error names (`PodmHasNodes`), as a table.
pub fn node_refs(nodes: &[NodeRef]) -> Table {
    let mut t = table(["UUID", "NAME", "STATE"]);
    for n in nodes {
        t.add_row([n.uuid.as_str(), n.name.as_str(), n.state.as_str()]);
    }
    t
}

/// Prints a failure on stderr: the API's status, code, detail and request id, plus the tables
/// some error bodies carry (the nodes blocking a PODM delete, the scheduler's rejections).
pub fn report_error(err: &CliError, url: &str) {
    let mut lines = Vec::new();
    match err {
        CliError::Client(ClientError::Api(failure)) => {
            // Titles such as "Conflict" only repeat the code.
            let same = |a: &str, b: &str| {
                a.chars()
                    .filter(|c| !c.is_whitespace())
                    .map(|c| c.to_ascii_lowercase())
                    .eq(b.chars().map(|c| c.to_ascii_lowercase()))
            };
            let title = if failure.title.is_empty() || same(&failure.title, &failure.code) {
                String::new()
            } else {
                format!(" ({})", failure.title)
            };
            lines.push(format!(
                "error: {} {}{title}: {}",
                failure.status, failure.code, failure.detail
            ));
            if let Some(id) = &failure.request_id {
                lines.push(format!("request id: {id}"));
            }
            if let Some(nodes) = failure
                .body
                .get("nodes")
                .and_then(|v| serde_json::from_value::<Vec<NodeRef>>(v.clone()).ok())
                .filter(|n| !n.is_empty())
            {
                lines.push(node_refs(&nodes).to_string());
                if failure.code == "PodmHasNodes" {
                    lines.push(
                        "hint: --release decomposes them first (asks for confirmation unless \
                         --yes); --dry-run shows what would happen"
                            .to_owned(),
                    );
                }
            }
            if let Some(rejected) = failure
                .body
                .get("rejected")
                .and_then(|v| {
                    serde_json::from_value::<Vec<valence_scheduler::Rejection>>(v.clone()).ok()
                })
                .filter(|r| !r.is_empty())
            {
                lines.push(rejections(&rejected).to_string());
            }
        }
        CliError::Client(ClientError::Http(http)) if http.is_unreachable() => {
            lines.push(format!("error: {http}"));
            lines.push(format!(
                "hint: is the Valence API running at {url}? Set --url or VALENCE_URL."
            ));
        }
        other => lines.push(format!("error: {other}")),
    }
    let mut stderr = std::io::stderr().lock();
    for line in lines {
        // Nothing sensible is left to do when stderr itself is gone.
        let _ = writeln!(stderr, "{line}");
    }
}

/// Warns that some PODMs did not answer (the `Valence-Failed-Podms` header, entries
/// `<uuid> (<kind>: <reason>)`), naming each PODM by its name when known.
pub fn warn_failed_podms(
    failed: &[String],
    names: &std::collections::HashMap<String, String>,
    consequence: &str,
) {
    if failed.is_empty() {
        return;
    }
    let named = named_failures(failed, names);
    warn(&format!(
        "{} pod manager(s) did not answer, {consequence}: {}",
        failed.len(),
        named.join(", ")
    ));
}

fn named_failures(
    failed: &[String],
    names: &std::collections::HashMap<String, String>,
) -> Vec<String> {
    failed
        .iter()
        .map(|entry| {
            let uuid = entry.split_whitespace().next().unwrap_or_default();
            match names.get(uuid) {
                Some(name) => format!("{name} {entry}"),
                None => entry.clone(),
            }
        })
        .collect()
}

/// A warning line on stderr.
pub fn warn(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {text}");
}

/// The scheduler's per-PODM rejections as a table.
pub fn rejections(rejected: &[valence_scheduler::Rejection]) -> Table {
    let mut t = table(["REJECTED PODM", "UUID", "FILTER", "REASON"]);
    for r in rejected {
        t.add_row([
            r.podm_name.clone(),
            r.podm_uuid.clone(),
            r.filter.to_string(),
            r.reason.clone(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_prints_in_gib() {
        assert_eq!(gib(65_536), "64");
        assert_eq!(gib(1536), "1.5");
    }

    #[test]
    fn absent_values_print_as_a_dash() {
        assert_eq!(or_dash(None), "-");
        assert_eq!(or_dash(Some("")), "-");
        assert_eq!(or_dash(Some("x")), "x");
    }

    #[test]
    fn failed_podms_are_named_when_known() {
        let names = std::collections::HashMap::from([("u1".to_owned(), "rack1".to_owned())]);
        let failed = [
            "u1 (Timeout: slow)".to_owned(),
            "u2 (Unreachable: down)".to_owned(),
            String::new(),
        ];
        assert_eq!(
            named_failures(&failed, &names),
            ["rack1 u1 (Timeout: slow)", "u2 (Unreachable: down)", ""]
        );
    }
}
