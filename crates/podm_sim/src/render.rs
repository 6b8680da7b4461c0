//! JSON of every resource a simulated PODM serves, shaped like the RSD 2.x samples of rsd-lib
//! (shared/fixtures/rsd): same properties, same `@odata.type`s, version differences included.
//!
//! Bodies are rendered on demand from the compact inventory rather than kept pre-rendered:
//! a thousand PODMs of a hundred systems would otherwise hold gigabytes of JSON.

use serde_json::{Value, json};

use crate::config::RsdVersion;
use crate::inventory::{Inventory, POD_CHASSIS, SystemSpec};
use crate::state::{Health, Node, NodeState, Power};

pub(crate) const SYSTEMS: &str = "/redfish/v1/Systems";
pub(crate) const CHASSIS: &str = "/redfish/v1/Chassis";
pub(crate) const MANAGERS: &str = "/redfish/v1/Managers";
pub(crate) const NODES: &str = "/redfish/v1/Nodes";
pub(crate) const ALLOCATE: &str = "/redfish/v1/Nodes/Actions/Allocate";
pub(crate) const SESSION_SERVICE: &str = "/redfish/v1/SessionService";
pub(crate) const SESSIONS: &str = "/redfish/v1/SessionService/Sessions";
/// The manager that is the PODM itself.
pub(crate) const PODM_MANAGER: &str = "/redfish/v1/Managers/PODM";

pub(crate) const RESET_TYPES: &[&str] = &[
    "On",
    "ForceOff",
    "GracefulShutdown",
    "GracefulRestart",
    "ForceRestart",
    "Nmi",
    "ForceOn",
    "PushPowerButton",
];
pub(crate) const BOOT_ENABLED: &[&str] = &["Disabled", "Once", "Continuous"];
pub(crate) const BOOT_TARGETS: &[&str] = &["None", "Pxe", "Hdd", "RemoteDrive"];
pub(crate) const BOOT_MODES: &[&str] = &["Legacy", "UEFI"];

/// Collections and services a root advertises beyond the simulated ones, all served as minimal
/// (empty) resources so that a crawler following the root meets no dead link:
/// `(path, @odata.type, Name, is a collection)`.
const MINOR_RESOURCES: &[(&str, &str, &str, bool)] = &[
    (
        "/redfish/v1/Services",
        "#StorageServiceCollection.StorageServiceCollection",
        "Storage Services Collection",
        true,
    ),
    (
        "/redfish/v1/EthernetSwitches",
        "#EthernetSwitchCollection.EthernetSwitchCollection",
        "Ethernet Switches Collection",
        true,
    ),
    (
        "/redfish/v1/Registries",
        "#MessageRegistryFileCollection.MessageRegistryFileCollection",
        "Registry File Collection",
        true,
    ),
    (
        "/redfish/v1/TaskService",
        "#TaskService.v1_0_0.TaskService",
        "Tasks Service",
        false,
    ),
    (
        "/redfish/v1/TaskService/Tasks",
        "#TaskCollection.TaskCollection",
        "Task Collection",
        true,
    ),
    (
        "/redfish/v1/EventService",
        "#EventService.v1_0_0.EventService",
        "Event Service",
        false,
    ),
    (
        "/redfish/v1/EventService/Subscriptions",
        "#EventDestinationCollection.EventDestinationCollection",
        "Event Subscriptions Collection",
        true,
    ),
    (
        "/redfish/v1/AccountService",
        "#AccountService.v1_0_0.AccountService",
        "Account Service",
        false,
    ),
    (
        "/redfish/v1/AccountService/Accounts",
        "#ManagerAccountCollection.ManagerAccountCollection",
        "Accounts Collection",
        true,
    ),
    (
        "/redfish/v1/TelemetryService",
        "#TelemetryService.v1_0_0.TelemetryService",
        "Telemetry Service",
        false,
    ),
    (
        "/redfish/v1/UpdateService",
        "#UpdateService.v1_2_0.UpdateService",
        "Update Service",
        false,
    ),
];

/// A UUID for `label` that stays the same for the same inventory (chassis and managers have
/// no UUID of their own in the inventory).
fn derived_uuid(inv: &Inventory, label: &str) -> uuid::Uuid {
    use rand::{Rng, SeedableRng};
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    inv.service_uuid.hash(&mut hasher);
    label.hash(&mut hasher);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(hasher.finish());
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

pub(crate) fn link(id: &str) -> Value {
    json!({ "@odata.id": id })
}

pub(crate) fn links<I: IntoIterator<Item = String>>(ids: I) -> Value {
    Value::Array(ids.into_iter().map(|id| link(&id)).collect())
}

fn status(health: &str) -> Value {
    json!({ "State": "Enabled", "Health": health, "HealthRollup": health })
}

pub(crate) fn ok_status() -> Value {
    status("OK")
}

/// Which page of a collection to answer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Paging {
    /// `$skip` of the request.
    pub(crate) skip: usize,
    /// `$top` of the request.
    pub(crate) top: Option<usize>,
    /// The PODM's page size ([`Behavior::page_size`](crate::Behavior::page_size)).
    pub(crate) page_size: Option<usize>,
}

/// A Redfish collection; with paging, one page and a `Members@odata.nextLink` when more follow.
pub(crate) fn collection(
    odata_id: &str,
    odata_type: &str,
    name: &str,
    members: Vec<String>,
    paging: Paging,
) -> Value {
    let total = members.len();
    let limit = match (paging.top, paging.page_size) {
        (Some(t), Some(p)) => t.min(p),
        (Some(t), None) => t,
        (None, Some(p)) => p,
        (None, None) => usize::MAX,
    };
    let start = paging.skip.min(total);
    let end = start.saturating_add(limit).min(total);
    let page: Vec<String> = members.into_iter().skip(start).take(end - start).collect();
    let mut body = json!({
        "@odata.context": format!("/redfish/v1/$metadata#{}", odata_type.trim_start_matches('#')),
        "@odata.id": odata_id,
        "@odata.type": odata_type,
        "Name": name,
        "Description": name,
        "Members@odata.count": total,
        "Members": links(page),
    });
    // A client's own `$top` ends the listing; only the PODM's page size continues it.
    if end < total
        && paging
            .page_size
            .is_some_and(|p| paging.top.is_none_or(|t| p < t))
    {
        body["Members@odata.nextLink"] = Value::String(format!("{odata_id}?$skip={end}"));
    }
    body
}

pub(crate) fn redfish_versions() -> Value {
    json!({ "v1": "/redfish/v1/" })
}

pub(crate) fn service_root(version: RsdVersion, inv: &Inventory, sessions: bool) -> Value {
    let mut root = json!({
        "@odata.context": "/redfish/v1/$metadata#ServiceRoot.ServiceRoot",
        "@odata.id": "/redfish/v1/",
        "@odata.type": if version == RsdVersion::V2_1 { "#ServiceRoot.v1_0_2.ServiceRoot" } else { "#ServiceRoot.v1_1_1.ServiceRoot" },
        "Id": "RootService",
        "Name": "Root Service",
        "Description": "Simulated Intel RSD pod manager",
        "RedfishVersion": if version == RsdVersion::V2_1 { "1.0.2" } else { "1.1.0" },
        "UUID": inv.service_uuid.to_string(),
        "Systems": link(SYSTEMS),
        "Chassis": link(CHASSIS),
        "Managers": link(MANAGERS),
        "Tasks": link("/redfish/v1/TaskService"),
        "EventService": link("/redfish/v1/EventService"),
        "Fabrics": link(crate::pool::FABRICS),
        "Registries": link("/redfish/v1/Registries"),
        "Links": {},
    });
    let mut oem = json!({
        "@odata.type": "#Intel.Oem.ServiceRoot",
        "ApiVersion": version.api_version(),
    });
    let moved = [
        ("Nodes", NODES),
        ("Services", "/redfish/v1/Services"),
        ("EthernetSwitches", "/redfish/v1/EthernetSwitches"),
    ];
    for (key, target) in moved {
        if version.collections_under_oem() {
            oem[key] = link(target);
        } else {
            root[key] = link(target);
        }
    }
    root["Oem"] = json!({ "Intel_RackScale": oem });
    match version {
        RsdVersion::V2_1 => {
            root["AccountService"] = link("/redfish/v1/AccountService");
        }
        RsdVersion::V2_2 | RsdVersion::V2_3 => {
            root["TelemetryService"] = link("/redfish/v1/TelemetryService");
            root["UpdateService"] = link("/redfish/v1/UpdateService");
        }
    }
    if version == RsdVersion::V2_3 {
        root["StorageServices"] = link("/redfish/v1/StorageServices");
    }
    if sessions {
        root["SessionService"] = link(SESSION_SERVICE);
        root["Links"] = json!({ "Sessions": link(SESSIONS) });
    }
    root
}

/// The table entry of a minor resource at `path`.
pub(crate) fn minor_path(path: &str) -> Option<&'static str> {
    MINOR_RESOURCES
        .iter()
        .find(|(p, ..)| *p == path)
        .map(|(p, ..)| *p)
}

/// The minor resource at `path`, if the root of `version` advertises it.
pub(crate) fn minor_resource(version: RsdVersion, path: &str, paging: Paging) -> Option<Value> {
    let &(id, odata_type, name, is_collection) =
        MINOR_RESOURCES.iter().find(|(p, ..)| *p == path)?;
    let offered = match id {
        "/redfish/v1/AccountService" | "/redfish/v1/AccountService/Accounts" => {
            version == RsdVersion::V2_1
        }
        "/redfish/v1/TelemetryService" | "/redfish/v1/UpdateService" => version >= RsdVersion::V2_2,
        _ => true,
    };
    if !offered {
        return None;
    }
    if is_collection {
        return Some(collection(id, odata_type, name, Vec::new(), paging));
    }
    let service_id = id.rsplit('/').next().unwrap_or(id);
    let mut body = json!({
        "@odata.context": format!("/redfish/v1/$metadata#{service_id}.{service_id}"),
        "@odata.id": id,
        "@odata.type": odata_type,
        "Id": service_id,
        "Name": name,
        "Status": { "State": "Enabled", "Health": "OK" },
        "ServiceEnabled": true,
        "Oem": {},
    });
    match service_id {
        "TaskService" => body["Tasks"] = link("/redfish/v1/TaskService/Tasks"),
        "EventService" => body["Subscriptions"] = link("/redfish/v1/EventService/Subscriptions"),
        "AccountService" => body["Accounts"] = link("/redfish/v1/AccountService/Accounts"),
        _ => {}
    }
    Some(body)
}

/// What a system shows that changes while the PODM runs.
#[derive(Debug, Clone)]
pub(crate) struct SystemDynamic {
    pub(crate) power: Power,
    pub(crate) health: Health,
    /// Id of the composed node using the system.
    pub(crate) node: Option<u64>,
    /// Fabric endpoints of the system (its initiator while pooled drives are attached).
    pub(crate) endpoints: Vec<String>,
}

/// Pooled drives as a composed node shows them (`@odata.id`s of their targets).
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeDevices {
    /// Attached to this node.
    pub(crate) attached: Vec<String>,
    /// Attached to no node: what this node may attach.
    pub(crate) attachable: Vec<String>,
}

pub(crate) fn system(version: RsdVersion, s: &SystemSpec, dynamic: SystemDynamic) -> Value {
    let id = s.odata_id();
    let health = dynamic.health.as_str();
    let mut oem = json!({
        "@odata.type": "#Intel.Oem.ComputerSystem",
        "PciDevices": [],
        "DiscoveryState": "Deep",
        "ProcessorSockets": s.sockets,
        "MemorySockets": s.dimms,
        "PCIeConnectionId": [],
    });
    if version >= RsdVersion::V2_2 {
        oem["UserModeEnabled"] = json!(false);
        oem["TrustedExecutionTechnologyEnabled"] = json!(true);
    }
    let links_oem = match dynamic.node {
        Some(node) => json!({
            "Intel_RackScale": {
                "@odata.type": "#Intel.Oem.ComputerSystemLinks",
                "ComposedNode": link(&format!("{NODES}/{node}")),
            }
        }),
        None => json!({}),
    };
    let mut body = json!({
        "@odata.context": "/redfish/v1/$metadata#ComputerSystem.ComputerSystem",
        "@odata.id": id,
        "@odata.type": "#ComputerSystem.v1_3_0.ComputerSystem",
        "Id": s.id,
        "Name": format!("Computer System {}", s.id),
        "Description": format!("{} in drawer {}", s.cpu.system_model, s.drawer),
        "SystemType": "Physical",
        "AssetTag": null,
        "Manufacturer": "Intel Corporation",
        "Model": s.cpu.system_model,
        "SKU": null,
        "SerialNumber": s.serial_number,
        "PartNumber": null,
        "UUID": s.uuid.to_string(),
        "HostName": null,
        "Status": status(health),
        "IndicatorLED": "Off",
        "PowerState": dynamic.power.as_str(),
        "Boot": {
            "@odata.type": "#ComputerSystem.v1_1_0.Boot",
            "BootSourceOverrideEnabled": "Disabled",
            "BootSourceOverrideTarget": "None",
            "BootSourceOverrideTarget@Redfish.AllowableValues": BOOT_TARGETS,
            "BootSourceOverrideMode": "Legacy",
            "BootSourceOverrideMode@Redfish.AllowableValues": BOOT_MODES,
            "UefiTargetBootSourceOverride": null,
        },
        "BiosVersion": "SE5C610.86B.01.01.0024",
        "ProcessorSummary": {
            "Count": s.sockets,
            "Model": s.cpu.model,
            "Status": status(health),
        },
        "MemorySummary": {
            "TotalSystemMemoryGiB": s.memory_gib(),
            "Status": status(health),
        },
        "Processors": link(&format!("{id}/Processors")),
        "Memory": link(&format!("{id}/Memory")),
        "EthernetInterfaces": link(&format!("{id}/EthernetInterfaces")),
        "NetworkInterfaces": link(&format!("{id}/NetworkInterfaces")),
        "Storage": link(&format!("{id}/Storage")),
        "SimpleStorage": link(&format!("{id}/SimpleStorage")),
        "PCIeDevices": [],
        "PCIeFunctions": [],
        "TrustedModules": [{
            "@odata.type": "#ComputerSystem.v1_3_0.TrustedModules",
            "FirmwareVersion": "1.3.0.1",
            "InterfaceType": "TPM2_0",
            "Status": { "State": "Enabled", "Health": "OK" },
            "Oem": {},
        }],
        "Links": {
            "@odata.type": "#ComputerSystem.v1_2_0.Links",
            "Chassis": [link(&s.drawer_odata_id())],
            "ManagedBy": [link(&psme_odata_id(s.drawer))],
            "Endpoints": links(dynamic.endpoints),
            "Oem": links_oem,
        },
        "Actions": {
            "#ComputerSystem.Reset": {
                "target": format!("{id}/Actions/ComputerSystem.Reset"),
                "ResetType@Redfish.AllowableValues": RESET_TYPES,
            },
            "Oem": {},
        },
        "Oem": { "Intel_RackScale": oem },
    });
    if version >= RsdVersion::V2_3 {
        body["ProcessorSummary"]["ProcessorFamily"] = json!(s.cpu.model);
    }
    body
}

pub(crate) fn processor(version: RsdVersion, s: &SystemSpec, n: u32) -> Value {
    let cpu = s.cpu;
    let mut oem = json!({
        "@odata.type": "#Intel.Oem.Processor",
        "Brand": cpu.brand,
        "Capabilities": cpu.capabilities,
    });
    if version >= RsdVersion::V2_2 {
        oem["OnPackageMemory"] = json!([
            { "Type": "L2Cache", "CapacityMB": cpu.cores / 4, "SpeedMHz": null },
            { "Type": "L3Cache", "CapacityMB": cpu.cores * 5 / 2, "SpeedMHz": null },
        ]);
        oem["ThermalDesignPowerWatt"] = json!(if cpu.cores >= 20 { 150 } else { 85 });
    }
    json!({
        "@odata.context": "/redfish/v1/$metadata#Processor.Processor",
        "@odata.id": s.processor_odata_id(n),
        "@odata.type": "#Processor.v1_0_0.Processor",
        "Name": "Processor",
        "Id": format!("CPU{n}"),
        "Socket": format!("CPU {n}"),
        "ProcessorType": "CPU",
        "ProcessorArchitecture": cpu.architecture,
        "InstructionSet": cpu.instruction_set,
        "Manufacturer": cpu.manufacturer,
        "Model": cpu.model,
        "ProcessorId": {
            "VendorId": cpu.vendor_id,
            "IdentificationRegisters": "0x000406F1BFEBFBFF",
            "EffectiveFamily": "0x6",
            "EffectiveModel": "0x4F",
            "Step": "0x1",
            "MicrocodeInfo": "0xB000021",
        },
        "MaxSpeedMHz": cpu.max_speed_mhz,
        "TotalCores": cpu.cores,
        "TotalThreads": cpu.threads,
        "Status": ok_status(),
        "Oem": { "Intel_RackScale": oem },
    })
}

pub(crate) fn dimm(version: RsdVersion, s: &SystemSpec, n: u32) -> Value {
    let per_socket = (s.dimms / s.sockets.max(1)).max(1);
    let socket = (n - 1) / per_socket + 1;
    let slot = (n - 1) % per_socket + 1;
    let oem_type = if version >= RsdVersion::V2_2 {
        "#Intel.Oem.Memory"
    } else {
        "#Intel.Oem.DimmConfig"
    };
    json!({
        "@odata.context": "/redfish/v1/$metadata#Memory.Memory",
        "@odata.id": s.dimm_odata_id(n),
        "@odata.type": "#Memory.v1_1_0.Memory",
        "Name": "DIMM",
        "Id": format!("Dimm{n}"),
        "MemoryType": "DRAM",
        "MemoryDeviceType": s.cpu.memory_device_type,
        "BaseModuleType": if s.dimm_mib >= 32_768 { "LRDIMM" } else { "RDIMM" },
        "MemoryMedia": ["DRAM"],
        "CapacityMiB": s.dimm_mib,
        "DataWidthBits": 64,
        "BusWidthBits": 72,
        "Manufacturer": s.dimm_manufacturer,
        "SerialNumber": format!("{}M{n}", s.serial_number),
        "PartNumber": null,
        "AllowedSpeedsMHz": [s.cpu.memory_speed_mhz],
        "FirmwareRevision": null,
        "FirmwareApiVersion": null,
        "FunctionClasses": ["Volatile"],
        "VendorID": null,
        "DeviceID": null,
        "RankCount": 2,
        "DeviceLocator": format!("PROC {socket} DIMM {slot}"),
        "MemoryLocation": { "Socket": socket, "MemoryController": 1, "Channel": slot, "Slot": slot },
        "ErrorCorrection": "MultiBitECC",
        "Status": ok_status(),
        "OperatingSpeedMhz": s.cpu.memory_speed_mhz,
        "Regions": [{ "RegionId": "1", "MemoryClassification": "Volatile", "OffsetMiB": 0, "SizeMiB": s.dimm_mib }],
        "OperatingMemoryModes": ["Volatile"],
        "Oem": { "Intel_RackScale": { "@odata.type": oem_type, "VoltageVolt": 1.2 } },
    })
}

pub(crate) fn system_nic(version: RsdVersion, s: &SystemSpec, n: u32) -> Value {
    let mac = s.mac(n);
    let mut oem = json!({});
    if version >= RsdVersion::V2_3 {
        oem = json!({ "Intel_RackScale": { "SupportedProtocols": [] } });
    }
    json!({
        "@odata.context": "/redfish/v1/$metadata#EthernetInterface.EthernetInterface",
        "@odata.id": s.nic_odata_id(n),
        "@odata.type": "#EthernetInterface.v1_1_0.EthernetInterface",
        "Id": format!("LAN{n}"),
        "Name": "Ethernet Interface",
        "Description": format!("System NIC {n}"),
        "Status": ok_status(),
        "UefiDevicePath": null,
        "InterfaceEnabled": true,
        "PermanentMACAddress": mac,
        "MACAddress": mac,
        "SpeedMbps": s.nic_speed_mbps,
        "AutoNeg": true,
        "FullDuplex": true,
        "MTUSize": 1500,
        "HostName": null,
        "FQDN": null,
        "IPv6DefaultGateway": null,
        "MaxIPv6StaticAddresses": null,
        "NameServers": [],
        "IPv4Addresses": [],
        "IPv6Addresses": [],
        "IPv6StaticAddresses": [],
        "VLAN": null,
        "VLANs": null,
        "Oem": oem,
        "Links": { "Oem": { "Intel_RackScale": { "@odata.type": "#Intel.Oem.EthernetInterface", "NeighborPort": null } } },
    })
}

pub(crate) fn storage(s: &SystemSpec) -> Value {
    let id = format!("{}/Storage/1", s.odata_id());
    let mut protocols: Vec<&str> = s.drives.iter().map(|d| d.protocol).collect();
    protocols.sort_unstable();
    protocols.dedup();
    json!({
        "@odata.context": "/redfish/v1/$metadata#Storage.Storage",
        "@odata.id": id,
        "@odata.type": "#Storage.v1_0_0.Storage",
        "Id": "1",
        "Name": "Local Storage",
        "Description": "Local drives of the system",
        "Status": ok_status(),
        "StorageControllers": [{
            "@odata.id": format!("{id}#/StorageControllers/0"),
            "@odata.type": "#Storage.v1_1_0.StorageController",
            "MemberId": "0",
            "Status": { "State": "Enabled", "Health": "OK" },
            "Manufacturer": "Intel Corporation",
            "Model": "C610/X99 series chipset SATA controller",
            "SKU": null,
            "SerialNumber": null,
            "PartNumber": null,
            "AssetTag": null,
            "SpeedGbps": 6,
            "FirmwareVersion": null,
            "SupportedControllerProtocols": ["PCIe"],
            "SupportedDeviceProtocols": protocols,
            "Identifiers": [],
            "Links": { "Endpoints": [] },
        }],
        "Drives": links((1..=s.drives.len()).map(|n| s.drive_odata_id(n))),
        "Volumes": null,
        "Links": { "Enclosures": [link(&s.drawer_odata_id())] },
        "Actions": {},
    })
}

pub(crate) fn simple_storage(s: &SystemSpec) -> Value {
    let devices: Vec<Value> = s
        .drives
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "Name": format!("Drive {}", i + 1),
                "Manufacturer": null,
                "Model": d.model,
                "CapacityBytes": d.capacity_bytes(),
                "Status": { "State": "Enabled", "Health": "OK" },
            })
        })
        .collect();
    json!({
        "@odata.context": "/redfish/v1/$metadata#SimpleStorage.SimpleStorage",
        "@odata.id": format!("{}/SimpleStorage/1", s.odata_id()),
        "@odata.type": "#SimpleStorage.v1_1_0.SimpleStorage",
        "Id": "1",
        "Name": "Simple Storage Controller",
        "Status": ok_status(),
        "UefiDevicePath": null,
        "Devices": devices,
    })
}

pub(crate) fn drive(version: RsdVersion, s: &SystemSpec, n: usize) -> Option<Value> {
    let d = s.drives.get(n.checked_sub(1)?)?;
    let odata_type = if version >= RsdVersion::V2_3 {
        "#Drive.v1_2_0.Drive"
    } else {
        "#Drive.v1_1_1.Drive"
    };
    let speed = if d.protocol == "NVMe" { 32 } else { 6 };
    Some(json!({
        "@odata.context": "/redfish/v1/$metadata#Drive.Drive",
        "@odata.id": s.drive_odata_id(n),
        "@odata.type": odata_type,
        "Id": s.drive_id(n),
        "Name": "Physical Drive",
        "Protocol": d.protocol,
        "Type": d.protocol,
        "MediaType": d.media.as_str(),
        "CapacityBytes": d.capacity_bytes(),
        "Manufacturer": if d.media == crate::inventory::MediaType::Ssd { "Intel Corporation" } else { "Seagate" },
        "Model": d.model,
        "Revision": null,
        "SKU": null,
        "SerialNumber": s.drive_serial(n),
        "PartNumber": null,
        "AssetTag": null,
        "RotationSpeedRPM": d.rpm,
        "BlockSizeBytes": 512,
        "Identifiers": [{ "DurableName": format!("{}-{n}", s.uuid), "DurableNameFormat": "UUID" }],
        "Location": [{ "Info": n.to_string(), "InfoFormat": "DriveBay number" }],
        "Status": ok_status(),
        "StatusIndicator": "OK",
        "IndicatorLED": null,
        "CapableSpeedGbs": speed,
        "NegotiatedSpeedGbs": speed,
        "FailurePredicted": false,
        "HotspareType": null,
        "EncryptionAbility": null,
        "EncryptionStatus": null,
        "PredictedMediaLifeLeftPercent": if d.media == crate::inventory::MediaType::Ssd { json!(100) } else { Value::Null },
        "Oem": {
            "Intel_RackScale": {
                "@odata.type": "#Intel.Oem.Drive",
                "EraseOnDetach": false,
                "DriveErased": true,
                "FirmwareVersion": "1.0",
                "Storage": link(&format!("{}/Storage/1", s.odata_id())),
                "PCIeFunction": null,
                "UsedBy": [],
            }
        },
        "Links": {
            "@odata.type": "#Drive.v1_1_0.Links",
            "Chassis": link(&s.drawer_odata_id()),
            "Volumes": [],
            "Endpoints": [],
            "Oem": {},
        },
        "Actions": { "Oem": {} },
    }))
}

pub(crate) fn psme_odata_id(drawer: usize) -> String {
    format!("{MANAGERS}/PSME{drawer}")
}

/// Every chassis id: the pod, its racks and drawers.
pub(crate) fn chassis_ids(version: RsdVersion, inv: &Inventory) -> Vec<String> {
    let mut ids = Vec::with_capacity(2 + inv.racks + inv.drawers);
    ids.push(POD_CHASSIS.to_owned());
    ids.extend((1..=inv.racks).map(|r| format!("{CHASSIS}/Rack{r}")));
    ids.extend((1..=inv.drawers).map(|d| format!("{CHASSIS}/Drawer{d}")));
    ids.push(crate::pool::chassis_odata_id(version));
    ids
}

/// Chassis `Pod1`, `Rack<n>` or `Drawer<n>`.
pub(crate) fn chassis(version: RsdVersion, inv: &Inventory, id: &str) -> Option<Value> {
    let number = |prefix: &str, max: usize| {
        id.strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=max).contains(n) && id == format!("{prefix}{n}"))
    };
    let (kind, location_id, parent, contains, contained_by, systems, managed_by, drives) =
        if id == "Pod1" {
            (
                "Pod",
                "Pod1".to_owned(),
                Value::Null,
                (1..=inv.racks)
                    .map(|r| format!("{CHASSIS}/Rack{r}"))
                    .chain([crate::pool::chassis_odata_id(version)])
                    .collect(),
                Value::Null,
                Vec::new(),
                PODM_MANAGER.to_owned(),
                Vec::new(),
            )
        } else if let Some(r) = number("Rack", inv.racks) {
            let drawers = inv.drawers_in_rack(r);
            let systems = drawers
                .clone()
                .flat_map(|d| inv.systems_in_drawer(d).iter().map(SystemSpec::odata_id))
                .collect();
            (
                "Rack",
                format!("Rack{r}"),
                json!("Pod1"),
                drawers.map(|d| format!("{CHASSIS}/Drawer{d}")).collect(),
                link(POD_CHASSIS),
                systems,
                PODM_MANAGER.to_owned(),
                Vec::new(),
            )
        } else if let Some(d) = number("Drawer", inv.drawers) {
            let in_drawer = inv.systems_in_drawer(d);
            let rack = (d - 1) / crate::inventory::DRAWERS_PER_RACK + 1;
            (
                "Drawer",
                format!("Drawer{d}"),
                json!(format!("Rack{rack}")),
                Vec::new(),
                link(&format!("{CHASSIS}/Rack{rack}")),
                in_drawer.iter().map(SystemSpec::odata_id).collect(),
                psme_odata_id(d),
                in_drawer
                    .iter()
                    .flat_map(|s| (1..=s.drives.len()).map(|n| s.drive_odata_id(n)))
                    .collect(),
            )
        } else {
            return None;
        };
    let odata_id = format!("{CHASSIS}/{id}");
    let mut oem = json!({
        "@odata.type": "#Intel.Oem.Chassis",
        "Location": { "Id": location_id, "ParentId": parent },
    });
    if kind == "Rack" {
        oem["@odata.type"] = json!("#Intel.Oem.RackChassis");
        oem["RMMPresent"] = json!(true);
        oem["RackSupportsDisaggregatedPowerCooling"] = json!(true);
        oem["UUID"] = json!(derived_uuid(inv, &odata_id).to_string());
        oem["GeoTag"] = Value::Null;
    }
    let body = json!({
        "@odata.context": "/redfish/v1/$metadata#Chassis.Chassis",
        "@odata.id": odata_id,
        "@odata.type": "#Chassis.v1_3_0.Chassis",
        "Id": id,
        "ChassisType": kind,
        "Name": format!("{kind} {}", id.trim_start_matches(kind)),
        "Description": format!("{kind} of the simulated pod"),
        "Manufacturer": "Intel Corporation",
        "Model": format!("RSD {kind}"),
        "SKU": null,
        "SerialNumber": format!("{}-{id}", &inv.service_uuid.simple().to_string()[..8]),
        "PartNumber": null,
        "AssetTag": null,
        "IndicatorLED": "Off",
        "PowerState": "On",
        "PhysicalSecurity": null,
        "Status": { "State": "Enabled", "Health": "OK" },
        "Oem": { "Intel_RackScale": oem },
        "Links": {
            "@odata.type": "#Chassis.v1_2_0.Links",
            "Contains": links(contains),
            "ContainedBy": contained_by,
            "ComputerSystems": links(systems),
            "Drives": links(drives),
            "Storage": [],
            "ManagedBy": [link(&managed_by)],
            "ManagersInChassis": if kind == "Drawer" { json!([link(&managed_by)]) } else { json!([]) },
            "CooledBy": [],
            "PoweredBy": [],
            "PCIeDevices": [],
            "Oem": { "Intel_RackScale": { "@odata.type": "#Intel.Oem.ChassisLinks", "Switches": [] } },
        },
    });
    Some(body)
}

/// Manager ids: the PODM itself and one PSME per drawer.
pub(crate) fn manager_ids(inv: &Inventory) -> Vec<String> {
    let mut ids = vec![PODM_MANAGER.to_owned()];
    ids.extend((1..=inv.drawers).map(psme_odata_id));
    ids
}

/// The drawer a manager id names (`Some(None)` for the PODM manager).
pub(crate) fn manager_drawer(inv: &Inventory, id: &str) -> Option<Option<usize>> {
    if id == "PODM" {
        return Some(None);
    }
    let d: usize = id.strip_prefix("PSME")?.parse().ok()?;
    ((1..=inv.drawers).contains(&d) && id == format!("PSME{d}")).then_some(Some(d))
}

pub(crate) fn manager(
    version: RsdVersion,
    inv: &Inventory,
    drawer: Option<usize>,
    podm_name: &str,
    now: &str,
) -> Value {
    let (id, kind, name, description) = match drawer {
        None => (
            "PODM".to_owned(),
            "AuxiliaryController",
            format!("Pod manager {podm_name}"),
            "The pod manager".to_owned(),
        ),
        Some(d) => (
            format!("PSME{d}"),
            "EnclosureManager",
            format!("PSME of drawer {d}"),
            format!("Pooled system management engine of Drawer{d}"),
        ),
    };
    let odata_id = format!("{MANAGERS}/{id}");
    let (servers, chassis, in_chassis) = match drawer {
        None => (
            Vec::new(),
            chassis_ids(version, inv)
                .into_iter()
                .filter(|c| !c.contains("/Drawer"))
                .collect(),
            link(POD_CHASSIS),
        ),
        Some(d) => (
            inv.systems_in_drawer(d)
                .iter()
                .map(SystemSpec::odata_id)
                .collect(),
            vec![format!("{CHASSIS}/Drawer{d}")],
            link(&format!("{CHASSIS}/Drawer{d}")),
        ),
    };
    json!({
        "@odata.context": "/redfish/v1/$metadata#Manager.Manager",
        "@odata.id": odata_id,
        "@odata.type": "#Manager.v1_2_0.Manager",
        "Id": id,
        "Name": name,
        "ManagerType": kind,
        "Description": description,
        "ServiceEntryPointUUID": inv.service_uuid.to_string(),
        "UUID": derived_uuid(inv, &odata_id).to_string(),
        "Model": if drawer.is_none() { "RSD PODM" } else { "RSD PSME" },
        "DateTime": now,
        "DateTimeLocalOffset": "+00:00",
        "Status": ok_status(),
        "GraphicalConsole": { "ServiceEnabled": false, "MaxConcurrentSessions": 0, "ConnectTypesSupported": [] },
        "SerialConsole": { "ServiceEnabled": false, "MaxConcurrentSessions": 0, "ConnectTypesSupported": [] },
        "CommandShell": { "ServiceEnabled": false, "MaxConcurrentSessions": 0, "ConnectTypesSupported": [] },
        "FirmwareVersion": env!("CARGO_PKG_VERSION"),
        "NetworkProtocol": link(&format!("{odata_id}/NetworkProtocol")),
        "EthernetInterfaces": link(&format!("{odata_id}/EthernetInterfaces")),
        "Links": {
            "@odata.type": "#Manager.v1_1_0.Links",
            "ManagerForServers": links(servers),
            "ManagerForChassis": links(chassis),
            "ManagerInChassis": in_chassis,
            "Oem": { "Intel_RackScale": { "@odata.type": "#Intel.Oem.ManagerLinks", "ManagerForServices": [], "ManagerForSwitches": [] } },
        },
        "Oem": {},
        "PowerState": "On",
    })
}

pub(crate) fn manager_network_protocol(manager_id: &str, port: u16, tls: bool) -> Value {
    json!({
        "@odata.context": "/redfish/v1/$metadata#ManagerNetworkProtocol.ManagerNetworkProtocol",
        "@odata.id": format!("{MANAGERS}/{manager_id}/NetworkProtocol"),
        "@odata.type": "#ManagerNetworkProtocol.v1_0_0.ManagerNetworkProtocol",
        "Id": "NetworkProtocol",
        "Name": "Manager Network Protocol",
        "Description": "Manager Network Service Status",
        "Status": { "State": "Enabled", "Health": "OK", "HealthRollup": null },
        "HostName": "localhost",
        "FQDN": null,
        "HTTP": { "ProtocolEnabled": !tls, "Port": port },
        "HTTPS": { "ProtocolEnabled": tls, "Port": port },
        "SSH": { "ProtocolEnabled": false, "Port": null },
    })
}

pub(crate) fn manager_nic(inv: &Inventory, manager_id: &str) -> Value {
    let odata_id = format!("{MANAGERS}/{manager_id}/EthernetInterfaces/1");
    let digest = derived_uuid(inv, &odata_id);
    let b = digest.as_bytes();
    let mac = format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4]
    );
    json!({
        "@odata.context": "/redfish/v1/$metadata#EthernetInterface.EthernetInterface",
        "@odata.id": odata_id,
        "@odata.type": "#EthernetInterface.v1_1_0.EthernetInterface",
        "Id": "1",
        "Name": "Manager Ethernet Interface",
        "Description": "Management network interface",
        "Status": { "State": "Enabled", "Health": "OK", "HealthRollup": null },
        "InterfaceEnabled": true,
        "PermanentMACAddress": mac,
        "MACAddress": mac,
        "SpeedMbps": 1000,
        "AutoNeg": true,
        "FullDuplex": true,
        "MTUSize": 1500,
        "HostName": "localhost",
        "FQDN": null,
        "IPv6DefaultGateway": null,
        "MaxIPv6StaticAddresses": null,
        "NameServers": [],
        "IPv4Addresses": [{ "Address": "127.0.0.1", "SubnetMask": "255.0.0.0", "AddressOrigin": "Static", "Gateway": null }],
        "IPv6Addresses": [],
        "IPv6StaticAddresses": [],
        "VLAN": null,
        "VLANs": null,
        "Oem": {},
        "Links": { "Oem": {} },
    })
}

pub(crate) fn nodes_collection(ids: Vec<String>, paging: Paging) -> Value {
    let mut body = collection(
        NODES,
        "#ComposedNodeCollection.ComposedNodeCollection",
        "Composed Node Collection",
        ids,
        paging,
    );
    body["Actions"] = json!({ "#ComposedNodeCollection.Allocate": { "target": ALLOCATE } });
    body
}

pub(crate) fn node(
    version: RsdVersion,
    s: &SystemSpec,
    node: &Node,
    state: NodeState,
    power: Power,
    devices: NodeDevices,
) -> Value {
    let id = node.odata_id();
    let health = if state == NodeState::Failed {
        "Critical"
    } else {
        "OK"
    };
    let mut body = json!({
        "@odata.context": "/redfish/v1/$metadata#ComposedNode.ComposedNode",
        "@odata.id": id,
        "@odata.type": "#ComposedNode.1.1.0.ComposedNode",
        "Id": node.id.to_string(),
        "Name": node.name,
        "Description": node.description,
        "SystemType": "Logical",
        "UUID": node.uuid.to_string(),
        "PowerState": power.as_str(),
        "Status": status(health),
        "Processors": { "Count": s.sockets, "Model": s.cpu.model, "Status": status(health) },
        "Memory": { "TotalSystemMemoryGiB": s.memory_gib(), "Status": status(health) },
        "ComposedNodeState": state.as_str(),
        "Boot": {
            "BootSourceOverrideEnabled": node.boot.enabled,
            "BootSourceOverrideEnabled@Redfish.AllowableValues": BOOT_ENABLED,
            "BootSourceOverrideTarget": node.boot.target,
            "BootSourceOverrideTarget@Redfish.AllowableValues": BOOT_TARGETS,
            "BootSourceOverrideMode": node.boot.mode,
            "BootSourceOverrideMode@Redfish.AllowableValues": BOOT_MODES,
        },
        "Oem": {},
        "Links": {
            "ComputerSystem": link(&s.odata_id()),
            "Processors": links((1..=s.sockets).map(|n| s.processor_odata_id(n))),
            "Memory": links((1..=s.dimms).map(|n| s.dimm_odata_id(n))),
            "EthernetInterfaces": links((1..=s.nics).map(|n| s.nic_odata_id(n))),
            "LocalDrives": links((1..=s.drives.len()).map(|n| s.drive_odata_id(n))),
            "RemoteDrives": [],
            "ManagedBy": [link(PODM_MANAGER)],
            "Oem": {},
        },
        "Actions": {
            "#ComposedNode.Reset": {
                "target": format!("{id}/Actions/ComposedNode.Reset"),
                "ResetType@Redfish.AllowableValues": RESET_TYPES,
            },
            "#ComposedNode.Assemble": {
                "target": format!("{id}/Actions/ComposedNode.Assemble"),
            },
        },
    });
    if version >= RsdVersion::V2_3 {
        body["ClearTPMOnDelete"] = json!(node.clear_tpm_on_delete);
    }
    // Attached volumes (NVMe over Fabrics) are remote drives; attached PCIe drives are listed
    // with the local ones, as the RSD 2.1 PODM does.
    let attached = links(devices.attached.iter().cloned());
    if crate::pool::uses_volumes(version) {
        body["Links"]["RemoteDrives"] = attached;
    } else if let (Some(local), Value::Array(more)) =
        (body["Links"]["LocalDrives"].as_array_mut(), attached)
    {
        local.extend(more);
    }
    for (name, action) in
        crate::pool::node_actions(version, node.id, devices.attachable, devices.attached)
    {
        body["Actions"][name] = action;
    }
    body
}

pub(crate) fn session_service(timeout_secs: u64) -> Value {
    json!({
        "@odata.context": "/redfish/v1/$metadata#SessionService.SessionService",
        "@odata.id": SESSION_SERVICE,
        "@odata.type": "#SessionService.v1_0_2.SessionService",
        "Id": "SessionService",
        "Name": "Session Service",
        "Description": "Session Service",
        "Status": { "State": "Enabled", "Health": "OK" },
        "ServiceEnabled": true,
        "SessionTimeout": timeout_secs,
        "Sessions": link(SESSIONS),
    })
}

pub(crate) fn session(id: &str, user: &str) -> Value {
    json!({
        "@odata.context": "/redfish/v1/$metadata#Session.Session",
        "@odata.id": format!("{SESSIONS}/{id}"),
        "@odata.type": "#Session.v1_0_2.Session",
        "Id": id,
        "Name": "User Session",
        "Description": "User Session",
        "UserName": user,
        "Oem": {},
    })
}

/// Rewrites a serialized body into RSD 1.x spellings.
pub(crate) fn rsd1_spellings(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    text.replace("@Redfish.AllowableValues\"", "@DMTF.AllowableValues\"")
        .replace("\"Intel_RackScale\"", "\"Intel:RackScale\"")
        .into_bytes()
}

/// Adds an `@Sim.Padding` string to a serialized JSON object so it is at least `size` bytes.
pub(crate) fn pad(mut body: Vec<u8>, size: usize) -> Vec<u8> {
    const KEY: &[u8] = b",\"@Sim.Padding\":\"";
    if body.len() >= size || body.last() != Some(&b'}') {
        return body;
    }
    body.pop();
    let fill = size.saturating_sub(body.len() + KEY.len() + 2);
    body.reserve(KEY.len() + fill + 2);
    body.extend_from_slice(KEY);
    body.resize(body.len() + fill, b'x');
    body.extend_from_slice(b"\"}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_adds_next_links_until_the_end() {
        let members: Vec<String> = (1..=5).map(|i| format!("/x/{i}")).collect();
        let page = |skip| {
            collection(
                "/x",
                "#X.X",
                "X",
                members.clone(),
                Paging {
                    skip,
                    top: None,
                    page_size: Some(2),
                },
            )
        };
        let first = page(0);
        assert_eq!(first["Members@odata.count"], 5);
        assert_eq!(first["Members"].as_array().unwrap().len(), 2);
        assert_eq!(first["Members@odata.nextLink"], "/x?$skip=2");
        let last = page(4);
        assert_eq!(last["Members"].as_array().unwrap().len(), 1);
        assert!(last.get("Members@odata.nextLink").is_none());
        let whole = collection("/x", "#X.X", "X", members, Paging::default());
        assert_eq!(whole["Members"].as_array().unwrap().len(), 5);
        assert!(whole.get("Members@odata.nextLink").is_none());
    }

    #[test]
    fn padding_keeps_json_valid() {
        let body = serde_json::to_vec(&json!({"a": 1})).unwrap();
        let padded = pad(body, 1000);
        assert_eq!(padded.len(), 1000);
        let v: Value = serde_json::from_slice(&padded).unwrap();
        assert_eq!(v["a"], 1);
    }

    #[test]
    fn rsd1_spellings_rename_oem_and_allowable_values() {
        let body = serde_json::to_vec(&json!({
            "Oem": {"Intel_RackScale": {"ApiVersion": "2.1.0"}},
            "ResetType@Redfish.AllowableValues": ["On"]
        }))
        .unwrap();
        let v: Value = serde_json::from_slice(&rsd1_spellings(&body)).unwrap();
        assert_eq!(v["Oem"]["Intel:RackScale"]["ApiVersion"], "2.1.0");
        assert_eq!(v["ResetType@DMTF.AllowableValues"][0], "On");
    }
}
