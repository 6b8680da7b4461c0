//! DMTF standard composition (DSP2046): pick unused resource blocks that satisfy the request,
//! then POST a new system to the `Systems` collection with `Links.ResourceBlocks`.
//!
//! Blocks are chosen here rather than by the service because a plain POST names its blocks:
//! one unused compute block whose processors and memory satisfy the request, and for each
//! requested drive one unused storage block holding a fitting drive (smallest that fits).

use serde_json::{Value, json};

use crate::allocate::description_with_tag;
use crate::connection::Service;
use crate::doc::{self, link, links, text};
use crate::model::{DriveSummary, Requirements, SystemSummary};
use crate::ops;
use crate::parse::{self, SystemParts};
use crate::{ComposeObserver, ComposeRequest, ComposedNodeSummary, PodmError};

/// An unused resource block and what it holds.
#[derive(Debug, Clone)]
pub struct Block {
    pub uri: String,
    pub types: Vec<String>,
    /// For compute blocks: processors and memory as a system would have them.
    pub compute: Option<SystemSummary>,
    pub drives: Vec<DriveSummary>,
    /// Already part of a composition, shared (`ComposedAndAvailable`): taken only when no
    /// unused block fits.
    pub shared: bool,
}

/// Whether a block can be given to a new composition: unused, or shareable with room left.
pub fn block_is_free(block: &Value) -> bool {
    let status = block.get("CompositionStatus");
    let state = text(status.and_then(|s| s.get("CompositionState")));
    let reserved = status
        .and_then(|s| s.get("Reserved"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if reserved {
        return false;
    }
    match state.as_deref() {
        Some("Unused") => true,
        Some("ComposedAndAvailable") => {
            let sharing = status
                .and_then(|s| s.get("SharingEnabled"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let used = doc::count(status.and_then(|s| s.get("NumberOfCompositions"))).unwrap_or(0);
            let max = doc::count(status.and_then(|s| s.get("MaxCompositions"))).unwrap_or(1);
            sharing && used < max
        }
        _ => false,
    }
}

fn block_types(block: &Value) -> Vec<String> {
    block
        .get("ResourceBlockType")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn has_type(types: &[String], wanted: &str) -> bool {
    types.iter().any(|t| t.eq_ignore_ascii_case(wanted))
}

/// Reads a free block's processors, memory and drives (inline links, one request each; a
/// `ComputerSystem` block is read as its system).
async fn read_block(svc: &Service, uri: &str, block: &Value) -> Result<Block, PodmError> {
    let types = block_types(block);
    let reader = &svc.reader;
    let compute = if has_type(&types, "Compute") {
        let processors = reader.documents_at(links(block.get("Processors"))).await?;
        let memory = reader.documents_at(links(block.get("Memory"))).await?;
        let system = parse::system(uri, block);
        Some(parse::summarize(
            system,
            SystemParts {
                processors: processors
                    .iter()
                    .map(|(u, v)| parse::processor(u, v))
                    .collect(),
                dimms: memory.iter().map(|(u, v)| parse::memory(u, v)).collect(),
                ..SystemParts::default()
            },
        ))
    } else if has_type(&types, "ComputerSystem") {
        // A block holding a whole system: what it offers is that system.
        match links(block.get("ComputerSystems")).first() {
            Some(system) => Some(reader.system_summary(system, &Default::default()).await?),
            None => None,
        }
    } else {
        None
    };
    let drives = if has_type(&types, "Storage") {
        let drives = reader.documents_at(links(block.get("Drives"))).await?;
        let trays = reader
            .documents_at(links(block.get("SimpleStorage")))
            .await?;
        drives
            .iter()
            .map(|(u, v)| parse::drive(u, v))
            .chain(trays.iter().flat_map(|(u, v)| parse::simple_storage(u, v)))
            .collect()
    } else {
        Vec::new()
    };
    let shared = text(
        block
            .get("CompositionStatus")
            .and_then(|s| s.get("CompositionState")),
    )
    .is_some_and(|s| s == "ComposedAndAvailable");
    Ok(Block {
        uri: uri.to_owned(),
        types,
        compute,
        drives,
        shared,
    })
}

/// Picks blocks for `req`: the first compute block satisfying processors and memory, then for
/// each drive (largest first) the storage block with the smallest fitting drive.
pub fn choose_blocks(blocks: &[Block], req: &Requirements) -> Result<Vec<String>, PodmError> {
    let without_storage = Requirements {
        storage: Vec::new(),
        ..req.clone()
    };
    let mut reasons = Vec::new();
    let compute = blocks
        .iter()
        .filter(|b| !b.shared)
        .filter_map(|b| b.compute.as_ref().map(|c| (b, c)))
        .find(|(b, c)| match c.satisfies(&without_storage) {
            Ok(()) => true,
            Err(m) => {
                reasons.push(format!("{}: {} ({})", b.uri, m.field, m.detail));
                false
            }
        })
        .map(|(b, _)| b.uri.clone())
        .ok_or_else(|| {
            let mut messages =
                vec!["no unused compute resource block satisfies the request".to_owned()];
            messages.extend(reasons);
            PodmError::Conflict { messages }
        })?;
    let mut chosen = vec![compute];
    let mut wanted: Vec<_> = req.storage.iter().collect();
    wanted.sort_by_key(|w| std::cmp::Reverse(w.capacity_gib.unwrap_or(0)));
    for w in wanted {
        let need = w.capacity_gib.unwrap_or(0);
        let fit = blocks
            .iter()
            .filter(|b| {
                has_type(&b.types, "Storage") && b.compute.is_none() && !chosen.contains(&b.uri)
            })
            .filter_map(|b| {
                b.drives
                    .iter()
                    .filter(|d| {
                        d.capacity_gib >= need
                            && w.drive_type.as_deref().is_none_or(|t| {
                                d.drive_type
                                    .as_deref()
                                    .is_some_and(|dt| dt.eq_ignore_ascii_case(t))
                            })
                    })
                    .map(|d| d.capacity_gib)
                    .min()
                    .map(|size| ((b.shared, size), b))
            })
            .min_by_key(|(preference, _)| *preference)
            .map(|(_, b)| b.uri.clone())
            .ok_or_else(|| PodmError::Conflict {
                messages: vec![format!(
                    "no unused storage resource block has a drive of at least {need} GiB{}",
                    w.drive_type
                        .as_deref()
                        .map(|t| format!(" of type {t}"))
                        .unwrap_or_default()
                )],
            })?;
        chosen.push(fit);
    }
    Ok(chosen)
}

/// The body of the POST that creates the composed system.
pub fn compose_body(request: &ComposeRequest, blocks: &[String]) -> Value {
    let mut body = json!({
        "Name": request.name,
        "Links": { "ResourceBlocks": blocks.iter().map(|b| json!({ "@odata.id": b })).collect::<Vec<_>>() },
    });
    if let Some(description) = description_with_tag(request) {
        body["Description"] = json!(description);
    }
    body
}

pub(crate) async fn compose(
    svc: &Service,
    composition_service: &str,
    systems: &str,
    request: &ComposeRequest,
    observer: &dyn ComposeObserver,
) -> Result<ComposedNodeSummary, PodmError> {
    let reader = &svc.reader;
    let service = reader.get(composition_service).await?;
    if service.get("ServiceEnabled").and_then(Value::as_bool) == Some(false) {
        return Err(PodmError::unsupported(format!(
            "composition: {composition_service} has ServiceEnabled false"
        )));
    }
    let blocks_uri = link(service.get("ResourceBlocks"))
        .ok_or_else(|| PodmError::missing(composition_service, "ResourceBlocks"))?;
    let mut blocks = Vec::new();
    for (uri, block) in reader.collection(&blocks_uri).await? {
        if block_is_free(&block) {
            blocks.push(read_block(svc, &uri, &block).await?);
        }
    }
    let chosen = choose_blocks(&blocks, &request.requirements)?;
    let response = reader
        .client
        .post_json(systems, &compose_body(request, &chosen))
        .await?;
    let uri = response
        .location_path()
        .map(|l| doc::normalize_link(&l))
        .ok_or_else(|| PodmError::ComposeFailed {
            detail: format!(
                "{systems} answered {} without a Location header; the composed system cannot be followed",
                response.status
            ),
            leaked_node: request.tag.as_deref().map(|t| format!("(unknown system tagged {})", crate::tag_marker(t))),
        })?;
    let outcome = async {
        let document = reader.get(&uri).await.map_err(Step::Podm)?;
        let node = parse::composed_system_as_node(&uri, &document);
        observer.allocated(&node).await.map_err(Step::Observer)?;
        observer.assembling(&node).await.map_err(Step::Observer)?;
        Ok::<_, Step>(node)
    }
    .await;
    let failure = match outcome {
        Ok(node) => return Ok(node),
        Err(step) => step,
    };
    let leaked_node = ops::delete_with_retries(reader, &uri, svc.cleanup_timeout)
        .await
        .err()
        .map(|_| uri.clone());
    Err(match failure {
        Step::Observer(e) => PodmError::Aborted {
            detail: e.to_string(),
            leaked_node,
        },
        Step::Podm(e) => PodmError::ComposeFailed {
            detail: format!("{uri}: {e}"),
            leaked_node,
        },
    })
}

enum Step {
    Podm(PodmError),
    Observer(PodmError),
}
