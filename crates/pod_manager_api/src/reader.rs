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
//!
//! Hardware rarely changes, so a system's processors, memory, NICs and drives are kept
//! ([`DetailCache`]) and reused while the system document still names the same sub-collections
//! and the same processor and memory summaries, for at most `details_ttl`: a read of a known
//! system then costs 1 request instead of about 13.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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
    /// Hardware details of the systems read so far.
    pub details: Arc<DetailCache>,
}

/// What a system's sub-collections said: processors, memory modules, NICs, drives.
#[derive(Debug, Default)]
struct Hardware {
    processors: Vec<ProcessorDoc>,
    dimms: Vec<DimmDoc>,
    mac_addresses: Vec<String>,
    drives: Vec<DriveSummary>,
}

#[derive(Debug)]
struct CachedHardware {
    fingerprint: u64,
    read_at: Instant,
    hardware: Arc<Hardware>,
}

/// Hardware details by system path, each valid while its system's fingerprint is unchanged
/// and it is younger than the TTL.
#[derive(Debug)]
pub(crate) struct DetailCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, CachedHardware>>,
}

impl DetailCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedHardware>> {
        // Plain data: a panic elsewhere cannot leave it half-updated in a harmful way.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, uri: &str, fingerprint: u64) -> Option<Arc<Hardware>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries();
        let cached = entries.get(uri)?;
        (cached.fingerprint == fingerprint && cached.read_at.elapsed() < self.ttl)
            .then(|| cached.hardware.clone())
    }

    fn put(&self, uri: &str, fingerprint: u64, hardware: Arc<Hardware>) {
        if self.ttl.is_zero() {
            return;
        }
        self.entries().insert(
            uri.to_owned(),
            CachedHardware {
                fingerprint,
                read_at: Instant::now(),
                hardware,
            },
        );
    }

    /// Forgets systems the PODM no longer lists.
    fn retain(&self, listed: &HashSet<&str>) {
        self.entries()
            .retain(|uri, _| listed.contains(uri.as_str()));
    }
}

/// What in a system document tells that its hardware changed: the sub-collections it links
/// and the processor and memory summaries.
fn hardware_fingerprint(system: &parse::SystemDoc) -> u64 {
    let mut hasher = DefaultHasher::new();
    system.processors.hash(&mut hasher);
    system.memory.hash(&mut hasher);
    system.ethernet_interfaces.hash(&mut hasher);
    system.storage.hash(&mut hasher);
    system.simple_storage.hash(&mut hasher);
    system.summary_processor_count.hash(&mut hasher);
    system.summary_processor_model.hash(&mut hasher);
    system.summary_cores.hash(&mut hasher);
    system
        .summary_memory_gib
        .map(f64::to_bits)
        .hash(&mut hasher);
    hasher.finish()
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
        let fingerprint = hardware_fingerprint(&system);
        let hardware = match self.details.get(&system.resource_uri, fingerprint) {
            Some(hardware) => hardware,
            None => {
                // Boxed: read only on a cache miss, its future is most of this one's size, and
                // every system read in flight (16 per PODM, hundreds of PODMs) is moved and
                // held at that size.
                let hardware = Arc::new(Box::pin(self.hardware(&system)).await?);
                self.details
                    .put(&system.resource_uri, fingerprint, hardware.clone());
                hardware
            }
        };
        Ok(parse::summarize(
            system,
            SystemParts {
                processors: hardware.processors.clone(),
                dimms: hardware.dimms.clone(),
                mac_addresses: hardware.mac_addresses.clone(),
                drives: hardware.drives.clone(),
                composed_node,
            },
        ))
    }

    /// Reads a system's processors, memory modules, NICs and drives.
    async fn hardware(&self, system: &parse::SystemDoc) -> Result<Hardware, PodmError> {
        let memory_known = system.summary_memory_gib.is_some_and(|gib| gib > 0.0);
        let (processors, dimms, mac_addresses, drives) = futures::try_join!(
            self.processors(system.processors.as_deref()),
            self.dimms(system.memory.as_deref(), memory_known),
            self.mac_addresses(system.ethernet_interfaces.as_deref()),
            self.drives(system.storage.as_deref(), system.simple_storage.as_deref()),
        )?;
        Ok(Hardware {
            processors,
            dimms,
            mac_addresses,
            drives,
        })
    }

    /// Summaries of every member of the `Systems` collection, `system_concurrency` at a time.
    pub async fn list_systems(
        &self,
        systems: &str,
        nodes_by_system: &HashMap<String, String>,
    ) -> Result<Vec<SystemSummary>, PodmError> {
        let uris = self.members(systems).await?;
        let summaries: Vec<SystemSummary> = futures::stream::iter(uris.clone())
            .map(|uri| async move { self.system_summary(&uri, nodes_by_system).await })
            .buffered(self.system_concurrency.max(1))
            .try_collect()
            .await?;
        let mut listed: HashSet<&str> = uris.iter().map(String::as_str).collect();
        listed.extend(summaries.iter().map(|s| s.resource_uri.as_str()));
        self.details.retain(&listed);
        Ok(summaries)
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

/// A sub-collection a system links but the service cannot serve is read as empty: services
/// link collections they never implemented (404, 501) or that fail for some systems (500), and
/// one such part must not hide the system. The loss is logged; a PODM that cannot be reached,
/// or that refuses the credentials, still fails the read.
fn optional<T: Default>(path: &str, result: Result<T, PodmError>) -> Result<T, PodmError> {
    match result {
        Err(PodmError::NotFound { .. }) => {
            tracing::debug!(path, "linked collection not found; read as empty");
            Ok(T::default())
        }
        Err(err @ (PodmError::Rejected { .. } | PodmError::BadResponse { .. }))
            if !err.is_auth_failure() =>
        {
            tracing::warn!(path, error = %err, "linked collection unreadable; read as empty");
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

    #[test]
    fn unreadable_parts_of_a_system_read_as_empty_but_outages_and_refused_credentials_do_not() {
        let rejected = |status| PodmError::Rejected {
            url: "/x".into(),
            status,
            message_id: None,
            messages: vec![],
        };
        for err in [
            PodmError::NotFound { uri: "/x".into() },
            rejected(500),
            rejected(501),
            PodmError::BadResponse {
                url: "/x".into(),
                detail: "Members: expected array".into(),
            },
        ] {
            assert_eq!(
                optional::<Vec<u8>>("/x", Err(err)).unwrap(),
                Vec::<u8>::new()
            );
        }
        assert!(
            optional::<Vec<u8>>(
                "/x",
                Err(PodmError::Unreachable {
                    detail: "refused".into()
                })
            )
            .is_err()
        );
        assert!(optional::<Vec<u8>>("/x", Err(rejected(401))).is_err());
    }

    use super::*;

    /// Hundreds of system reads are in flight during a refresh of many PODMs, each moved into
    /// its task and held at its full size: the rarely needed hardware read stays boxed.
    #[test]
    fn a_system_read_in_flight_stays_small() {
        let url = url::Url::parse("http://podm.invalid").unwrap();
        let client = PodmClient::new(valence_http_client::ClientConfig::new(
            url,
            valence_http_client::Auth::None,
        ))
        .unwrap();
        let reader = Reader {
            client,
            expand: Expand::Unsupported,
            system_concurrency: 16,
            details: Arc::new(DetailCache::new(Duration::from_secs(600))),
        };
        let nodes = HashMap::new();
        let read = reader.system_summary("/redfish/v1/Systems/1", &nodes);
        // 2.3 KiB in a debug build with the hardware read boxed, 10.4 KiB without.
        let size = std::mem::size_of_val(&read);
        assert!(size <= 4096, "a system read in flight takes {size} bytes");
    }

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
