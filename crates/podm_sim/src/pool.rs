//! Pooled NVMe drives as an RSD PODM serves them: where each resource lives in each version and
//! its JSON (fabric, endpoints, zones, the drives, and in RSD 2.3 the storage service and its
//! volumes), shaped like the rsd-lib samples.
//!
//! RSD 2.1 and 2.2 reach pooled drives over a PCIe fabric (`/redfish/v1/Fabrics/PCIe`): each
//! target endpoint names a drive, and a node attaches it with `#ComposedNode.AttachEndpoint`.
//! RSD 2.3 reaches them over NVMe over Fabrics (`/redfish/v1/Fabrics/NVMeoE`): each target
//! endpoint names a volume of the storage service (one volume spanning each drive), and a node
//! attaches it with `#ComposedNode.AttachResource`, whose `@Redfish.ActionInfo` lists what may be
//! attached. A node with attached drives has, as on a real PODM, a zone holding its initiator
//! endpoint and the targets.

use serde_json::{Value, json};

use crate::config::RsdVersion;
use crate::inventory::{Inventory, POD_CHASSIS, PooledDriveSpec};
use crate::render::{self, Paging, link, links, ok_status};
use crate::state::PodState;

/// The storage service of RSD 2.3 that holds the volumes.
pub(crate) const STORAGE_SERVICE: &str = "/redfish/v1/StorageServices/1";
pub(crate) const FABRICS: &str = "/redfish/v1/Fabrics";

/// Attaching or detaching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceOp {
    Attach,
    Detach,
}

impl DeviceOp {
    pub(crate) fn verb(self) -> &'static str {
        match self {
            Self::Attach => "attach",
            Self::Detach => "detach",
        }
    }
}

/// Whether targets are volumes behind NVMe over Fabrics (RSD 2.3) rather than drives behind a
/// PCIe switch (RSD 2.1, 2.2).
pub(crate) fn uses_volumes(version: RsdVersion) -> bool {
    version >= RsdVersion::V2_3
}

pub(crate) fn fabric_id(version: RsdVersion) -> &'static str {
    if uses_volumes(version) {
        "NVMeoE"
    } else {
        "PCIe"
    }
}

pub(crate) fn fabric_odata_id(version: RsdVersion) -> String {
    format!("{FABRICS}/{}", fabric_id(version))
}

pub(crate) fn endpoints_odata_id(version: RsdVersion) -> String {
    format!("{}/Endpoints", fabric_odata_id(version))
}

pub(crate) fn zones_odata_id(version: RsdVersion) -> String {
    format!("{}/Zones", fabric_odata_id(version))
}

/// `EndpointProtocol` of every endpoint, and the only `Protocol` an attach accepts.
pub(crate) fn protocol(version: RsdVersion) -> &'static str {
    if uses_volumes(version) {
        "NVMeOverFabrics"
    } else {
        "PCIe"
    }
}

/// The node action name (after `#ComposedNode.`) of `op` in `version`.
pub(crate) fn action_name(version: RsdVersion, op: DeviceOp) -> &'static str {
    match (uses_volumes(version), op) {
        (true, DeviceOp::Attach) => "ComposedNode.AttachResource",
        (true, DeviceOp::Detach) => "ComposedNode.DetachResource",
        (false, DeviceOp::Attach) => "ComposedNode.AttachEndpoint",
        (false, DeviceOp::Detach) => "ComposedNode.DetachEndpoint",
    }
}

/// The ActionInfo id of `op` (RSD 2.3 only).
pub(crate) fn action_info_name(op: DeviceOp) -> &'static str {
    match op {
        DeviceOp::Attach => "AttachResourceActionInfo",
        DeviceOp::Detach => "DetachResourceActionInfo",
    }
}

pub(crate) fn target_endpoint_id(version: RsdVersion, number: u32) -> String {
    if uses_volumes(version) {
        number.to_string()
    } else {
        format!("NVMeDrivePF{number}")
    }
}

pub(crate) fn initiator_endpoint_id(version: RsdVersion, system_id: &str) -> String {
    if uses_volumes(version) {
        format!("Initiator{system_id}")
    } else {
        format!("HostRootComplex{system_id}")
    }
}

pub(crate) fn endpoint_odata_id(version: RsdVersion, id: &str) -> String {
    format!("{}/{id}", endpoints_odata_id(version))
}

/// Which endpoint an endpoint id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EndpointId {
    /// The target of pooled drive `n`.
    Target(u32),
    /// The initiator of the system with this `Id`.
    Initiator(String),
}

pub(crate) fn parse_endpoint_id(version: RsdVersion, id: &str) -> Option<EndpointId> {
    let (target_prefix, initiator_prefix) = if uses_volumes(version) {
        ("", "Initiator")
    } else {
        ("NVMeDrivePF", "HostRootComplex")
    };
    if let Some(system) = id.strip_prefix(initiator_prefix) {
        return Some(EndpointId::Initiator(system.to_owned()));
    }
    canonical(id.strip_prefix(target_prefix)?).map(EndpointId::Target)
}

/// The chassis holding the pooled drives.
pub(crate) fn chassis_id(version: RsdVersion) -> &'static str {
    if uses_volumes(version) {
        "StorageEnclosure1"
    } else {
        "PCIeSwitch1"
    }
}

pub(crate) fn chassis_odata_id(version: RsdVersion) -> String {
    format!("{}/{}", render::CHASSIS, chassis_id(version))
}

/// `Id` of pooled drive `number` in its chassis: `Disk.Bay.<n-1>` as in the RSD 2.1 sample,
/// the number itself in 2.3.
pub(crate) fn drive_id(version: RsdVersion, number: u32) -> String {
    if uses_volumes(version) {
        number.to_string()
    } else {
        format!("Disk.Bay.{}", number.saturating_sub(1))
    }
}

pub(crate) fn parse_drive_id(version: RsdVersion, id: &str) -> Option<u32> {
    if uses_volumes(version) {
        canonical(id)
    } else {
        canonical(id.strip_prefix("Disk.Bay.")?).and_then(|n| n.checked_add(1))
    }
}

pub(crate) fn drive_odata_id(version: RsdVersion, number: u32) -> String {
    format!(
        "{}/Drives/{}",
        chassis_odata_id(version),
        drive_id(version, number)
    )
}

pub(crate) fn volume_odata_id(number: u32) -> String {
    format!("{STORAGE_SERVICE}/Volumes/{number}")
}

/// What a node attaches: the volume (2.3) or the drive (2.1, 2.2).
pub(crate) fn target_odata_id(version: RsdVersion, number: u32) -> String {
    if uses_volumes(version) {
        volume_odata_id(number)
    } else {
        drive_odata_id(version, number)
    }
}

/// The pooled drive whose target is `odata_id` (a trailing slash is tolerated).
pub(crate) fn target_number(version: RsdVersion, st: &PodState, odata_id: &str) -> Option<u32> {
    let odata_id = odata_id.trim_end_matches('/');
    st.pool
        .keys()
        .copied()
        .find(|n| target_odata_id(version, *n) == odata_id)
}

/// `n` written without sign or leading zeros (`0` included: drive bays count from 0).
fn canonical(text: &str) -> Option<u32> {
    text.parse::<u32>().ok().filter(|n| n.to_string() == text)
}

fn zone_odata_id(version: RsdVersion, node: u64) -> String {
    format!("{}/{node}", zones_odata_id(version))
}

fn nqn(uuid: &uuid::Uuid) -> String {
    format!("nqn.2014-08.org.nvmexpress:NVMf:uuid:{uuid}")
}

/// The system id of the node's initiator (the system the node runs on).
fn node_system_id<'a>(inv: &'a Inventory, st: &PodState, node: u64) -> Option<&'a str> {
    st.nodes
        .get(&node)
        .map(|n| inv.systems[n.system].id.as_str())
}

/// The node whose system is `system_id`, if it has pooled drives attached (only then does the
/// system have an initiator endpoint).
pub(crate) fn initiator_node(inv: &Inventory, st: &PodState, system_id: &str) -> Option<u64> {
    let system = inv.system(system_id)?;
    let node = st.system_node[system.index]?;
    st.pool
        .values()
        .any(|d| d.node == Some(node))
        .then_some(node)
}

pub(crate) fn fabrics(version: RsdVersion, paging: Paging) -> Value {
    render::collection(
        FABRICS,
        "#FabricCollection.FabricCollection",
        "Fabric Collection",
        vec![fabric_odata_id(version)],
        paging,
    )
}

pub(crate) fn fabric(version: RsdVersion) -> Value {
    let id = fabric_odata_id(version);
    let (name, fabric_type) = if uses_volumes(version) {
        ("NVMe over Fabrics", "NVMeOverFabrics")
    } else {
        ("PCIe Fabric", "PCIe")
    };
    let mut body = json!({
        "@odata.context": "/redfish/v1/$metadata#Fabric.Fabric",
        "@odata.id": id,
        "@odata.type": "#Fabric.v1_0_0.Fabric",
        "Id": fabric_id(version),
        "Name": name,
        "Description": format!("{name} of the pooled drives"),
        "FabricType": fabric_type,
        "MaxZones": crate::inventory::MAX_SYSTEMS,
        "Status": ok_status(),
        "Zones": link(&zones_odata_id(version)),
        "Endpoints": link(&endpoints_odata_id(version)),
        "Links": { "Oem": {} },
        "Actions": { "Oem": {} },
        "Oem": {},
    });
    if !uses_volumes(version) {
        body["Switches"] = link(&format!("{id}/Switches"));
    }
    body
}

/// The (empty) switch collection of the PCIe fabric: the simulator has no switch ports.
pub(crate) fn switches(version: RsdVersion, paging: Paging) -> Value {
    render::collection(
        &format!("{}/Switches", fabric_odata_id(version)),
        "#SwitchCollection.SwitchCollection",
        "Switch Collection",
        Vec::new(),
        paging,
    )
}

pub(crate) fn endpoints(
    version: RsdVersion,
    inv: &Inventory,
    st: &PodState,
    paging: Paging,
) -> Value {
    let targets = st
        .pool
        .keys()
        .map(|n| endpoint_odata_id(version, &target_endpoint_id(version, *n)));
    let initiators = st
        .nodes_with_devices()
        .into_iter()
        .filter_map(|node| node_system_id(inv, st, node))
        .map(|system| endpoint_odata_id(version, &initiator_endpoint_id(version, system)));
    render::collection(
        &endpoints_odata_id(version),
        "#EndpointCollection.EndpointCollection",
        "Endpoint Collection",
        targets.chain(initiators).collect(),
        paging,
    )
}

/// The target endpoint of pooled drive `spec`, attached to `node` if any.
pub(crate) fn target_endpoint(
    version: RsdVersion,
    spec: &PooledDriveSpec,
    node: Option<u64>,
) -> Value {
    let id = target_endpoint_id(version, spec.number);
    let uuid = spec.uuid.to_string();
    let target = target_odata_id(version, spec.number);
    if !uses_volumes(version) {
        return json!({
            "@odata.context": "/redfish/v1/$metadata#Endpoint.Endpoint",
            "@odata.id": endpoint_odata_id(version, &id),
            "@odata.type": "#Endpoint.v1_0_0.Endpoint",
            "Id": id,
            "Name": spec.name(),
            "Description": format!("The PCIe physical function of a pooled {} GiB NVMe drive", spec.capacity_gib),
            "Status": ok_status(),
            "EndpointProtocol": protocol(version),
            "Identifiers": [{ "DurableNameFormat": "UUID", "DurableName": uuid }],
            "ConnectedEntities": [{
                "EntityType": "Drive",
                "EntityRole": "Target",
                "EntityLink": link(&target),
                "Identifiers": [{ "DurableNameFormat": "UUID", "DurableName": uuid }],
                "Oem": {},
            }],
            "Redundancy": [],
            "HostReservationMemoryBytes": null,
            "Links": { "Ports": [] },
            "Oem": {},
            "Actions": { "Oem": {} },
        });
    }
    json!({
        "@odata.context": "/redfish/v1/$metadata#Endpoint.Endpoint",
        "@odata.id": endpoint_odata_id(version, &id),
        "@odata.type": "#Endpoint.v1_1_0.Endpoint",
        "Id": id,
        "Name": spec.name(),
        "Description": "Fabric Endpoint",
        "ConnectedEntities": [{
            "EntityType": "Volume",
            "EntityRole": "Target",
            "EntityLink": link(&target),
        }],
        "EndpointProtocol": protocol(version),
        "Identifiers": [
            { "DurableName": nqn(&spec.uuid), "DurableNameFormat": "NQN" },
            { "DurableName": uuid, "DurableNameFormat": "UUID" },
        ],
        "Links": {
            "Ports": [],
            "Endpoints": [],
            "Oem": {
                "Intel_RackScale": {
                    "@odata.type": "#Intel.Oem.EndpointLinks",
                    "Zones": links(node.map(|n| zone_odata_id(version, n))),
                    "Interface": null,
                }
            }
        },
        "IPTransportDetails": [{
            "TransportProtocol": "RoCEv2",
            "IPv4Address": { "Address": format!("10.2.{}.{}", spec.number / 250, spec.number % 250 + 1) },
            "IPv6Address": {},
            "Port": 4420,
        }],
        "Status": ok_status(),
        "Oem": { "Intel_RackScale": { "@odata.type": "#Intel.Oem.Endpoint", "Authentication": null } },
    })
}

/// The initiator endpoint of the system `system_id` (its node `node` has drives attached).
pub(crate) fn initiator_endpoint(
    version: RsdVersion,
    inv: &Inventory,
    system_id: &str,
    node: u64,
) -> Option<Value> {
    let system = inv.system(system_id)?;
    let id = initiator_endpoint_id(version, system_id);
    let uuid = system.uuid.to_string();
    if !uses_volumes(version) {
        return Some(json!({
            "@odata.context": "/redfish/v1/$metadata#Endpoint.Endpoint",
            "@odata.id": endpoint_odata_id(version, &id),
            "@odata.type": "#Endpoint.v1_0_0.Endpoint",
            "Id": id,
            "Name": format!("Host root complex of system {system_id}"),
            "Description": "The PCIe root complex of a composed node's system",
            "Status": ok_status(),
            "EndpointProtocol": protocol(version),
            "Identifiers": [{ "DurableNameFormat": "UUID", "DurableName": uuid }],
            "ConnectedEntities": [{
                "EntityType": "RootComplex",
                "EntityRole": "Initiator",
                "EntityLink": link(&system.odata_id()),
                "Identifiers": [{ "DurableNameFormat": "UUID", "DurableName": uuid }],
                "Oem": {},
            }],
            "Redundancy": [],
            "HostReservationMemoryBytes": null,
            "Links": { "Ports": [] },
            "Oem": {},
            "Actions": { "Oem": {} },
        }));
    }
    Some(json!({
        "@odata.context": "/redfish/v1/$metadata#Endpoint.Endpoint",
        "@odata.id": endpoint_odata_id(version, &id),
        "@odata.type": "#Endpoint.v1_1_0.Endpoint",
        "Id": id,
        "Name": format!("Initiator of system {system_id}"),
        "Description": "Fabric Initiator Endpoint",
        "ConnectedEntities": [{ "EntityLink": null, "EntityRole": "Initiator" }],
        "EndpointProtocol": protocol(version),
        "Identifiers": [
            { "DurableName": nqn(&system.uuid), "DurableNameFormat": "NQN" },
            { "DurableName": uuid, "DurableNameFormat": "UUID" },
        ],
        "Links": {
            "Ports": [],
            "Endpoints": [],
            "Oem": {
                "Intel_RackScale": {
                    "@odata.type": "#Intel.Oem.EndpointLinks",
                    "Zones": [link(&zone_odata_id(version, node))],
                    "Interface": link(&system.nic_odata_id(1)),
                }
            }
        },
        "IPTransportDetails": [{
            "TransportProtocol": "RoCEv2",
            "IPv4Address": { "Address": format!("10.1.{}.{}", system.index / 250, system.index % 250 + 1) },
            "IPv6Address": {},
            "Port": 4791,
        }],
        "Status": ok_status(),
        "Oem": { "Intel_RackScale": { "@odata.type": "#Intel.Oem.Endpoint", "Authentication": null } },
    }))
}

pub(crate) fn zones(version: RsdVersion, st: &PodState, paging: Paging) -> Value {
    render::collection(
        &zones_odata_id(version),
        "#ZoneCollection.ZoneCollection",
        "Zone Collection",
        st.nodes_with_devices()
            .into_iter()
            .map(|node| zone_odata_id(version, node))
            .collect(),
        paging,
    )
}

/// The zone of `node`: its initiator and the targets attached to it; `None` when the node has
/// nothing attached.
pub(crate) fn zone(
    version: RsdVersion,
    inv: &Inventory,
    st: &PodState,
    node: u64,
) -> Option<Value> {
    let attached = st.attached_to(node);
    if attached.is_empty() {
        return None;
    }
    let system = node_system_id(inv, st, node)?;
    let mut members = vec![endpoint_odata_id(
        version,
        &initiator_endpoint_id(version, system),
    )];
    members.extend(
        attached
            .iter()
            .map(|n| endpoint_odata_id(version, &target_endpoint_id(version, *n))),
    );
    Some(json!({
        "@odata.context": "/redfish/v1/$metadata#Zone.Zone",
        "@odata.id": zone_odata_id(version, node),
        "@odata.type": "#Zone.v1_0_0.Zone",
        "Id": node.to_string(),
        "Name": format!("Zone of composed node {node}"),
        "Description": format!("Pooled drives attached to composed node {node}"),
        "Status": { "State": "Enabled", "Health": "OK" },
        "Links": { "Endpoints": links(members), "InvolvedSwitches": [] },
        "Oem": {},
    }))
}

/// The chassis of the pooled drives, inside the pod.
pub(crate) fn chassis(version: RsdVersion, inv: &Inventory, st: &PodState) -> Value {
    let id = chassis_id(version);
    json!({
        "@odata.context": "/redfish/v1/$metadata#Chassis.Chassis",
        "@odata.id": chassis_odata_id(version),
        "@odata.type": "#Chassis.v1_3_0.Chassis",
        "Id": id,
        "ChassisType": "Enclosure",
        "Name": "Pooled drive enclosure",
        "Description": format!("NVMe drives behind the {} fabric", fabric_id(version)),
        "Manufacturer": "Intel Corporation",
        "Model": "RSD pooled NVMe enclosure",
        "SKU": null,
        "SerialNumber": format!("{}-{id}", &inv.service_uuid.simple().to_string()[..8]),
        "PartNumber": null,
        "AssetTag": null,
        "IndicatorLED": "Off",
        "PowerState": "On",
        "PhysicalSecurity": null,
        "Status": { "State": "Enabled", "Health": "OK" },
        "Oem": { "Intel_RackScale": {
            "@odata.type": "#Intel.Oem.Chassis",
            "Location": { "Id": id, "ParentId": "Pod1" },
        } },
        "Links": {
            "@odata.type": "#Chassis.v1_2_0.Links",
            "Contains": [],
            "ContainedBy": link(POD_CHASSIS),
            "ComputerSystems": [],
            "Drives": links(st.pool.keys().map(|n| drive_odata_id(version, *n))),
            "Storage": [],
            "ManagedBy": [link(render::PODM_MANAGER)],
            "ManagersInChassis": [],
            "CooledBy": [],
            "PoweredBy": [],
            "PCIeDevices": [],
            "Oem": { "Intel_RackScale": { "@odata.type": "#Intel.Oem.ChassisLinks", "Switches": [] } },
        },
    })
}

/// The drives of the pool, as the chassis (or the 2.3 storage service) lists them.
pub(crate) fn drives(
    version: RsdVersion,
    st: &PodState,
    collection_id: &str,
    paging: Paging,
) -> Value {
    render::collection(
        collection_id,
        "#DriveCollection.DriveCollection",
        "Drives",
        st.pool
            .keys()
            .map(|n| drive_odata_id(version, *n))
            .collect(),
        paging,
    )
}

/// Pooled drive `spec`, attached to a node when `attached`.
pub(crate) fn drive(version: RsdVersion, spec: &PooledDriveSpec, attached: bool) -> Value {
    let odata_type = if uses_volumes(version) {
        "#Drive.v1_2_0.Drive"
    } else {
        "#Drive.v1_1_1.Drive"
    };
    let n = spec.number;
    let (volumes, endpoints) = if uses_volumes(version) {
        (vec![volume_odata_id(n)], Vec::new())
    } else {
        (
            Vec::new(),
            vec![endpoint_odata_id(version, &target_endpoint_id(version, n))],
        )
    };
    json!({
        "@odata.context": "/redfish/v1/$metadata#Drive.Drive",
        "@odata.id": drive_odata_id(version, n),
        "@odata.type": odata_type,
        "Id": drive_id(version, n),
        "Name": spec.name(),
        "Protocol": "NVMe",
        "Type": "NVMe",
        "MediaType": "SSD",
        "CapacityBytes": spec.capacity_bytes(),
        "Manufacturer": "Intel Corporation",
        "Model": spec.model,
        "Revision": null,
        "SKU": null,
        "SerialNumber": spec.serial_number,
        "PartNumber": null,
        "AssetTag": null,
        "RotationSpeedRPM": null,
        "BlockSizeBytes": 512,
        "Identifiers": [{ "DurableName": spec.uuid.to_string(), "DurableNameFormat": "UUID" }],
        "Location": [{ "Info": n.to_string(), "InfoFormat": "DriveBay number" }],
        "Status": ok_status(),
        "StatusIndicator": "OK",
        "IndicatorLED": null,
        "CapableSpeedGbs": 32,
        "NegotiatedSpeedGbs": 32,
        "FailurePredicted": false,
        "HotspareType": null,
        "EncryptionAbility": null,
        "EncryptionStatus": null,
        "PredictedMediaLifeLeftPercent": 100,
        "Oem": {
            "Intel_RackScale": {
                "@odata.type": "#Intel.Oem.Drive",
                "EraseOnDetach": true,
                "DriveErased": !attached,
                "FirmwareVersion": "1.0",
                "Storage": null,
                "PCIeFunction": null,
                "UsedBy": [],
            }
        },
        "Links": {
            "@odata.type": "#Drive.v1_1_0.Links",
            "Chassis": link(&chassis_odata_id(version)),
            "Volumes": links(volumes),
            "Endpoints": links(endpoints),
            "Oem": {},
        },
        "Actions": { "Oem": {} },
    })
}

pub(crate) fn storage_services(paging: Paging) -> Value {
    render::collection(
        "/redfish/v1/StorageServices",
        "#StorageServiceCollection.StorageServiceCollection",
        "Storage Services Collection",
        vec![STORAGE_SERVICE.to_owned()],
        paging,
    )
}

pub(crate) fn storage_service(version: RsdVersion) -> Value {
    json!({
        "@odata.context": "/redfish/v1/$metadata#StorageService.StorageService",
        "@odata.id": STORAGE_SERVICE,
        "@odata.type": "#StorageService.v1_0_0.StorageService",
        "Id": "1",
        "Name": "Storage Service",
        "Description": "NVMe over Fabrics volumes of the pooled drives",
        "Drives": link(&format!("{STORAGE_SERVICE}/Drives")),
        "Endpoints": link(&endpoints_odata_id(version)),
        "Links": {
            "HostingSystem": null,
            "Oem": { "Intel_RackScale": {
                "@odata.type": "#Intel.Oem.StorageServicesLinks",
                "ManagedBy": [link(render::PODM_MANAGER)],
            } },
        },
        "Oem": {},
        "Status": ok_status(),
        "StoragePools": link(&format!("{STORAGE_SERVICE}/StoragePools")),
        "Volumes": link(&format!("{STORAGE_SERVICE}/Volumes")),
    })
}

/// The (empty) storage pool collection: each volume spans its whole drive.
pub(crate) fn storage_pools(paging: Paging) -> Value {
    render::collection(
        &format!("{STORAGE_SERVICE}/StoragePools"),
        "#StoragePoolCollection.StoragePoolCollection",
        "StoragePools Collection",
        Vec::new(),
        paging,
    )
}

pub(crate) fn volumes(st: &PodState, paging: Paging) -> Value {
    render::collection(
        &format!("{STORAGE_SERVICE}/Volumes"),
        "#VolumeCollection.VolumeCollection",
        "Volume Collection",
        st.pool.keys().map(|n| volume_odata_id(*n)).collect(),
        paging,
    )
}

/// The volume spanning pooled drive `spec` (RSD 2.3), attached to a node when `attached`.
pub(crate) fn volume(version: RsdVersion, spec: &PooledDriveSpec, attached: bool) -> Value {
    let n = spec.number;
    let bytes = spec.capacity_bytes();
    json!({
        "@odata.context": "/redfish/v1/$metadata#Volume.Volume",
        "@odata.id": volume_odata_id(n),
        "@odata.type": "#Volume.v1_1_0.Volume",
        "Id": n.to_string(),
        "Name": spec.name(),
        "Description": format!("Volume spanning pooled drive {n}"),
        "Model": null,
        "Manufacturer": null,
        "AccessCapabilities": ["Read", "Write"],
        "CapacityBytes": bytes,
        "Capacity": { "Data": { "AllocatedBytes": bytes } },
        "CapacitySources": [],
        "Identifiers": [
            { "DurableName": nqn(&spec.uuid), "DurableNameFormat": "NQN" },
            { "DurableName": spec.uuid.to_string(), "DurableNameFormat": "UUID" },
        ],
        "Links": {
            "Oem": { "Intel_RackScale": {
                "@odata.type": "#Intel.Oem.VolumeLinks",
                "Endpoints": [link(&endpoint_odata_id(version, &target_endpoint_id(version, n)))],
            } },
            "Drives": [link(&drive_odata_id(version, n))],
        },
        "ReplicaInfos": [],
        "Status": ok_status(),
        "Oem": { "Intel_RackScale": {
            "@odata.type": "#Intel.Oem.Volume",
            "Bootable": false,
            "Erased": !attached,
            "EraseOnDetach": true,
        } },
        "Actions": { "Oem": {} },
    })
}

/// The ActionInfo of `op` on node `node` (RSD 2.3): `allowed` are the target ids it accepts.
pub(crate) fn action_info(
    version: RsdVersion,
    node: u64,
    op: DeviceOp,
    allowed: Vec<String>,
) -> Value {
    let name = action_info_name(op);
    let title = match op {
        DeviceOp::Attach => "Attach Resource ActionInfo",
        DeviceOp::Detach => "Detach Resource ActionInfo",
    };
    json!({
        "@odata.context": "/redfish/v1/$metadata#ActionInfo.ActionInfo",
        "@odata.id": format!("{}/{node}/Actions/{name}", render::NODES),
        "@odata.type": "#ActionInfo.v1_0_2.ActionInfo",
        "Id": name,
        "Name": title,
        "Description": null,
        "Parameters": [
            {
                "Name": "Resource",
                "Required": true,
                "DataType": "Object",
                "ObjectDataType": "#Resource.Resource",
                "AllowableValues": links(allowed),
            },
            {
                "Name": "Protocol",
                "Required": false,
                "DataType": "String",
                "ObjectDataType": null,
                "AllowableValues": [protocol(version)],
            },
        ],
        "Oem": {},
    })
}

/// The attach and detach actions of node `node` in the spelling of `version`: inline allowable
/// values in 2.1 and 2.2, an ActionInfo link in 2.3.
pub(crate) fn node_actions(
    version: RsdVersion,
    node: u64,
    attachable: Vec<String>,
    attached: Vec<String>,
) -> [(String, Value); 2] {
    let base = format!("{}/{node}/Actions", render::NODES);
    let action = |op: DeviceOp, allowed: Vec<String>| {
        let name = action_name(version, op);
        let mut body = json!({ "target": format!("{base}/{name}") });
        if uses_volumes(version) {
            body["@Redfish.ActionInfo"] = link(&format!("{base}/{}", action_info_name(op)));
        } else {
            body["Resource@Redfish.AllowableValues"] = links(allowed);
        }
        (format!("#{name}"), body)
    };
    [
        action(DeviceOp::Attach, attachable),
        action(DeviceOp::Detach, attached),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_back_in_every_version() {
        for version in RsdVersion::ALL {
            for n in [1, 2, 17] {
                assert_eq!(parse_drive_id(version, &drive_id(version, n)), Some(n));
                assert_eq!(
                    parse_endpoint_id(version, &target_endpoint_id(version, n)),
                    Some(EndpointId::Target(n))
                );
            }
            assert_eq!(
                parse_endpoint_id(version, &initiator_endpoint_id(version, "12")),
                Some(EndpointId::Initiator("12".into()))
            );
            assert_eq!(parse_drive_id(version, "x"), None);
        }
        assert_eq!(drive_id(RsdVersion::V2_1, 1), "Disk.Bay.0");
        assert_eq!(parse_drive_id(RsdVersion::V2_1, "Disk.Bay.00"), None);
        assert_eq!(parse_drive_id(RsdVersion::V2_3, "01"), None);
        assert_eq!(
            target_odata_id(RsdVersion::V2_3, 2),
            "/redfish/v1/StorageServices/1/Volumes/2"
        );
        assert_eq!(
            target_odata_id(RsdVersion::V2_2, 2),
            "/redfish/v1/Chassis/PCIeSwitch1/Drives/Disk.Bay.1"
        );
    }

    #[test]
    fn actions_are_spelled_per_version() {
        let [attach, detach] = node_actions(RsdVersion::V2_1, 3, vec!["/a".into()], Vec::new());
        assert_eq!(attach.0, "#ComposedNode.AttachEndpoint");
        assert_eq!(
            attach.1["target"],
            "/redfish/v1/Nodes/3/Actions/ComposedNode.AttachEndpoint"
        );
        assert_eq!(
            attach.1["Resource@Redfish.AllowableValues"][0]["@odata.id"],
            "/a"
        );
        assert_eq!(detach.1["Resource@Redfish.AllowableValues"], json!([]));
        let [attach, detach] = node_actions(RsdVersion::V2_3, 3, Vec::new(), Vec::new());
        assert_eq!(attach.0, "#ComposedNode.AttachResource");
        assert_eq!(
            detach.1["@Redfish.ActionInfo"]["@odata.id"],
            "/redfish/v1/Nodes/3/Actions/DetachResourceActionInfo"
        );
        assert!(attach.1.get("Resource@Redfish.AllowableValues").is_none());
    }
}
