//! The Redfish resource tree of a simulated PODM: which path is which resource, who may see it,
//! and what each method does (listing, Allocate, Assemble, Reset, Boot PATCH, attaching and
//! detaching pooled drives, node and session deletion, session login).

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::request::Parts;
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value};

use crate::compose::{self, AllocateRequest};
use crate::config::{Behavior, RsdVersion};
use crate::handle::{Counters, Pod};
use crate::pool::{self, DeviceOp, EndpointId};
use crate::render::{self, NodeDevices, Paging, SystemDynamic};
use crate::reply::{self, Reply, message, redfish_error};
use crate::schema;
use crate::state::{NodeState, PodState, Power};

/// A resolved request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Versions,
    Root,
    SessionService,
    Sessions,
    Session(String),
    Systems,
    /// Inventory index of the system, for this and the system's sub-resources.
    System(usize),
    Processors(usize),
    Processor(usize, u32),
    MemoryList(usize),
    Dimm(usize, u32),
    Nics(usize),
    Nic(usize, u32),
    Storages(usize),
    Storage(usize),
    SimpleStorages(usize),
    SimpleStorage(usize),
    NetworkInterfaces(usize),
    SystemReset(usize),
    ChassisList,
    Chassis(String),
    /// Drives of drawer `n`.
    Drives(usize),
    /// Drive `n` of the system with this index.
    Drive(usize, usize),
    Managers,
    Manager(String),
    ManagerNics(String),
    ManagerNic(String),
    NetworkProtocol(String),
    Nodes,
    Allocate,
    Node(u64),
    Assemble(u64),
    NodeReset(u64),
    /// Attach or detach a pooled drive; the route template of the version's spelling.
    DeviceAction(u64, DeviceOp, &'static str),
    /// The ActionInfo of attach or detach (RSD 2.3).
    DeviceActionInfo(u64, DeviceOp),
    Fabrics,
    Fabric,
    /// The PCIe fabric's switches (none are simulated).
    Switches,
    Endpoints,
    Endpoint(EndpointId),
    Zones,
    /// The zone of the composed node with this id.
    Zone(u64),
    PoolChassis,
    PoolDrives,
    /// Pooled drive by number.
    PoolDrive(u32),
    StorageServices,
    StorageService,
    ServiceDrives,
    StoragePools,
    Volumes,
    /// The volume of the pooled drive with this number.
    Volume(u32),
    Minor(&'static str),
    NotFound,
}

impl Route {
    /// The path template, for request counting.
    pub(crate) fn template(&self) -> &'static str {
        match self {
            Self::Versions => "/redfish",
            Self::Root => "/redfish/v1",
            Self::SessionService => "/redfish/v1/SessionService",
            Self::Sessions => "/redfish/v1/SessionService/Sessions",
            Self::Session(_) => "/redfish/v1/SessionService/Sessions/{id}",
            Self::Systems => "/redfish/v1/Systems",
            Self::System(_) => "/redfish/v1/Systems/{id}",
            Self::Processors(_) => "/redfish/v1/Systems/{id}/Processors",
            Self::Processor(..) => "/redfish/v1/Systems/{id}/Processors/{id}",
            Self::MemoryList(_) => "/redfish/v1/Systems/{id}/Memory",
            Self::Dimm(..) => "/redfish/v1/Systems/{id}/Memory/{id}",
            Self::Nics(_) => "/redfish/v1/Systems/{id}/EthernetInterfaces",
            Self::Nic(..) => "/redfish/v1/Systems/{id}/EthernetInterfaces/{id}",
            Self::Storages(_) => "/redfish/v1/Systems/{id}/Storage",
            Self::Storage(_) => "/redfish/v1/Systems/{id}/Storage/{id}",
            Self::SimpleStorages(_) => "/redfish/v1/Systems/{id}/SimpleStorage",
            Self::SimpleStorage(_) => "/redfish/v1/Systems/{id}/SimpleStorage/{id}",
            Self::NetworkInterfaces(_) => "/redfish/v1/Systems/{id}/NetworkInterfaces",
            Self::SystemReset(_) => "/redfish/v1/Systems/{id}/Actions/ComputerSystem.Reset",
            Self::ChassisList => "/redfish/v1/Chassis",
            Self::Chassis(_) => "/redfish/v1/Chassis/{id}",
            Self::Drives(_) => "/redfish/v1/Chassis/{id}/Drives",
            Self::Drive(..) => "/redfish/v1/Chassis/{id}/Drives/{id}",
            Self::Managers => "/redfish/v1/Managers",
            Self::Manager(_) => "/redfish/v1/Managers/{id}",
            Self::ManagerNics(_) => "/redfish/v1/Managers/{id}/EthernetInterfaces",
            Self::ManagerNic(_) => "/redfish/v1/Managers/{id}/EthernetInterfaces/{id}",
            Self::NetworkProtocol(_) => "/redfish/v1/Managers/{id}/NetworkProtocol",
            Self::Nodes => "/redfish/v1/Nodes",
            Self::Allocate => "/redfish/v1/Nodes/Actions/Allocate",
            Self::Node(_) => "/redfish/v1/Nodes/{id}",
            Self::Assemble(_) => "/redfish/v1/Nodes/{id}/Actions/ComposedNode.Assemble",
            Self::NodeReset(_) => "/redfish/v1/Nodes/{id}/Actions/ComposedNode.Reset",
            Self::DeviceAction(_, _, template) => template,
            Self::DeviceActionInfo(_, DeviceOp::Attach) => {
                "/redfish/v1/Nodes/{id}/Actions/AttachResourceActionInfo"
            }
            Self::DeviceActionInfo(_, DeviceOp::Detach) => {
                "/redfish/v1/Nodes/{id}/Actions/DetachResourceActionInfo"
            }
            Self::Fabrics => "/redfish/v1/Fabrics",
            Self::Fabric => "/redfish/v1/Fabrics/{id}",
            Self::Switches => "/redfish/v1/Fabrics/{id}/Switches",
            Self::Endpoints => "/redfish/v1/Fabrics/{id}/Endpoints",
            Self::Endpoint(_) => "/redfish/v1/Fabrics/{id}/Endpoints/{id}",
            Self::Zones => "/redfish/v1/Fabrics/{id}/Zones",
            Self::Zone(_) => "/redfish/v1/Fabrics/{id}/Zones/{id}",
            Self::PoolChassis => "/redfish/v1/Chassis/{id}",
            Self::PoolDrives => "/redfish/v1/Chassis/{id}/Drives",
            Self::PoolDrive(_) => "/redfish/v1/Chassis/{id}/Drives/{id}",
            Self::StorageServices => "/redfish/v1/StorageServices",
            Self::StorageService => "/redfish/v1/StorageServices/{id}",
            Self::ServiceDrives => "/redfish/v1/StorageServices/{id}/Drives",
            Self::StoragePools => "/redfish/v1/StorageServices/{id}/StoragePools",
            Self::Volumes => "/redfish/v1/StorageServices/{id}/Volumes",
            Self::Volume(_) => "/redfish/v1/StorageServices/{id}/Volumes/{id}",
            Self::Minor(path) => path,
            Self::NotFound => "(unknown)",
        }
    }

    fn allowed_methods(&self) -> &'static str {
        match self {
            Self::Sessions => "GET, POST",
            Self::Session(_) => "GET, DELETE",
            Self::Node(_) => "GET, PATCH, DELETE",
            Self::SystemReset(_)
            | Self::Allocate
            | Self::Assemble(_)
            | Self::NodeReset(_)
            | Self::DeviceAction(..) => "POST",
            _ => "GET",
        }
    }

    /// Readable without credentials: the version document, the service root and the login.
    fn is_public(&self, method: &Method) -> bool {
        matches!(self, Self::Versions | Self::Root)
            || (*self == Self::Sessions && method == Method::POST)
    }
}

/// The route of `path`, resolving ids against the inventory (node ids are checked later, under
/// the state lock).
pub(crate) fn resolve(pod: &Pod, path: &str) -> Route {
    use Route::*;
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    if path == "/redfish" {
        return Versions;
    }
    let Some(rest) = path.strip_prefix("/redfish/v1") else {
        return NotFound;
    };
    if rest.is_empty() {
        return Root;
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return NotFound;
    };
    let inv = &pod.inventory;
    let version = pod.version;
    let segments: Vec<&str> = rest.split('/').collect();
    let route = match segments.as_slice() {
        ["SessionService"] => SessionService,
        ["SessionService", "Sessions"] => Sessions,
        ["SessionService", "Sessions", id] => Session((*id).to_owned()),
        ["Systems"] => Systems,
        ["Systems", id, tail @ ..] => {
            let Some(s) = inv.system(id) else {
                return NotFound;
            };
            let i = s.index;
            match tail {
                [] => System(i),
                ["Processors"] => Processors(i),
                ["Processors", p] => {
                    numbered(p, "CPU", s.sockets).map_or(NotFound, |n| Processor(i, n))
                }
                ["Memory"] => MemoryList(i),
                ["Memory", m] => numbered(m, "Dimm", s.dimms).map_or(NotFound, |n| Dimm(i, n)),
                ["EthernetInterfaces"] => Nics(i),
                ["EthernetInterfaces", e] => {
                    numbered(e, "LAN", s.nics).map_or(NotFound, |n| Nic(i, n))
                }
                ["Storage"] => Storages(i),
                ["Storage", "1"] => Storage(i),
                ["SimpleStorage"] => SimpleStorages(i),
                ["SimpleStorage", "1"] => SimpleStorage(i),
                ["NetworkInterfaces"] => NetworkInterfaces(i),
                ["Actions", "ComputerSystem.Reset"] => SystemReset(i),
                _ => NotFound,
            }
        }
        ["Chassis"] => ChassisList,
        ["Chassis", id, tail @ ..] if *id == pool::chassis_id(version) => match tail {
            [] => PoolChassis,
            ["Drives"] => PoolDrives,
            ["Drives", drive] => pool::parse_drive_id(version, drive).map_or(NotFound, PoolDrive),
            _ => NotFound,
        },
        ["Chassis", id] => Chassis((*id).to_owned()),
        ["Chassis", drawer, "Drives", tail @ ..] => {
            let Some(d) = numbered(
                drawer,
                "Drawer",
                u32::try_from(inv.drawers).unwrap_or(u32::MAX),
            ) else {
                return NotFound;
            };
            let d = d as usize;
            match tail {
                [] => Drives(d),
                [drive] => drive
                    .split_once('-')
                    .and_then(|(sys, n)| {
                        let s = inv.system(sys).filter(|s| s.drawer == d)?;
                        let n = numbered(n, "", u32::try_from(s.drives.len()).ok()?)?;
                        Some(Drive(s.index, n as usize))
                    })
                    .unwrap_or(NotFound),
                _ => NotFound,
            }
        }
        ["Managers"] => Managers,
        ["Managers", id, tail @ ..] if render::manager_drawer(inv, id).is_some() => {
            let id = (*id).to_owned();
            match tail {
                [] => Manager(id),
                ["EthernetInterfaces"] => ManagerNics(id),
                ["EthernetInterfaces", "1"] => ManagerNic(id),
                ["NetworkProtocol"] => NetworkProtocol(id),
                _ => NotFound,
            }
        }
        ["Nodes"] => Nodes,
        ["Nodes", "Actions", "Allocate"] => Allocate,
        ["Nodes", id, tail @ ..] => {
            let Some(id) = canonical_number(id) else {
                return NotFound;
            };
            match tail {
                [] => Node(id),
                ["Actions", "ComposedNode.Assemble"] => Assemble(id),
                ["Actions", "ComposedNode.Reset"] => NodeReset(id),
                ["Actions", name] => device_route(version, id, name),
                _ => NotFound,
            }
        }
        ["Fabrics"] => Fabrics,
        ["Fabrics", fabric, tail @ ..] if *fabric == pool::fabric_id(version) => match tail {
            [] => Fabric,
            ["Switches"] if !pool::uses_volumes(version) => Switches,
            ["Endpoints"] => Endpoints,
            ["Endpoints", endpoint] => {
                pool::parse_endpoint_id(version, endpoint).map_or(NotFound, Endpoint)
            }
            ["Zones"] => Zones,
            ["Zones", zone] => canonical_number(zone).map_or(NotFound, Zone),
            _ => NotFound,
        },
        ["StorageServices", tail @ ..] if pool::uses_volumes(version) => match tail {
            [] => StorageServices,
            ["1"] => StorageService,
            ["1", "Drives"] => ServiceDrives,
            ["1", "StoragePools"] => StoragePools,
            ["1", "Volumes"] => Volumes,
            ["1", "Volumes", n] => canonical_number(n)
                .and_then(|n| u32::try_from(n).ok())
                .map_or(NotFound, Volume),
            _ => NotFound,
        },
        _ => render::minor_path(path).map_or(NotFound, Minor),
    };
    let is_session_route = matches!(route, SessionService | Sessions | Session(_));
    if is_session_route && !pod.session_service {
        return NotFound;
    }
    route
}

/// The attach / detach action or ActionInfo `name` of node `id`, in the spelling of `version`.
fn device_route(version: RsdVersion, id: u64, name: &str) -> Route {
    for op in [DeviceOp::Attach, DeviceOp::Detach] {
        if name == pool::action_name(version, op) {
            let template = match (pool::uses_volumes(version), op) {
                (true, DeviceOp::Attach) => {
                    "/redfish/v1/Nodes/{id}/Actions/ComposedNode.AttachResource"
                }
                (true, DeviceOp::Detach) => {
                    "/redfish/v1/Nodes/{id}/Actions/ComposedNode.DetachResource"
                }
                (false, DeviceOp::Attach) => {
                    "/redfish/v1/Nodes/{id}/Actions/ComposedNode.AttachEndpoint"
                }
                (false, DeviceOp::Detach) => {
                    "/redfish/v1/Nodes/{id}/Actions/ComposedNode.DetachEndpoint"
                }
            };
            return Route::DeviceAction(id, op, template);
        }
        if pool::uses_volumes(version) && name == pool::action_info_name(op) {
            return Route::DeviceActionInfo(id, op);
        }
    }
    Route::NotFound
}

/// `n` from `{prefix}{n}` when `1 <= n <= max` and written without leading zeros.
fn numbered(segment: &str, prefix: &str, max: u32) -> Option<u32> {
    let n = canonical_number(segment.strip_prefix(prefix)?)?;
    u32::try_from(n).ok().filter(|n| (1..=max).contains(n))
}

fn canonical_number(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| n.to_string() == text)
}

/// `$skip` and `$top` of the query (also percent-encoded as `%24skip`).
fn paging(query: Option<&str>, page_size: Option<usize>) -> Paging {
    let mut paging = Paging {
        page_size,
        ..Paging::default()
    };
    for pair in query.unwrap_or_default().split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let key = key.strip_prefix("%24").or_else(|| key.strip_prefix('$'));
        let Ok(value) = value.parse::<usize>() else {
            continue;
        };
        match key {
            Some("skip") => paging.skip = value,
            Some("top") => paging.top = Some(value),
            _ => {}
        }
    }
    paging
}

/// Checks Basic credentials or an `X-Auth-Token` when the PODM has credentials.
fn authenticate(pod: &Pod, headers: &HeaderMap, path: &str) -> Result<(), Reply> {
    let Some(credentials) = &pod.credentials else {
        return Ok(());
    };
    if let Some(token) = headers.get("X-Auth-Token").and_then(|t| t.to_str().ok()) {
        let mut st = pod.state_now(Instant::now());
        if let Some(session) = st.sessions.get_mut(token) {
            session.last_used = Instant::now();
            return Ok(());
        }
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    match basic {
        Some(encoded) => {
            let decoded = BASE64
                .decode(encoded.trim())
                .ok()
                .and_then(|raw| String::from_utf8(raw).ok());
            let valid = decoded
                .as_deref()
                .and_then(|d| d.split_once(':'))
                .is_some_and(|(user, password)| credentials.matches(user, password));
            if valid {
                Ok(())
            } else {
                Err(reply::bad_credentials(path))
            }
        }
        None => Err(reply::no_valid_session()),
    }
}

/// Answers one request. Runs without awaiting: every handler is a few lookups under one lock.
pub(crate) fn dispatch(pod: &Pod, route: Route, parts: &Parts, body: &[u8]) -> Reply {
    let method = &parts.method;
    let path = parts.uri.path();
    if !route.is_public(method)
        && let Err(refused) = authenticate(pod, &parts.headers, path)
    {
        Counters::bump(&pod.counters.auth_failures);
        return refused;
    }
    if route == Route::NotFound {
        return reply::not_found(path);
    }
    let allow = route.allowed_methods();
    if !allow.split(", ").any(|m| m == method.as_str()) {
        return reply::method_not_allowed(path, allow);
    }
    let behavior = pod.behavior();
    let paging = paging(parts.uri.query(), behavior.page_size);
    let version = pod.version;
    let inv = &pod.inventory;
    let system = |i: usize| &inv.systems[i];
    match route {
        Route::Versions => Reply::ok(render::redfish_versions()),
        Route::Root => Reply::ok(render::service_root(version, inv, pod.session_service)),
        Route::SessionService => {
            // whole seconds, rounded up so a short test timeout does not read as 0
            let secs = pod.session_timeout.as_secs_f64().ceil() as u64;
            Reply::ok(render::session_service(secs))
        }
        Route::Sessions if *method == Method::POST => login(pod, body),
        Route::Sessions => {
            let st = pod.state_now(Instant::now());
            let mut ids: Vec<u64> = st
                .sessions
                .values()
                .filter_map(|s| s.id.parse().ok())
                .collect();
            ids.sort_unstable();
            let members = ids
                .iter()
                .map(|id| format!("{}/{id}", render::SESSIONS))
                .collect();
            Reply::ok(render::collection(
                render::SESSIONS,
                "#SessionCollection.SessionCollection",
                "Session Collection",
                members,
                paging,
            ))
        }
        Route::Session(id) => session(pod, method, path, &id),
        Route::Systems => Reply::ok(render::collection(
            render::SYSTEMS,
            "#ComputerSystemCollection.ComputerSystemCollection",
            "Computer System Collection",
            inv.systems.iter().map(|s| s.odata_id()).collect(),
            paging,
        )),
        Route::System(i) => {
            let st = pod.state();
            let s = system(i);
            let endpoints = pool::initiator_node(inv, &st, &s.id)
                .map(|_| {
                    pool::endpoint_odata_id(version, &pool::initiator_endpoint_id(version, &s.id))
                })
                .into_iter()
                .collect();
            let dynamic = SystemDynamic {
                power: st.system_power[i],
                health: st.system_health[i],
                node: st.system_node[i],
                endpoints,
            };
            drop(st);
            Reply::ok(render::system(version, system(i), dynamic))
        }
        Route::Processors(i) => {
            let s = system(i);
            Reply::ok(render::collection(
                &format!("{}/Processors", s.odata_id()),
                "#ProcessorCollection.ProcessorCollection",
                "Processors Collection",
                (1..=s.sockets).map(|n| s.processor_odata_id(n)).collect(),
                paging,
            ))
        }
        Route::Processor(i, n) => Reply::ok(render::processor(version, system(i), n)),
        Route::MemoryList(i) => {
            let s = system(i);
            Reply::ok(render::collection(
                &format!("{}/Memory", s.odata_id()),
                "#MemoryCollection.MemoryCollection",
                "Memory Collection",
                (1..=s.dimms).map(|n| s.dimm_odata_id(n)).collect(),
                paging,
            ))
        }
        Route::Dimm(i, n) => Reply::ok(render::dimm(version, system(i), n)),
        Route::Nics(i) => {
            let s = system(i);
            Reply::ok(render::collection(
                &format!("{}/EthernetInterfaces", s.odata_id()),
                "#EthernetInterfaceCollection.EthernetInterfaceCollection",
                "Ethernet Interface Collection",
                (1..=s.nics).map(|n| s.nic_odata_id(n)).collect(),
                paging,
            ))
        }
        Route::Nic(i, n) => Reply::ok(render::system_nic(version, system(i), n)),
        Route::Storages(i) => {
            let s = system(i);
            Reply::ok(render::collection(
                &format!("{}/Storage", s.odata_id()),
                "#StorageCollection.StorageCollection",
                "Storage Collection",
                vec![format!("{}/Storage/1", s.odata_id())],
                paging,
            ))
        }
        Route::Storage(i) => Reply::ok(render::storage(system(i))),
        Route::SimpleStorages(i) => {
            let s = system(i);
            Reply::ok(render::collection(
                &format!("{}/SimpleStorage", s.odata_id()),
                "#SimpleStorageCollection.SimpleStorageCollection",
                "Simple Storage Collection",
                vec![format!("{}/SimpleStorage/1", s.odata_id())],
                paging,
            ))
        }
        Route::SimpleStorage(i) => Reply::ok(render::simple_storage(system(i))),
        Route::NetworkInterfaces(i) => Reply::ok(render::collection(
            &format!("{}/NetworkInterfaces", system(i).odata_id()),
            "#NetworkInterfaceCollection.NetworkInterfaceCollection",
            "Network Interface Collection",
            Vec::new(),
            paging,
        )),
        Route::SystemReset(i) => match reset_type(body) {
            Ok(reset) => {
                let mut st = pod.state();
                st.system_power[i] = power_after(reset, st.system_power[i]);
                Reply::no_content()
            }
            Err(refused) => refused,
        },
        Route::ChassisList => Reply::ok(render::collection(
            render::CHASSIS,
            "#ChassisCollection.ChassisCollection",
            "Chassis Collection",
            render::chassis_ids(version, inv),
            paging,
        )),
        Route::Chassis(id) => {
            render::chassis(version, inv, &id).map_or_else(|| reply::not_found(path), Reply::ok)
        }
        Route::Drives(d) => Reply::ok(render::collection(
            &format!("{}/Drawer{d}/Drives", render::CHASSIS),
            "#DriveCollection.DriveCollection",
            "Drives",
            inv.systems_in_drawer(d)
                .iter()
                .flat_map(|s| (1..=s.drives.len()).map(|n| s.drive_odata_id(n)))
                .collect(),
            paging,
        )),
        Route::Drive(i, n) => {
            render::drive(version, system(i), n).map_or_else(|| reply::not_found(path), Reply::ok)
        }
        Route::Managers => Reply::ok(render::collection(
            render::MANAGERS,
            "#ManagerCollection.ManagerCollection",
            "Manager Collection",
            render::manager_ids(inv),
            paging,
        )),
        Route::Manager(id) => {
            let drawer = render::manager_drawer(inv, &id).flatten();
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Reply::ok(render::manager(version, inv, drawer, &pod.name, &now))
        }
        Route::ManagerNics(id) => Reply::ok(render::collection(
            &format!("{}/{id}/EthernetInterfaces", render::MANAGERS),
            // what the RSD PODM calls it (rsd-lib samples)
            "#EthernetNetworkInterface.v1_0_0.EthernetNetworkInterfaceCollection",
            "Ethernet Network Interface Collection",
            vec![format!("{}/{id}/EthernetInterfaces/1", render::MANAGERS)],
            paging,
        )),
        Route::ManagerNic(id) => Reply::ok(render::manager_nic(inv, &id)),
        Route::NetworkProtocol(id) => {
            Reply::ok(render::manager_network_protocol(&id, pod.port, pod.tls))
        }
        Route::Nodes => {
            let ids = pod.state().nodes.values().map(|n| n.odata_id()).collect();
            Reply::ok(render::nodes_collection(ids, paging))
        }
        Route::Allocate => allocate(pod, parts, body, &behavior),
        Route::Node(id) => match *method {
            Method::PATCH => patch_node(pod, id, path, body),
            Method::DELETE => delete_node(pod, id, path, &behavior),
            _ => get_node(pod, id, path),
        },
        Route::Assemble(id) => assemble(pod, id, path, &behavior),
        Route::NodeReset(id) => reset_node(pod, id, path, body),
        Route::DeviceAction(id, op, _) => device_action(pod, id, op, path, body),
        Route::DeviceActionInfo(id, op) => {
            let st = pod.state();
            if !st.nodes.contains_key(&id) {
                return reply::not_found(path);
            }
            let allowed = device_targets(version, &st, id, op);
            Reply::ok(pool::action_info(version, id, op, allowed))
        }
        Route::Fabrics => Reply::ok(pool::fabrics(version, paging)),
        Route::Fabric => Reply::ok(pool::fabric(version)),
        Route::Switches => Reply::ok(pool::switches(version, paging)),
        Route::Endpoints => Reply::ok(pool::endpoints(version, inv, &pod.state(), paging)),
        Route::Endpoint(EndpointId::Target(n)) => match pod.state().pool.get(&n) {
            Some(d) => Reply::ok(pool::target_endpoint(version, &d.spec, d.node)),
            None => reply::not_found(path),
        },
        Route::Endpoint(EndpointId::Initiator(system_id)) => {
            let node = pool::initiator_node(inv, &pod.state(), &system_id);
            node.and_then(|node| pool::initiator_endpoint(version, inv, &system_id, node))
                .map_or_else(|| reply::not_found(path), Reply::ok)
        }
        Route::Zones => Reply::ok(pool::zones(version, &pod.state(), paging)),
        Route::Zone(node) => pool::zone(version, inv, &pod.state(), node)
            .map_or_else(|| reply::not_found(path), Reply::ok),
        Route::PoolChassis => Reply::ok(pool::chassis(version, inv, &pod.state())),
        Route::PoolDrives => Reply::ok(pool::drives(
            version,
            &pod.state(),
            &format!("{}/Drives", pool::chassis_odata_id(version)),
            paging,
        )),
        Route::PoolDrive(n) => match pod.state().pool.get(&n) {
            Some(d) => Reply::ok(pool::drive(version, &d.spec, d.node.is_some())),
            None => reply::not_found(path),
        },
        Route::StorageServices => Reply::ok(pool::storage_services(paging)),
        Route::StorageService => Reply::ok(pool::storage_service(version)),
        Route::ServiceDrives => Reply::ok(pool::drives(
            version,
            &pod.state(),
            &format!("{}/Drives", pool::STORAGE_SERVICE),
            paging,
        )),
        Route::StoragePools => Reply::ok(pool::storage_pools(paging)),
        Route::Volumes => Reply::ok(pool::volumes(&pod.state(), paging)),
        Route::Volume(n) => match pod.state().pool.get(&n) {
            Some(d) => Reply::ok(pool::volume(version, &d.spec, d.node.is_some())),
            None => reply::not_found(path),
        },
        Route::Minor(p) => render::minor_resource(version, p, paging)
            .map_or_else(|| reply::not_found(path), Reply::ok),
        Route::NotFound => reply::not_found(path),
    }
}

fn json_body(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(reply::malformed_json("the request body is empty"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(reply::malformed_json(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(reply::malformed_json(&e.to_string())),
    }
}

fn login(pod: &Pod, body: &[u8]) -> Reply {
    let fields = match json_body(body) {
        Ok(fields) => fields,
        Err(refused) => return refused,
    };
    let text = |name: &str| -> Result<String, Reply> {
        match fields.get(name) {
            None => Err(reply::property_missing(name)),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(reply::value_not_allowed(name, other, &["a string"])),
        }
    };
    let (user, password) = match (text("UserName"), text("Password")) {
        (Ok(u), Ok(p)) => (u, p),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    if let Some(credentials) = &pod.credentials
        && !credentials.matches(&user, &password)
    {
        Counters::bump(&pod.counters.auth_failures);
        return reply::bad_credentials(render::SESSIONS);
    }
    let (id, token) = pod
        .state_now(Instant::now())
        .open_session(&user, Instant::now());
    Counters::bump(&pod.counters.logins);
    Reply::json(StatusCode::CREATED, render::session(&id, &user))
        .with_header(header::LOCATION, &format!("{}/{id}", render::SESSIONS))
        .with_header(http::HeaderName::from_static("x-auth-token"), &token)
}

fn session(pod: &Pod, method: &Method, path: &str, id: &str) -> Reply {
    let mut st = pod.state_now(Instant::now());
    if *method == Method::DELETE {
        if st.close_session(id) {
            Counters::bump(&pod.counters.logouts);
            return Reply::no_content();
        }
        return reply::not_found(path);
    }
    match st.sessions.values().find(|s| s.id == id) {
        Some(s) => Reply::ok(render::session(&s.id, &s.user)),
        None => reply::not_found(path),
    }
}

/// `Location` of a new node: absolute, as an RSD PODM (JAX-RS) sends it.
fn absolute_url(pod: &Pod, parts: &Parts, path: &str) -> String {
    let scheme = if pod.tls { "https" } else { "http" };
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("127.0.0.1:{}", pod.port));
    format!("{scheme}://{host}{path}")
}

fn allocate(pod: &Pod, parts: &Parts, body: &[u8], behavior: &Behavior) -> Reply {
    let fields = match json_body(body) {
        Ok(fields) => Value::Object(fields),
        Err(refused) => return refused,
    };
    match schema::validate_allocate(pod.version, &fields) {
        Ok(violations) if violations.is_empty() => {}
        Ok(violations) => return reply::invalid_payload(&violations),
        Err(e) => return reply::internal(&format!("Allocate schema unusable: {e}")),
    }
    let request: AllocateRequest = match serde_json::from_value(fields) {
        Ok(r) => r,
        Err(e) => return reply::malformed_json(&e.to_string()),
    };
    let now = Instant::now();
    let mut st = pod.state();
    match compose::choose_system(&pod.inventory, &st, &request) {
        Ok(system) => {
            let name = request
                .name
                .clone()
                .unwrap_or_else(|| "Composed Node".to_owned());
            let description = request.description.clone().unwrap_or_default();
            let clear_tpm = request
                .security
                .as_ref()
                .and_then(|s| s.clear_tpm_on_delete)
                .unwrap_or(true);
            let node = st.add_node(system, name, description, behavior.allocation_delay, now);
            let node_id = node.id;
            let location = node.odata_id();
            if let Some(n) = st.nodes.get_mut(&node_id) {
                n.clear_tpm_on_delete = clear_tpm;
            }
            drop(st);
            Counters::bump(&pod.counters.allocations);
            Reply {
                status: StatusCode::CREATED,
                headers: Vec::new(),
                body: None,
            }
            .with_header(
                header::LOCATION,
                &if behavior.relative_location {
                    location
                } else {
                    absolute_url(pod, parts, &location)
                },
            )
        }
        Err(conflict) => {
            drop(st);
            Counters::bump(&pod.counters.allocation_conflicts);
            let mut infos = vec![message(
                "Base.1.0.ResourcesStateMismatch",
                "There are no computer systems available for this allocation request.".to_owned(),
                &[],
                &[],
            )];
            if let Some(reason) = &conflict.reason {
                infos.push(message(
                    "Base.1.0.ResourcesStateMismatch",
                    reason.clone(),
                    &[],
                    &[],
                ));
            }
            infos.push(message(
                "Base.1.0.ResourcesStateMismatch",
                conflict.filter_summary(),
                &[],
                &[],
            ));
            redfish_error(
                StatusCode::CONFLICT,
                "Base.1.0.ResourcesStateMismatch",
                "Conflict during allocation",
                infos,
            )
        }
    }
}

fn get_node(pod: &Pod, id: u64, path: &str) -> Reply {
    let st = pod.state();
    let Some(node) = st.nodes.get(&id) else {
        return reply::not_found(path);
    };
    Reply::ok(render_node(pod, &st, node))
}

/// The node as the PODM shows it now.
fn render_node(pod: &Pod, st: &PodState, node: &crate::state::Node) -> Value {
    let version = pod.version;
    let devices = NodeDevices {
        attached: device_targets(version, st, node.id, DeviceOp::Detach),
        attachable: device_targets(version, st, node.id, DeviceOp::Attach),
    };
    render::node(
        version,
        &pod.inventory.systems[node.system],
        node,
        node.state(Instant::now()),
        st.system_power[node.system],
        devices,
    )
}

/// The targets node `id` may `op`: the unattached ones to attach, its own to detach.
fn device_targets(version: RsdVersion, st: &PodState, id: u64, op: DeviceOp) -> Vec<String> {
    let numbers = match op {
        DeviceOp::Attach => st.unattached(),
        DeviceOp::Detach => st.attached_to(id),
    };
    numbers
        .into_iter()
        .map(|n| pool::target_odata_id(version, n))
        .collect()
}

fn patch_node(pod: &Pod, id: u64, path: &str, body: &[u8]) -> Reply {
    let fields = match json_body(body) {
        Ok(fields) => fields,
        Err(refused) => return refused,
    };
    let mut st = pod.state();
    let Some(node) = st.nodes.get(&id) else {
        return reply::not_found(path);
    };
    let mut boot = node.boot.clone();
    let mut clear_tpm = node.clear_tpm_on_delete;
    let current = render_node(pod, &st, node);
    for (key, value) in &fields {
        match key.as_str() {
            "Boot" => {
                let Some(settings) = value.as_object() else {
                    return reply::value_not_allowed("Boot", value, &["an object"]);
                };
                for (name, setting) in settings {
                    let (slot, allowed) = match name.as_str() {
                        "BootSourceOverrideEnabled" => (&mut boot.enabled, render::BOOT_ENABLED),
                        "BootSourceOverrideTarget" => (&mut boot.target, render::BOOT_TARGETS),
                        "BootSourceOverrideMode" => (&mut boot.mode, render::BOOT_MODES),
                        other => return reply::unknown_property(&format!("Boot.{other}")),
                    };
                    match setting.as_str().filter(|s| allowed.contains(s)) {
                        Some(s) => *slot = s.to_owned(),
                        None => {
                            return reply::value_not_allowed(
                                &format!("Boot.{name}"),
                                setting,
                                allowed,
                            );
                        }
                    }
                }
            }
            "ClearTPMOnDelete" if pod.version >= RsdVersion::V2_3 => match value.as_bool() {
                Some(b) => clear_tpm = b,
                None => return reply::value_not_allowed(key, value, &["true", "false"]),
            },
            other if current.get(other).is_some() => return reply::not_writable(other),
            other => return reply::unknown_property(other),
        }
    }
    let Some(node) = st.nodes.get_mut(&id) else {
        return reply::not_found(path);
    };
    node.boot = boot;
    node.clear_tpm_on_delete = clear_tpm;
    let node = node.clone();
    Reply::ok(render_node(pod, &st, &node))
}

fn delete_node(pod: &Pod, id: u64, path: &str, behavior: &Behavior) -> Reply {
    let mut st = pod.state();
    let Some(node) = st.nodes.get(&id) else {
        return reply::not_found(path);
    };
    let system_id = pod.inventory.systems[node.system].id.clone();
    if st.roll(behavior.delete_failure_rate) {
        return redfish_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Base.1.0.UnknownException",
            "The specified node could not be disassembled",
            vec![message(
                "Base.1.0.UnknownException",
                format!(
                    "Disassembly failed: Could not power off composed node: ComputerSystem {system_id} reset action(GracefulShutdown) failed"
                ),
                &[],
                &[],
            )],
        );
    }
    st.remove_node(id);
    Counters::bump(&pod.counters.node_deletions);
    Reply::no_content()
}

fn assemble(pod: &Pod, id: u64, path: &str, behavior: &Behavior) -> Reply {
    let now = Instant::now();
    let mut st = pod.state();
    let Some(node) = st.nodes.get(&id) else {
        return reply::not_found(path);
    };
    let state = node.state(now);
    if state != NodeState::Allocated {
        return redfish_error(
            StatusCode::BAD_REQUEST,
            "Base.1.0.InvalidPayload",
            "Request payload is invalid or missing",
            vec![
                message(
                    "Base.1.0.InvalidPayload",
                    "Assembly action could not be completed!".to_owned(),
                    &[],
                    &[],
                ),
                message(
                    "Base.1.0.InvalidPayload",
                    format!(
                        "Assembly failed: Only composed node in ALLOCATED state can be assembled (node {id} is {})",
                        state.as_str()
                    ),
                    &[state.as_str().to_owned()],
                    &["#/ComposedNodeState".to_owned()],
                ),
            ],
        );
    }
    st.assemble(
        id,
        behavior.assembly_delay,
        behavior.assembly_failure_rate,
        now,
    );
    Reply::no_content()
}

/// Attaches (or detaches) the pooled drive the body's `Resource` names to (from) node `id`.
fn device_action(pod: &Pod, id: u64, op: DeviceOp, path: &str, body: &[u8]) -> Reply {
    let version = pod.version;
    let fields = match json_body(body) {
        Ok(fields) => fields,
        Err(refused) => return refused,
    };
    if let Some(other) = fields.keys().find(|k| *k != "Resource" && *k != "Protocol") {
        return reply::unknown_property(other);
    }
    let protocol = pool::protocol(version);
    if let Some(value) = fields.get("Protocol")
        && value.as_str() != Some(protocol)
    {
        return reply::value_not_allowed("Protocol", value, &[protocol]);
    }
    let Some(resource) = fields.get("Resource") else {
        return reply::property_missing("Resource");
    };
    let Some(target) = resource.get("@odata.id").and_then(Value::as_str) else {
        return reply::wrong_type("Resource", resource, "an object with an @odata.id");
    };
    let mut st = pod.state();
    let Some(node) = st.nodes.get(&id) else {
        return reply::not_found(path);
    };
    let state = node.state(Instant::now());
    if !matches!(state, NodeState::Allocated | NodeState::Assembled) {
        return redfish_error(
            StatusCode::CONFLICT,
            "Base.1.0.ResourcesStateMismatch",
            "Conflict during attach or detach",
            vec![message(
                "Base.1.0.ResourcesStateMismatch",
                format!(
                    "Could not {} the resource: composed node {id} is {}, not Allocated or Assembled",
                    op.verb(),
                    state.as_str()
                ),
                &[state.as_str().to_owned()],
                &["#/ComposedNodeState".to_owned()],
            )],
        );
    }
    let allowed = device_targets(version, &st, id, op);
    let target = target.trim_end_matches('/');
    let Some(number) =
        pool::target_number(version, &st, target).filter(|_| allowed.iter().any(|a| a == target))
    else {
        let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
        return reply::value_not_allowed("Resource", resource, &allowed);
    };
    st.set_attachment(
        number,
        match op {
            DeviceOp::Attach => Some(id),
            DeviceOp::Detach => None,
        },
    );
    drop(st);
    Counters::bump(match op {
        DeviceOp::Attach => &pod.counters.attachments,
        DeviceOp::Detach => &pod.counters.detachments,
    });
    Reply::no_content()
}

fn reset_type(body: &[u8]) -> Result<&'static str, Reply> {
    let fields = json_body(body)?;
    if let Some(other) = fields.keys().find(|k| *k != "ResetType") {
        return Err(reply::unknown_property(other));
    }
    let Some(value) = fields.get("ResetType") else {
        return Err(reply::property_missing("ResetType"));
    };
    render::RESET_TYPES
        .iter()
        .find(|t| value.as_str() == Some(**t))
        .copied()
        .ok_or_else(|| reply::value_not_allowed("ResetType", value, render::RESET_TYPES))
}

fn power_after(reset: &str, current: Power) -> Power {
    match reset {
        "On" | "ForceOn" | "ForceRestart" | "GracefulRestart" => Power::On,
        "ForceOff" | "GracefulShutdown" => Power::Off,
        "PushPowerButton" if current == Power::On => Power::Off,
        "PushPowerButton" => Power::On,
        _ => current,
    }
}

fn reset_node(pod: &Pod, id: u64, path: &str, body: &[u8]) -> Reply {
    let reset = match reset_type(body) {
        Ok(reset) => reset,
        Err(refused) => return refused,
    };
    let mut st = pod.state();
    let Some(node) = st.nodes.get(&id) else {
        return reply::not_found(path);
    };
    let state = node.state(Instant::now());
    if state != NodeState::Assembled {
        return redfish_error(
            StatusCode::CONFLICT,
            "Base.1.0.ResourcesStateMismatch",
            "Conflict during reset",
            vec![message(
                "Base.1.0.ResourcesStateMismatch",
                format!(
                    "Reset action could not be completed: composed node {id} is {}, not Assembled",
                    state.as_str()
                ),
                &[state.as_str().to_owned()],
                &["#/ComposedNodeState".to_owned()],
            )],
        );
    }
    let system = node.system;
    st.system_power[system] = power_after(reset, st.system_power[system]);
    Reply::no_content()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_reads_skip_and_top() {
        let p = paging(Some("$skip=4&%24top=2&x=y"), Some(10));
        assert_eq!((p.skip, p.top, p.page_size), (4, Some(2), Some(10)));
        let p = paging(None, None);
        assert_eq!((p.skip, p.top), (0, None));
    }

    #[test]
    fn numbers_must_be_canonical_and_in_range() {
        assert_eq!(numbered("CPU2", "CPU", 2), Some(2));
        assert_eq!(numbered("CPU3", "CPU", 2), None);
        assert_eq!(numbered("CPU02", "CPU", 2), None);
        assert_eq!(numbered("CPU0", "CPU", 2), None);
        assert_eq!(canonical_number("17"), Some(17));
        assert_eq!(canonical_number("+17"), None);
    }

    #[test]
    fn power_transitions() {
        assert_eq!(power_after("On", Power::Off), Power::On);
        assert_eq!(power_after("GracefulShutdown", Power::On), Power::Off);
        assert_eq!(power_after("PushPowerButton", Power::On), Power::Off);
        assert_eq!(power_after("Nmi", Power::Off), Power::Off);
    }

    #[test]
    fn empty_and_non_object_bodies_are_malformed() {
        assert!(json_body(b"  ").is_err());
        assert!(json_body(b"[1]").is_err());
        assert!(json_body(b"{\"a\":").is_err());
        assert_eq!(json_body(b"{\"a\":1}").unwrap()["a"], 1);
    }
}
