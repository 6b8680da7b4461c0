//! Reading resources of one PODM: documents, collections (paged, or inline with `$expand` when
//! the root declares it), and the inventory of systems with bounded concurrency.
//!
//! Requests per system read, without `$expand`: 1 (system) + 1 + P (processors collection and
//! each processor) + 2 (memory collection and the first module, for its type; every module when
//! `MemorySummary` gives no size) + 1 + N (Ethernet interfaces) + 1 + S + D (storage collection,
//! each storage, each drive; or 1 + S for `SimpleStorage`). A system with 2 CPUs, 2 NICs, one
//! storage controller and 2 drives costs 13 requests. With `$expand` each collection is one
//! request with its members: 1 + 1 + 1 + 1 + 1 + D = 7. The RSD driver also reads the composed
//! nodes (1 + K requests for K nodes) once per listing, and once per `get_system`, to know which
//! systems are in use.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use valence_http_client::PodmClient;

use crate::PodmError;
use crate::doc::{self, normalize_link};
use crate::model::{DriveSummary, SystemSummary};
use crate::parse::{self, DimmDoc, ProcessorDoc, SystemParts};
use crate::root::Expand;

/// Member documents read at once within one collection; the HTTP client caps the total too.
const MEMBER_CONCURRENCY: usize = 8;

/// A PODM's HTTP client plus what the service root said about reading collections.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    pub client: PodmClient,
    pub expand: Expand,
    /// Systems read at once when listing.
    pub system_concurrency: usize,
}

impl Reader {
    /// GET a resource; the JSON is decoded here so that every error names the URL.
    pub async fn get(&self, path: &str) -> Result<Value, PodmError> {
        let response = self.client.get(path).await?;
        doc::decode(&response.url, &response.body)
    }

    /// The member links of a collection, all pages.
    pub async fn members(&self, path: &str) -> Result<Vec<String>, PodmError> {
        let members = self.client.collection_members(path).await?;
        Ok(members.iter().map(|m| normalize_link(m)).collect())
    }

    /// Each of `uris` read, in order, with bounded concurrency.
    pub async fn documents_at(&self, uris: Vec<String>) -> Result<Vec<(String, Value)>, PodmError> {
        futures::stream::iter(uris)
            .map(|uri| async move {
                let value = self.get(&uri).await?;
                Ok::<_, PodmError>((uri, value))
            })
            .buffered(MEMBER_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Every member document of a collection: one request when `$expand` is declared and the
    /// service really expanded (members carry more than `@odata.id`, no further page); one
    /// request per member otherwise.
    pub async fn collection(&self, path: &str) -> Result<Vec<(String, Value)>, PodmError> {
        if let Some(query) = self.expand.query() {
            let separator = if path.contains('?') { '&' } else { '?' };
            let page = self.get(&format!("{path}{separator}{query}")).await?;
            if let Some(inline) = expanded_members(&page) {
                return Ok(inline);
            }
        }
        let uris = self.members(path).await?;
        self.documents_at(uris).await
    }

    /// The first `limit` member documents only (all of them when expanded anyway).
    async fn first_members(
        &self,
        path: &str,
        limit: usize,
    ) -> Result<Vec<(String, Value)>, PodmError> {
        if self.expand.query().is_some() {
            return self.collection(path).await;
        }
        let mut uris = self.members(path).await?;
        uris.truncate(limit);
        self.documents_at(uris).await
    }

    /// The summary of one system; `nodes_by_system` maps system paths to the composed node
    /// using each (see [`Reader::list_systems`]).
    pub async fn system_summary(
        &self,
        uri: &str,
        nodes_by_system: &HashMap<String, String>,
    ) -> Result<SystemSummary, PodmError> {
        let document = self.get(uri).await?;
        let system = parse::system(uri, &document);
        let composed_node = nodes_by_system
            .get(&system.resource_uri)
            .cloned()
            .or_else(|| system.composed_node.clone())
            .or_else(|| {
                // A DMTF composed system is itself the node.
                parse::is_composed_system(&document).then(|| system.resource_uri.clone())
            });
        let memory_known = system.summary_memory_gib.is_some_and(|gib| gib > 0.0);
        let (processors, dimms, mac_addresses, drives) = futures::try_join!(
            self.processors(system.processors.as_deref()),
            self.dimms(system.memory.as_deref(), memory_known),
            self.mac_addresses(system.ethernet_interfaces.as_deref()),
            self.drives(system.storage.as_deref(), system.simple_storage.as_deref()),
        )?;
        Ok(parse::summarize(
            system,
            SystemParts {
                processors,
                dimms,
                mac_addresses,
                drives,
                composed_node,
            },
        ))
    }

    /// Summaries of every member of the `Systems` collection, `system_concurrency` at a time.
    pub async fn list_systems(
        &self,
        systems: &str,
        nodes_by_system: &HashMap<String, String>,
    ) -> Result<Vec<SystemSummary>, PodmError> {
        let uris = self.members(systems).await?;
        futures::stream::iter(uris)
            .map(|uri| async move { self.system_summary(&uri, nodes_by_system).await })
            .buffered(self.system_concurrency.max(1))
            .try_collect()
            .await
    }

    async fn processors(&self, path: Option<&str>) -> Result<Vec<ProcessorDoc>, PodmError> {
        let Some(path) = path else {
            return Ok(Vec::new());
        };
        let docs = optional(path, self.collection(path).await)?;
        Ok(docs
            .iter()
            .map(|(uri, v)| parse::processor(uri, v))
            .collect())
    }

    /// Memory modules: only the first when the size is known from `MemorySummary` (its type is
    /// all that is still needed), all of them otherwise.
    async fn dimms(&self, path: Option<&str>, size_known: bool) -> Result<Vec<DimmDoc>, PodmError> {
        let Some(path) = path else {
            return Ok(Vec::new());
        };
        let docs = if size_known {
            optional(path, self.first_members(path, 1).await)?
        } else {
            optional(path, self.collection(path).await)?
        };
        Ok(docs.iter().map(|(uri, v)| parse::memory(uri, v)).collect())
    }

    async fn mac_addresses(&self, path: Option<&str>) -> Result<Vec<String>, PodmError> {
        let Some(path) = path else {
            return Ok(Vec::new());
        };
        let docs = optional(path, self.collection(path).await)?;
        Ok(docs
            .iter()
            .filter_map(|(uri, v)| parse::ethernet_mac(uri, v))
            .collect())
    }

    /// Drives through `Storage` (each storage's `Drives` links), else `SimpleStorage` devices.
    async fn drives(
        &self,
        storage: Option<&str>,
        simple_storage: Option<&str>,
    ) -> Result<Vec<DriveSummary>, PodmError> {
        if let Some(path) = storage {
            let storages = optional(path, self.collection(path).await)?;
            let drive_uris: Vec<String> = storages
                .iter()
                .flat_map(|(uri, v)| parse::storage_drives(uri, v))
                .collect();
            if !drive_uris.is_empty() || simple_storage.is_none() {
                let drives = self.documents_at(drive_uris).await?;
                return Ok(drives.iter().map(|(uri, v)| parse::drive(uri, v)).collect());
            }
        }
        let Some(path) = simple_storage else {
            return Ok(Vec::new());
        };
        let controllers = optional(path, self.collection(path).await)?;
        Ok(controllers
            .iter()
            .flat_map(|(uri, v)| parse::simple_storage(uri, v))
            .collect())
    }
}

/// A sub-collection a system links but the service does not have is read as empty: some
/// services link collections they never implemented.
fn optional<T: Default>(path: &str, result: Result<T, PodmError>) -> Result<T, PodmError> {
    match result {
        Err(PodmError::NotFound { .. }) => {
            tracing::debug!(path, "linked collection not found; read as empty");
            Ok(T::default())
        }
        other => other,
    }
}

/// The members of an expanded collection page, if the service really expanded it.
fn expanded_members(page: &Value) -> Option<Vec<(String, Value)>> {
    if page.get("Members@odata.nextLink").is_some() {
        return None;
    }
    let members = page.get("Members")?.as_array()?;
    let mut out = Vec::with_capacity(members.len());
    for member in members {
        let object = member.as_object()?;
        let uri = doc::link(Some(member))?;
        if object.len() <= 1 {
            return None;
        }
        out.push((uri, member.clone()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_really_expanded_pages_are_used_inline() {
        let expanded = json!({"Members": [{"@odata.id": "/a/1", "TotalCores": 4}]});
        assert_eq!(expanded_members(&expanded).unwrap().len(), 1);
        let links_only = json!({"Members": [{"@odata.id": "/a/1"}]});
        assert!(expanded_members(&links_only).is_none());
        let paged = json!({"Members": [{"@odata.id": "/a/1", "X": 1}], "Members@odata.nextLink": "/a?$skip=1"});
        assert!(expanded_members(&paged).is_none());
        assert_eq!(expanded_members(&json!({"Members": []})).unwrap().len(), 0);
    }
}
