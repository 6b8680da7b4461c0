//! Pod managers: registration (with a probe), usage, updates, health persistence and the safe
//! delete. Everything here is also what the web console calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use secrecy::SecretString;
use uuid::Uuid;
use valence_client::types::{self, MASKED_PASSWORD};
use valence_db::{NodeCounts, PodmState, PodmStatus};
use valence_pod_manager_api::{AuthType, Driver, PodManager, PodmConfig, ProbeInfo};
use valence_redfish::{HealthStatus, Inventory, PodmFailure, Target};

use crate::AppState;
use crate::convert::utc;
use crate::error::{ApiError, ErrorCode};

/// Where the stored driver came from: given by the operator, or detected (and re-detected on
/// every successful probe).
const DRIVER_SOURCE: &str = "driver_source";

/// The connection configuration of a registered PODM (its password opened for the connection).
pub fn podm_config(state: &AppState, row: &valence_db::PodManager) -> Result<PodmConfig, ApiError> {
    let mut config = PodmConfig::new(row.uuid.to_string(), row.url.clone());
    config.driver = Some(match row.driver {
        valence_db::Driver::Rsd => Driver::Rsd,
        valence_db::Driver::Redfish => Driver::Redfish,
    });
    if let (Some(username), Some(stored)) = (&row.username, &row.password_secret) {
        let auth_type = match row.auth_type {
            valence_db::AuthType::Basic => AuthType::Basic,
            valence_db::AuthType::Session => AuthType::Session,
        };
        let password = state.secrets.open(stored.expose()).map_err(|err| {
            ApiError::internal(format!(
                "the password of pod manager {} cannot be opened: {err}",
                row.name
            ))
        })?;
        config = config.with_credentials(auth_type, username.clone(), password);
    }
    config.tls_verify = row.tls_verify;
    config.ca_cert = row.tls_ca_cert.clone();
    Ok(state.with_timeouts(config))
}

/// The stored form of a password given by the operator.
fn seal(state: &AppState, password: &str) -> Result<valence_db::PasswordSecret, ApiError> {
    state
        .secrets
        .seal(password)
        .map(valence_db::PasswordSecret::new)
        .map_err(|err| ApiError::internal(format!("cannot seal the password: {err}")))
}

/// The live connection to a registered PODM (cached per uuid).
pub async fn connection(
    state: &AppState,
    row: &valence_db::PodManager,
) -> Result<Arc<dyn PodManager>, ApiError> {
    let conn = state
        .connections
        .get_or_connect(&podm_config(state, row)?)
        .await?;
    Ok(state
        .metrics
        .metered(conn, &row.uuid.to_string(), &row.name))
}

pub async fn target(state: &AppState, row: &valence_db::PodManager) -> Result<Target, PodmFailure> {
    connection(state, row)
        .await
        .map(|conn| Target {
            uuid: row.uuid.to_string(),
            name: row.name.clone(),
            conn,
        })
        .map_err(|err| PodmFailure {
            uuid: row.uuid.to_string(),
            name: row.name.clone(),
            kind: valence_redfish::FailureKind::Unreachable,
            reason: err.detail,
        })
}

/// Targets of `rows`; a PODM whose connection cannot even be built is reported as failed.
pub async fn targets(
    state: &AppState,
    rows: &[valence_db::PodManager],
) -> (Vec<Target>, Vec<PodmFailure>) {
    let mut ok = Vec::with_capacity(rows.len());
    let mut failed = Vec::new();
    for row in rows {
        match target(state, row).await {
            Ok(t) => ok.push(t),
            Err(f) => failed.push(f),
        }
    }
    (ok, failed)
}

pub async fn all_rows(state: &AppState) -> Result<Vec<valence_db::PodManager>, ApiError> {
    Ok(state
        .db
        .run(|conn| {
            valence_db::pod_managers::list(conn, &Default::default(), valence_db::Page::default())
        })
        .await?)
}

pub async fn get_row(state: &AppState, uuid: Uuid) -> Result<valence_db::PodManager, ApiError> {
    Ok(state
        .db
        .run(move |conn| valence_db::pod_managers::get(conn, uuid))
        .await?)
}

/// A PODM's health as the API reports it: the live view when Valence has talked to the PODM
/// since it started, else what the database remembers.
pub fn live_status(
    state: &AppState,
    row: &valence_db::PodManager,
) -> (PodmStatus, Option<SystemTime>, Option<String>) {
    let view = state.aggregator.health().view(&row.uuid.to_string());
    match view.status {
        HealthStatus::Unknown => (row.status, None, row.last_error.clone()),
        HealthStatus::Online => (PodmStatus::Online, view.last_seen, None),
        HealthStatus::Offline => (PodmStatus::Offline, view.last_seen, view.last_error),
    }
}

fn usage(inventory: Option<&Inventory>, counts: NodeCounts) -> types::PodManagerUsage {
    let nodes_valence = u64::try_from(counts.valence_made).unwrap_or(0);
    match inventory {
        Some(inv) => types::PodManagerUsage {
            systems_total: inv.usage.systems_total,
            systems_free: inv.usage.systems_free,
            nodes_total: inv.usage.nodes_total,
            nodes_valence,
            cores_total: inv.usage.cores_total,
            cores_free: inv.usage.cores_free,
            memory_total_mib: inv.usage.memory_total_mib,
            memory_free_mib: inv.usage.memory_free_mib,
            ratio: inv.usage.ratio,
            available: true,
        },
        None => types::PodManagerUsage {
            nodes_valence,
            ..Default::default()
        },
    }
}

/// The API body of a PODM: credentials masked, CA reduced to a flag, usage from `inventory`.
pub fn podm_body(
    state: &AppState,
    row: &valence_db::PodManager,
    inventory: Option<&Inventory>,
    counts: NodeCounts,
) -> types::PodManager {
    let (status, live_seen, last_error) = live_status(state, row);
    let last_seen_at = live_seen
        .map(chrono::DateTime::<chrono::Utc>::from)
        .or(row.last_seen_at.map(utc));
    let authentication = row
        .username
        .as_ref()
        .map(|username| {
            vec![types::Authentication {
                auth_type: row.auth_type.as_str().to_owned(),
                auth_items: types::AuthItems {
                    username: username.clone(),
                    password: MASKED_PASSWORD.to_owned(),
                },
            }]
        })
        .unwrap_or_default();
    types::PodManager {
        uuid: row.uuid.to_string(),
        name: row.name.clone(),
        url: row.url.clone(),
        driver: row.driver.as_str().to_owned(),
        status: status.as_str().to_owned(),
        state: row.state.as_str().to_owned(),
        description: row.description.clone(),
        location: row.location.clone(),
        authentication,
        tls_verify: row.tls_verify,
        ca_cert_pinned: row.tls_ca_cert.is_some(),
        last_seen_at,
        last_error,
        capabilities: row.capabilities.clone(),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        usage: usage(inventory, counts),
    }
}

async fn node_counts(state: &AppState) -> Result<HashMap<Uuid, NodeCounts>, ApiError> {
    Ok(state.db.run(valence_db::nodes::counts_per_podm).await?)
}

/// Inventories of `rows`: cached unless `refresh`. Failures are returned, never raised.
pub async fn inventories(
    state: &AppState,
    rows: &[valence_db::PodManager],
    refresh: bool,
) -> (HashMap<String, Arc<Inventory>>, Vec<PodmFailure>) {
    let (targets, mut failed) = targets(state, rows).await;
    let fanout = state.aggregator.inventories(&targets, refresh).await;
    failed.extend(fanout.failed);
    let map = fanout
        .ok
        .into_iter()
        .map(|(t, inv)| (t.uuid, inv))
        .collect();
    (map, failed)
}

/// `GET /v1/pod_managers`: usage from the cached inventories (kept warm in the background), so
/// listing never waits for a PODM unless `refresh`.
pub async fn list(
    state: &AppState,
    rows: Vec<valence_db::PodManager>,
    refresh: bool,
) -> Result<(Vec<types::PodManager>, Vec<PodmFailure>), ApiError> {
    let counts = node_counts(state).await?;
    let (inventories, failed) = if refresh {
        inventories(state, &rows, true).await
    } else {
        let mut map = HashMap::new();
        for row in &rows {
            let key = row.uuid.to_string();
            if let Some(inv) = state.aggregator.cached(&key).await {
                map.insert(key, inv);
            }
        }
        (map, Vec::new())
    };
    let bodies = rows
        .iter()
        .map(|row| {
            let inv = inventories.get(&row.uuid.to_string()).map(Arc::as_ref);
            podm_body(
                state,
                row,
                inv,
                counts.get(&row.uuid).copied().unwrap_or_default(),
            )
        })
        .collect();
    Ok((bodies, failed))
}

pub async fn show(
    state: &AppState,
    uuid: Uuid,
    refresh: bool,
) -> Result<(types::PodManager, Vec<PodmFailure>), ApiError> {
    let row = get_row(state, uuid).await?;
    let counts = state.db.run(valence_db::nodes::counts_per_podm).await?;
    let (inventories, failed) = inventories(state, std::slice::from_ref(&row), refresh).await;
    let inv = inventories.get(&row.uuid.to_string()).map(Arc::as_ref);
    Ok((
        podm_body(
            state,
            &row,
            inv,
            counts.get(&uuid).copied().unwrap_or_default(),
        ),
        failed,
    ))
}

/// Validated registration fields.
struct Registration {
    name: String,
    url: String,
    driver: Option<Driver>,
    auth_type: valence_db::AuthType,
    credentials: Option<(String, String)>,
    tls_verify: bool,
    ca_cert: Option<String>,
    description: Option<String>,
    location: Option<String>,
}

fn invalid(err: valence_pod_manager_api::InvalidPodmConfig) -> ApiError {
    ApiError::invalid_field(err.field, err.detail).with("field", err.field.into())
}

fn validate_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    if name.len() > 255 {
        return Err(ApiError::invalid_field(
            "name",
            "must be at most 255 characters",
        ));
    }
    Ok(name.to_owned())
}

fn validate_authentication(
    auth: &[types::Authentication],
) -> Result<(valence_db::AuthType, Option<(String, String)>), ApiError> {
    match auth {
        [] => Ok((valence_db::AuthType::Basic, None)),
        [one] => {
            let auth_type = match one.auth_type.trim().to_ascii_lowercase().as_str() {
                "basic" => valence_db::AuthType::Basic,
                "session" => valence_db::AuthType::Session,
                other => {
                    return Err(ApiError::invalid_field(
                        "authentication[0].type",
                        format!("{other:?} is not supported (basic, session)"),
                    ));
                }
            };
            if one.auth_items.username.trim().is_empty() {
                return Err(ApiError::invalid_field(
                    "authentication[0].auth_items.username",
                    "must not be empty",
                ));
            }
            if one.auth_items.password.is_empty() || one.auth_items.password == MASKED_PASSWORD {
                return Err(ApiError::invalid_field(
                    "authentication[0].auth_items.password",
                    "must be given",
                ));
            }
            Ok((
                auth_type,
                Some((
                    one.auth_items.username.trim().to_owned(),
                    one.auth_items.password.clone(),
                )),
            ))
        }
        _ => Err(ApiError::invalid_field(
            "authentication",
            "give at most one entry",
        )),
    }
}

fn validate_ca(ca_cert: Option<String>) -> Result<Option<String>, ApiError> {
    match ca_cert {
        Some(pem) if pem.trim().is_empty() => Ok(None),
        Some(pem) if !pem.contains("-----BEGIN CERTIFICATE-----") => Err(ApiError::invalid_field(
            "ca_cert",
            "is not a PEM certificate (no BEGIN CERTIFICATE line)",
        )),
        other => Ok(other),
    }
}

impl Registration {
    fn from_body(body: types::PodManagerCreate) -> Result<Self, ApiError> {
        let name = validate_name(&body.name)?;
        let url = valence_pod_manager_api::normalize_base_url_text(&body.url).map_err(invalid)?;
        let driver = body
            .driver
            .as_deref()
            .map(str::parse::<Driver>)
            .transpose()
            .map_err(invalid)?;
        let (auth_type, credentials) = validate_authentication(&body.authentication)?;
        Ok(Self {
            name,
            url,
            driver,
            auth_type,
            credentials,
            tls_verify: body.tls_verify.unwrap_or(true),
            ca_cert: validate_ca(body.ca_cert)?,
            description: body.description,
            location: body.location,
        })
    }
}

fn db_driver(driver: Driver) -> valence_db::Driver {
    match driver {
        Driver::Rsd => valence_db::Driver::Rsd,
        Driver::Redfish => valence_db::Driver::Redfish,
    }
}

fn capabilities_json(probe: Option<&ProbeInfo>, driver_source: &str) -> serde_json::Value {
    let mut caps = probe
        .and_then(|p| serde_json::to_value(&p.capabilities).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    if let (Some(p), Some(map)) = (probe, caps.as_object_mut()) {
        map.insert("rsd_api_version".into(), p.rsd_api_version.clone().into());
        map.insert("redfish_version".into(), p.redfish_version.clone().into());
        map.insert("service_uuid".into(), p.service_uuid.clone().into());
    }
    if let Some(map) = caps.as_object_mut() {
        map.insert(DRIVER_SOURCE.into(), driver_source.into());
    }
    caps
}

/// Probes a PODM within the probe budget.
async fn probe(state: &AppState, conn: &Arc<dyn PodManager>) -> Result<ProbeInfo, String> {
    match tokio::time::timeout(state.settings.probe_timeout, conn.probe()).await {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!(
            "no answer within {} s",
            state.settings.probe_timeout.as_secs()
        )),
    }
}

/// `POST /v1/pod_managers`: probes the PODM, then stores it with what the probe found. An
/// unreachable PODM is stored `Offline` unless `verify`.
pub async fn register(
    state: &AppState,
    body: types::PodManagerCreate,
    verify: bool,
) -> Result<types::PodManager, ApiError> {
    let reg = Registration::from_body(body)?;
    // The probe runs before the PODM has its uuid; this connection is dropped afterwards.
    let mut config = state.with_timeouts(PodmConfig::new("registering", reg.url.clone()));
    config.driver = reg.driver;
    if let Some((username, password)) = &reg.credentials {
        let auth_type = match reg.auth_type {
            valence_db::AuthType::Basic => AuthType::Basic,
            valence_db::AuthType::Session => AuthType::Session,
        };
        config = config.with_credentials(
            auth_type,
            username.clone(),
            SecretString::from(password.clone()),
        );
    }
    config.tls_verify = reg.tls_verify;
    config.ca_cert = reg.ca_cert.clone();
    config.validate().map_err(invalid)?;

    let conn = valence_pod_manager_api::connect(&config)?;
    let probed = probe(state, &conn).await;
    if let (Err(reason), true) = (&probed, verify) {
        return Err(ApiError::new(
            ErrorCode::PodmUnreachable,
            format!(
                "pod manager at {} did not answer the probe: {reason}",
                reg.url
            ),
        ));
    }
    let (driver, driver_source) = match (reg.driver, &probed) {
        (Some(d), _) => (d, "given"),
        (None, Ok(p)) => (p.driver, "detected"),
        (None, Err(_)) => (Driver::Rsd, "default"),
    };
    let now = valence_db::utc_now();
    let new = valence_db::NewPodManager {
        name: reg.name,
        url: reg.url,
        driver: db_driver(driver),
        auth_type: reg.auth_type,
        username: reg.credentials.as_ref().map(|(u, _)| u.clone()),
        password_secret: reg
            .credentials
            .as_ref()
            .map(|(_, p)| seal(state, p))
            .transpose()?,
        tls_verify: reg.tls_verify,
        tls_ca_cert: reg.ca_cert,
        description: reg.description,
        location: reg.location,
        capabilities: capabilities_json(probed.as_ref().ok(), driver_source),
    };
    let health = valence_db::Health {
        status: if probed.is_ok() {
            PodmStatus::Online
        } else {
            PodmStatus::Offline
        },
        last_seen_at: probed.is_ok().then_some(now),
        last_error: probed.as_ref().err().cloned(),
    };
    let row = state
        .db
        .transaction(move |conn| {
            let row = valence_db::pod_managers::create(conn, &new)?;
            valence_db::pod_managers::set_health(conn, row.uuid, &health)?;
            valence_db::pod_managers::get(conn, row.uuid)
        })
        .await?;
    tracing::info!(podm = %row.uuid, name = %row.name, status = %row.status.as_str(), "pod manager registered");

    let key = row.uuid.to_string();
    let inventory = match &probed {
        Ok(_) => {
            state
                .aggregator
                .health()
                .record_success(&key, SystemTime::now());
            match target(state, &row).await {
                Ok(t) => state.aggregator.inventory(&t, true).await.ok(),
                Err(_) => None,
            }
        }
        Err(reason) => {
            state.aggregator.health().record_failure(
                &key,
                reason,
                tokio::time::Instant::now().into_std(),
            );
            None
        }
    };
    state.aggregator.health().drain_transitions();
    Ok(podm_body(
        state,
        &row,
        inventory.as_deref(),
        NodeCounts::default(),
    ))
}

/// `PATCH /v1/pod_managers/{uuid}`. A change of URL, credentials or TLS drops the old
/// connection and cached inventory and probes again (the update stands even if the probe fails).
pub async fn update(
    state: &AppState,
    uuid: Uuid,
    body: types::PodManagerUpdate,
) -> Result<types::PodManager, ApiError> {
    let mut changes = valence_db::PodManagerUpdate::default();
    if let Some(name) = &body.name {
        changes.name = Some(validate_name(name)?);
    }
    if let Some(url) = &body.url {
        changes.url = Some(valence_pod_manager_api::normalize_base_url_text(url).map_err(invalid)?);
    }
    if let Some(auth) = &body.authentication {
        let (auth_type, credentials) = validate_authentication(auth)?;
        changes.auth_type = Some(auth_type);
        changes.username = Some(credentials.as_ref().map(|(u, _)| u.clone()));
        changes.password_secret = Some(
            credentials
                .as_ref()
                .map(|(_, p)| seal(state, p))
                .transpose()?,
        );
    }
    if let Some(description) = body.description {
        changes.description = Some(Some(description));
    }
    if let Some(location) = body.location {
        changes.location = Some(Some(location));
    }
    if let Some(verify) = body.tls_verify {
        changes.tls_verify = Some(verify);
    }
    if body.ca_cert.is_some() {
        changes.tls_ca_cert = Some(validate_ca(body.ca_cert)?);
    }
    let new_state = match body.state.as_deref().map(str::trim) {
        None => None,
        Some("active") => Some(PodmState::Active),
        Some("cordoned") => Some(PodmState::Cordoned),
        Some(other) => {
            return Err(ApiError::invalid_field(
                "state",
                format!("{other:?} cannot be set (active, cordoned)"),
            ));
        }
    };
    changes.state = new_state;
    let reconnect = changes.url.is_some()
        || changes.username.is_some()
        || changes.tls_verify.is_some()
        || changes.tls_ca_cert.is_some();

    if get_row(state, uuid).await?.state == PodmState::Deleting {
        return Err(ApiError::conflict(format!(
            "pod manager {uuid} is being deleted; it cannot be changed"
        )));
    }
    let row = state
        .db
        .run(move |conn| valence_db::pod_managers::update(conn, uuid, &changes))
        .await?;
    let key = row.uuid.to_string();
    if body.name.is_some() {
        // Its call series carry the old name.
        state.metrics.forget_podm(&key);
    }
    if reconnect {
        state.connections.invalidate(&key).await;
        state.aggregator.forget(&key).await;
        if let Ok(conn) = connection(state, &row).await {
            match probe(state, &conn).await {
                Ok(_) => {
                    state
                        .aggregator
                        .health()
                        .record_success(&key, SystemTime::now());
                }
                Err(reason) => {
                    state.aggregator.health().record_failure(
                        &key,
                        &reason,
                        tokio::time::Instant::now().into_std(),
                    );
                }
            }
            persist_health(state).await;
        }
    }
    if new_state.is_some() {
        tracing::info!(podm = %row.uuid, state = %row.state.as_str(), "pod manager state changed");
    }
    let counts = state.db.run(valence_db::nodes::counts_per_podm).await?;
    let inventory = state.aggregator.cached(&key).await;
    Ok(podm_body(
        state,
        &row,
        inventory.as_deref(),
        counts.get(&uuid).copied().unwrap_or_default(),
    ))
}

/// Writes the health changes seen since the last call to the database, and the detected driver
/// and capabilities of PODMs that answered a probe.
pub async fn persist_health(state: &AppState) {
    let transitions = state.aggregator.health().drain_transitions();
    for change in transitions {
        let Ok(uuid) = Uuid::parse_str(&change.uuid) else {
            continue;
        };
        let view = state.aggregator.health().view(&change.uuid);
        let health = valence_db::Health {
            status: match view.status {
                HealthStatus::Online => PodmStatus::Online,
                HealthStatus::Offline => PodmStatus::Offline,
                HealthStatus::Unknown => PodmStatus::Unknown,
            },
            last_seen_at: view
                .last_seen
                .map(|t| chrono::DateTime::<chrono::Utc>::from(t).naive_utc()),
            last_error: view.last_error.clone(),
        };
        let result = state
            .db
            .run(move |conn| valence_db::pod_managers::set_health(conn, uuid, &health))
            .await;
        match result {
            Ok(()) => {
                tracing::info!(podm = %change.uuid, from = ?change.from, to = ?change.to, "pod manager health changed")
            }
            // Deleted meanwhile: nothing to record.
            Err(valence_db::DbError::NotFound { .. }) => {}
            Err(err) => {
                tracing::warn!(podm = %change.uuid, %err, "cannot record pod manager health")
            }
        }
    }
}

/// Records what a successful probe found, re-detecting the driver unless the operator gave it.
pub async fn record_probe(
    state: &AppState,
    row: &valence_db::PodManager,
    probe: &ProbeInfo,
) -> Result<(), ApiError> {
    let source = row
        .capabilities
        .get(DRIVER_SOURCE)
        .and_then(|v| v.as_str())
        .unwrap_or("given")
        .to_owned();
    let driver = if source == "given" {
        row.driver
    } else {
        db_driver(probe.driver)
    };
    let capabilities = capabilities_json(
        Some(probe),
        if source == "given" {
            "given"
        } else {
            "detected"
        },
    );
    if driver == row.driver && capabilities == row.capabilities {
        return Ok(());
    }
    let uuid = row.uuid;
    let changes = valence_db::PodManagerUpdate {
        driver: Some(driver),
        capabilities: Some(capabilities),
        ..Default::default()
    };
    state
        .db
        .run(move |conn| valence_db::pod_managers::update(conn, uuid, &changes))
        .await?;
    if driver != row.driver {
        state.connections.invalidate(&uuid.to_string()).await;
    }
    Ok(())
}

async fn valence_nodes(state: &AppState, uuid: Uuid) -> Result<Vec<valence_db::Node>, ApiError> {
    let filter = valence_db::NodeFilter {
        podm_uuid: Some(uuid),
        managed_by: Some(valence_db::ManagedBy::Valence),
        ..Default::default()
    };
    Ok(state
        .db
        .run(move |conn| valence_db::nodes::list(conn, &filter, valence_db::Page::default()))
        .await?)
}

fn node_refs(nodes: &[valence_db::Node]) -> Vec<types::NodeRef> {
    nodes
        .iter()
        .map(|n| types::NodeRef {
            uuid: n.uuid.to_string(),
            name: n.name.clone(),
            state: n.state.as_str().to_owned(),
        })
        .collect()
}

/// `DELETE /v1/pod_managers/{uuid}?dry_run=true`.
pub async fn plan_delete(
    state: &AppState,
    uuid: Uuid,
    release: bool,
) -> Result<types::PodManagerDeletePlan, ApiError> {
    get_row(state, uuid).await?;
    let nodes = valence_nodes(state, uuid).await?;
    Ok(types::PodManagerDeletePlan {
        podm_id: uuid.to_string(),
        would_delete: release || nodes.is_empty(),
        nodes: node_refs(&nodes),
    })
}

/// The safe delete. Refused (409, naming the nodes) while Valence-made nodes remain, unless
/// `release`: then the PODM is marked `deleting` (never scheduled again), its nodes are
/// decomposed one by one, and it is deleted. A failure midway (a node still being composed, a
/// PODM failing a deletion) leaves it `deleting` with the remaining nodes recorded and owned by
/// nobody: the recovery round of any instance resumes it, as does calling again.
pub async fn delete(state: &AppState, uuid: Uuid, release: bool) -> Result<(), ApiError> {
    let row = get_row(state, uuid).await?;
    let nodes = valence_nodes(state, uuid).await?;
    if !nodes.is_empty() && !release {
        let names: Vec<String> = nodes
            .iter()
            .map(|n| format!("{} ({})", n.name, n.uuid))
            .collect();
        return Err(ApiError::new(
            ErrorCode::PodmHasNodes,
            format!(
                "pod manager {} still holds {} node(s) made by Valence: {}; delete them first or pass release=true",
                row.name,
                nodes.len(),
                names.join(", ")
            ),
        )
        .with("nodes", serde_json::to_value(node_refs(&nodes)).unwrap_or_default()));
    }
    if !nodes.is_empty() {
        let me = state.instance_id.clone();
        state
            .db
            .transaction(move |conn| {
                valence_db::pod_managers::set_state(conn, uuid, PodmState::Deleting)?;
                valence_db::pod_managers::set_owner(conn, uuid, Some(&me))
            })
            .await?;
        tracing::info!(podm = %uuid, nodes = nodes.len(), "releasing the nodes of a pod manager being deleted");
        for node in nodes {
            match crate::service::nodes::decompose(state, node).await {
                Ok(()) => {}
                // Released meanwhile by the recovery round, which takes over a deletion left
                // midway, or by another request: gone is what this loop wants.
                Err(err) if err.code == ErrorCode::NotFound => {}
                Err(err) => {
                    if let Err(db) = state
                        .db
                        .run(move |conn| valence_db::pod_managers::set_owner(conn, uuid, None))
                        .await
                    {
                        tracing::warn!(podm = %uuid, %db, "cannot hand the pod manager deletion over");
                    }
                    return Err(err);
                }
            }
        }
    }
    state
        .db
        .transaction(move |conn| {
            // Nodes adopted with `nodes/manage` were not made by Valence: forget them.
            let adopted = valence_db::NodeFilter {
                podm_uuid: Some(uuid),
                ..Default::default()
            };
            for node in valence_db::nodes::list(conn, &adopted, valence_db::Page::default())? {
                if node.managed_by == valence_db::ManagedBy::User {
                    valence_db::nodes::delete(conn, node.uuid)?;
                }
            }
            valence_db::pod_managers::delete_if_unused(conn, uuid)
        })
        .await?;
    let key = uuid.to_string();
    state.connections.invalidate(&key).await;
    state.aggregator.forget(&key).await;
    state.metrics.forget_podm(&key);
    tracing::info!(podm = %uuid, name = %row.name, "pod manager deleted");
    Ok(())
}
