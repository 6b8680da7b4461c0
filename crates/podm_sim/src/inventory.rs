//! The hardware a simulated PODM manages, generated from a seed: systems with a realistic mix of
//! processors, memory, drives and NICs, placed in drawers and racks of one pod.
//!
//! Generation uses ChaCha8 (reproducible across platforms and releases), so the same seed and
//! size always give the same inventory; tests call [`inventory`] to compute their expectations.
//! Systems are kept compact (homogeneous sockets and DIMMs are stored once) because benchmarks
//! hold a thousand PODMs in one process.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use uuid::Uuid;

/// The most systems one simulated PODM holds.
pub const MAX_SYSTEMS: usize = 10_000;
/// Systems per drawer chassis.
pub const SYSTEMS_PER_DRAWER: usize = 8;
/// Drawers per rack chassis.
pub const DRAWERS_PER_RACK: usize = 4;

/// `@odata.id` of the pod chassis, which contains every rack.
pub const POD_CHASSIS: &str = "/redfish/v1/Chassis/Pod1";

/// A processor model of the catalog the inventory draws from.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct CpuModel {
    /// Redfish `Processor.Model`.
    pub model: &'static str,
    /// `Oem.Intel_RackScale.Brand` (`E5`, `Gold`, ...; `Unknown` for non-Intel parts).
    pub brand: &'static str,
    pub manufacturer: &'static str,
    pub vendor_id: &'static str,
    /// Cores per socket.
    pub cores: u32,
    /// Threads per socket.
    pub threads: u32,
    pub max_speed_mhz: u32,
    /// Redfish `InstructionSet` (`x86-64`, `ARM-A64`).
    pub instruction_set: &'static str,
    /// Redfish `ProcessorArchitecture` (`x86`, `ARM`).
    pub architecture: &'static str,
    /// `Oem.Intel_RackScale.Capabilities`.
    pub capabilities: &'static [&'static str],
    /// The system board model that carries this processor.
    pub system_model: &'static str,
    pub memory_device_type: &'static str,
    pub memory_speed_mhz: u32,
    /// Possible socket counts.
    sockets: &'static [u32],
    /// Possible DIMM sizes, MiB.
    dimm_sizes_mib: &'static [u64],
    /// Possible DIMMs per socket.
    dimms_per_socket: &'static [u32],
}

const BROADWELL: &[&str] = &[
    "sse", "sse2", "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "aes",
];
const SKYLAKE: &[&str] = &[
    "sse", "sse2", "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "avx512f", "aes",
];
const ARMV8: &[&str] = &["fp", "asimd", "aes", "sha1", "sha2", "crc32", "atomics"];
const BIG_DIMMS: &[u64] = &[16_384, 32_768, 65_536];
const SERVER_DIMMS: &[u64] = &[8_192, 16_384, 32_768];
const SMALL_DIMMS: &[u64] = &[8_192, 16_384];

/// The processor catalog with the weight of each model in a generated inventory.
static CPU_CATALOG: [(CpuModel, u32); 8] = [
    (
        CpuModel {
            model: "Intel(R) Xeon(R) CPU E5-2699 v4 @ 2.20GHz",
            brand: "E5",
            manufacturer: "Intel(R) Corporation",
            vendor_id: "GenuineIntel",
            cores: 22,
            threads: 44,
            max_speed_mhz: 3600,
            instruction_set: "x86-64",
            architecture: "x86",
            capabilities: BROADWELL,
            system_model: "S2600WT",
            memory_device_type: "DDR4",
            memory_speed_mhz: 2400,
            sockets: &[2],
            dimm_sizes_mib: BIG_DIMMS,
            dimms_per_socket: &[4, 6, 8],
        },
        3,
    ),
    (
        CpuModel {
            model: "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz",
            brand: "E5",
            manufacturer: "Intel(R) Corporation",
            vendor_id: "GenuineIntel",
            cores: 14,
            threads: 28,
            max_speed_mhz: 3300,
            instruction_set: "x86-64",
            architecture: "x86",
            capabilities: BROADWELL,
            system_model: "S2600WT",
            memory_device_type: "DDR4",
            memory_speed_mhz: 2400,
            sockets: &[2],
            dimm_sizes_mib: SERVER_DIMMS,
            dimms_per_socket: &[4, 6, 8],
        },
        4,
    ),
    (
        CpuModel {
            model: "Intel(R) Xeon(R) CPU E5-2630 v4 @ 2.20GHz",
            brand: "E5",
            manufacturer: "Intel(R) Corporation",
            vendor_id: "GenuineIntel",
            cores: 10,
            threads: 20,
            max_speed_mhz: 3100,
            instruction_set: "x86-64",
            architecture: "x86",
            capabilities: BROADWELL,
            system_model: "S2600KP",
            memory_device_type: "DDR4",
            memory_speed_mhz: 2133,
            sockets: &[1, 2],
            dimm_sizes_mib: SERVER_DIMMS,
            dimms_per_socket: &[2, 4],
        },
        3,
    ),
    (
        CpuModel {
            model: "Intel(R) Xeon(R) CPU E3-1240 v6 @ 3.70GHz",
            brand: "E3",
            manufacturer: "Intel(R) Corporation",
            vendor_id: "GenuineIntel",
            cores: 4,
            threads: 8,
            max_speed_mhz: 4100,
            instruction_set: "x86-64",
            architecture: "x86",
            capabilities: BROADWELL,
            system_model: "S1200SP",
            memory_device_type: "DDR4",
            memory_speed_mhz: 2400,
            sockets: &[1],
            dimm_sizes_mib: SMALL_DIMMS,
            dimms_per_socket: &[2, 4],
        },
        2,
    ),
    (
        CpuModel {
            model: "Intel(R) Xeon(R) Silver 4114 CPU @ 2.20GHz",
            brand: "Silver",
            manufacturer: "Intel(R) Corporation",
            vendor_id: "GenuineIntel",
            cores: 10,
            threads: 20,
            max_speed_mhz: 3000,
            instruction_set: "x86-64",
            architecture: "x86",
            capabilities: SKYLAKE,
            system_model: "S2600WF",
            memory_device_type: "DDR4",
            memory_speed_mhz: 2400,
            sockets: &[1, 2],
            dimm_sizes_mib: SERVER_DIMMS,
            dimms_per_socket: &[2, 4, 6],
        },
        3,
    ),
    (
        CpuModel {
            model: "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz",
            brand: "Gold",
            manufacturer: "Intel(R) Corporation",
            vendor_id: "GenuineIntel",
            cores: 20,
            threads: 40,
            max_speed_mhz: 3700,
            instruction_set: "x86-64",
            architecture: "x86",
            capabilities: SKYLAKE,
            system_model: "S2600WF",
            memory_device_type: "DDR4",
            memory_speed_mhz: 2666,
            sockets: &[2],
            dimm_sizes_mib: BIG_DIMMS,
            dimms_per_socket: &[6, 12],
        },
        3,
    ),
    (
        CpuModel {
            model: "Intel(R) Xeon(R) Platinum 8180 CPU @ 2.50GHz",
            brand: "Platinum",
            manufacturer: "Intel(R) Corporation",
            vendor_id: "GenuineIntel",
            cores: 28,
            threads: 56,
            max_speed_mhz: 3800,
            instruction_set: "x86-64",
            architecture: "x86",
            capabilities: SKYLAKE,
            system_model: "S2600WF",
            memory_device_type: "DDR4",
            memory_speed_mhz: 2666,
            sockets: &[2],
            dimm_sizes_mib: BIG_DIMMS,
            dimms_per_socket: &[6, 12],
        },
        1,
    ),
    (
        CpuModel {
            model: "Cavium ThunderX2(R) CPU CN9980 v2.1 @ 2.20GHz",
            brand: "Unknown",
            manufacturer: "Cavium Inc.",
            vendor_id: "Cavium",
            cores: 32,
            threads: 128,
            max_speed_mhz: 2500,
            instruction_set: "ARM-A64",
            architecture: "ARM",
            capabilities: ARMV8,
            system_model: "R181-T90",
            memory_device_type: "DDR4",
            memory_speed_mhz: 2666,
            sockets: &[2],
            dimm_sizes_mib: SERVER_DIMMS,
            dimms_per_socket: &[8],
        },
        1,
    ),
];

const DIMM_MAKERS: &[&str] = &["Samsung", "Micron", "SK Hynix", "Kingston"];
const NIC_SPEEDS_MBPS: &[(u32, u32)] = &[(10_000, 4), (25_000, 3), (40_000, 1)];
const DRIVE_COUNTS: &[(usize, u32)] = &[(0, 1), (1, 3), (2, 3), (4, 2)];

/// A drive kind of the catalog: sizes to draw from, with its weight.
struct DriveKind {
    media: MediaType,
    protocol: &'static str,
    model: &'static str,
    rpm: Option<u32>,
    sizes_gib: &'static [u64],
}

const DRIVE_KINDS: &[(DriveKind, u32)] = &[
    (
        DriveKind {
            media: MediaType::Ssd,
            protocol: "SATA",
            model: "INTEL SSDSC2KB480G7",
            rpm: None,
            sizes_gib: &[240, 480, 960, 1920],
        },
        4,
    ),
    (
        DriveKind {
            media: MediaType::Ssd,
            protocol: "NVMe",
            model: "INTEL SSDPE2KE016T7",
            rpm: None,
            sizes_gib: &[800, 1600, 3200],
        },
        3,
    ),
    (
        DriveKind {
            media: MediaType::Hdd,
            protocol: "SATA",
            model: "ST4000NM0035",
            rpm: Some(7200),
            sizes_gib: &[1000, 2000, 4000],
        },
        3,
    ),
    (
        DriveKind {
            media: MediaType::Hdd,
            protocol: "SAS",
            model: "ST1200MM0088",
            rpm: Some(10_000),
            sizes_gib: &[600, 1200],
        },
        1,
    ),
];

/// Redfish `Drive.MediaType`, which is also the `Type` of an Allocate `LocalDrives` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MediaType {
    #[serde(rename = "SSD")]
    Ssd,
    #[serde(rename = "HDD")]
    Hdd,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ssd => "SSD",
            Self::Hdd => "HDD",
        }
    }
}

/// A local drive of a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriveSpec {
    /// Capacity in GiB; `CapacityBytes` is exactly this times 2^30.
    pub capacity_gib: u64,
    pub media: MediaType,
    /// Redfish `Protocol`, the `Interface` of an Allocate request (`SATA`, `SAS`, `NVMe`).
    pub protocol: &'static str,
    pub model: &'static str,
    pub rpm: Option<u32>,
}

impl DriveSpec {
    pub fn capacity_bytes(&self) -> u64 {
        self.capacity_gib << 30
    }
}

/// One computer system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemSpec {
    /// Position in [`Inventory::systems`].
    pub index: usize,
    /// Redfish `Id`: `index + 1` in decimal, as an RSD PODM numbers its systems.
    pub id: String,
    pub uuid: Uuid,
    pub serial_number: String,
    pub cpu: &'static CpuModel,
    /// Number of processors (all of the same model).
    pub sockets: u32,
    /// Number of DIMMs (all of the same size and maker).
    pub dimms: u32,
    pub dimm_mib: u64,
    pub dimm_manufacturer: &'static str,
    pub drives: Vec<DriveSpec>,
    /// Number of Ethernet interfaces (all of the same speed).
    pub nics: u32,
    pub nic_speed_mbps: u32,
    /// First five octets of the MAC addresses; the sixth is the interface number.
    mac_prefix: [u8; 5],
    /// 1-based number of the rack chassis holding the system.
    pub rack: usize,
    /// 1-based number of the drawer chassis holding the system (numbered across the pod).
    pub drawer: usize,
}

impl SystemSpec {
    pub fn odata_id(&self) -> String {
        format!("/redfish/v1/Systems/{}", self.id)
    }

    pub fn total_cores(&self) -> u32 {
        self.cpu.cores * self.sockets
    }

    pub fn total_threads(&self) -> u32 {
        self.cpu.threads * self.sockets
    }

    pub fn memory_mib(&self) -> u64 {
        self.dimm_mib * u64::from(self.dimms)
    }

    pub fn memory_gib(&self) -> f64 {
        self.memory_mib() as f64 / 1024.0
    }

    /// MAC address of Ethernet interface `n` (1-based).
    pub fn mac(&self, n: u32) -> String {
        let [a, b, c, d, e] = self.mac_prefix;
        format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{:02x}", n & 0xff)
    }

    /// `@odata.id` of the drawer chassis.
    pub fn drawer_odata_id(&self) -> String {
        format!("/redfish/v1/Chassis/Drawer{}", self.drawer)
    }

    /// `@odata.id` of the rack chassis.
    pub fn rack_odata_id(&self) -> String {
        format!("/redfish/v1/Chassis/Rack{}", self.rack)
    }

    /// Id of local drive `n` (1-based) in its drawer's `Drives` collection.
    pub fn drive_id(&self, n: usize) -> String {
        format!("{}-{n}", self.id)
    }

    pub fn drive_odata_id(&self, n: usize) -> String {
        format!("{}/Drives/{}", self.drawer_odata_id(), self.drive_id(n))
    }

    /// `SerialNumber` of local drive `n` (1-based).
    pub fn drive_serial(&self, n: usize) -> String {
        format!("{}D{n}", self.serial_number)
    }

    /// `@odata.id` of processor `n` (1-based); with the DIMM, NIC and drive ids below, what an
    /// Allocate request may pin as a `Resource`.
    pub fn processor_odata_id(&self, n: u32) -> String {
        format!("{}/Processors/CPU{n}", self.odata_id())
    }

    pub fn dimm_odata_id(&self, n: u32) -> String {
        format!("{}/Memory/Dimm{n}", self.odata_id())
    }

    pub fn nic_odata_id(&self, n: u32) -> String {
        format!("{}/EthernetInterfaces/LAN{n}", self.odata_id())
    }

    /// Whether the chassis `odata_id` (pod, rack or drawer) contains this system.
    pub fn is_in_chassis(&self, odata_id: &str) -> bool {
        let odata_id = odata_id.trim_end_matches('/');
        odata_id == POD_CHASSIS
            || odata_id == self.rack_odata_id()
            || odata_id == self.drawer_odata_id()
    }
}

/// Everything a simulated PODM manages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    pub seed: u64,
    /// Service root `UUID`.
    pub service_uuid: Uuid,
    pub systems: Vec<SystemSpec>,
    /// Number of drawer chassis (`Drawer1`..).
    pub drawers: usize,
    /// Number of rack chassis (`Rack1`..).
    pub racks: usize,
}

impl Inventory {
    /// The system with Redfish `Id` `id`.
    pub fn system(&self, id: &str) -> Option<&SystemSpec> {
        let n: usize = id.parse().ok()?;
        self.systems.get(n.checked_sub(1)?).filter(|s| s.id == id)
    }

    /// Systems in drawer `drawer` (1-based).
    pub fn systems_in_drawer(&self, drawer: usize) -> &[SystemSpec] {
        let start = drawer.saturating_sub(1) * SYSTEMS_PER_DRAWER;
        let end = (start + SYSTEMS_PER_DRAWER).min(self.systems.len());
        self.systems.get(start..end).unwrap_or(&[])
    }

    /// Drawers (1-based numbers) of rack `rack` (1-based).
    pub fn drawers_in_rack(&self, rack: usize) -> std::ops::RangeInclusive<usize> {
        let first = rack.saturating_sub(1) * DRAWERS_PER_RACK + 1;
        let last = (first + DRAWERS_PER_RACK - 1).min(self.drawers);
        first..=last
    }
}

/// The most pooled drives one simulated PODM starts with.
pub const MAX_POOLED_DRIVES: usize = 1_000;

/// Sizes of the pooled NVMe drives, GiB.
const POOLED_SIZES_GIB: &[u64] = &[800, 1600, 3200, 6400];
const POOLED_MODELS: &[&str] = &["INTEL SSDPE2KE016T8", "INTEL SSDPE2KX040T8"];

/// An NVMe drive of the PODM's pool, reached through the fabric and attachable to a composed
/// node (in RSD 2.3 through a volume spanning the whole drive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PooledDriveSpec {
    /// 1-based number of the drive in the pool; never reused within a PODM's life.
    pub number: u32,
    /// Capacity in GiB; `CapacityBytes` is exactly this times 2^30.
    pub capacity_gib: u64,
    pub model: &'static str,
    pub serial_number: String,
    /// Durable name of the drive and of its endpoint (also in the endpoint's NQN).
    pub uuid: Uuid,
}

impl PooledDriveSpec {
    pub fn capacity_bytes(&self) -> u64 {
        self.capacity_gib << 30
    }

    /// What the drive (and its endpoint) is called: `Pooled NVMe <n> (<size> GiB)`.
    pub fn name(&self) -> String {
        format!("Pooled NVMe {} ({} GiB)", self.number, self.capacity_gib)
    }
}

/// Pooled drive `number` (1-based) of the PODM with inventory seed `seed`. Each drive is drawn
/// from its own stream, so the systems of [`inventory`] stay what they were without a pool and
/// a drive added later is as reproducible as the first ones.
pub fn pooled_drive(seed: u64, number: u32) -> PooledDriveSpec {
    let stream = seed ^ 0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(u64::from(number) + 1);
    let mut rng = ChaCha8Rng::seed_from_u64(stream);
    PooledDriveSpec {
        number,
        capacity_gib: pick(&mut rng, POOLED_SIZES_GIB, 1600),
        model: pick(&mut rng, POOLED_MODELS, "INTEL SSDPE2KE016T8"),
        serial_number: format!("PNV{:010X}", rng.random::<u64>() >> 24),
        uuid: random_uuid(&mut rng),
    }
}

/// The first `count` pooled drives of seed `seed` (at most [`MAX_POOLED_DRIVES`]): what a PODM
/// started with [`SimConfig::pooled_drives`](crate::SimConfig::pooled_drives) `= count` offers.
pub fn pooled_drives(seed: u64, count: usize) -> Vec<PooledDriveSpec> {
    let count = u32::try_from(count.min(MAX_POOLED_DRIVES)).unwrap_or(0);
    (1..=count).map(|n| pooled_drive(seed, n)).collect()
}

/// The inventory for `seed` with `systems` systems (at most [`MAX_SYSTEMS`]).
pub fn inventory(seed: u64, systems: usize) -> Inventory {
    let systems = systems.min(MAX_SYSTEMS);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let service_uuid = random_uuid(&mut rng);
    let list: Vec<SystemSpec> = (0..systems).map(|i| system(&mut rng, i)).collect();
    let drawers = systems.div_ceil(SYSTEMS_PER_DRAWER);
    Inventory {
        seed,
        service_uuid,
        systems: list,
        drawers,
        racks: drawers.div_ceil(DRAWERS_PER_RACK),
    }
}

fn system(rng: &mut ChaCha8Rng, index: usize) -> SystemSpec {
    let cpu = pick_weighted(rng, &CPU_CATALOG);
    let sockets = pick(rng, cpu.sockets, 1);
    let dimms = pick(rng, cpu.dimms_per_socket, 2) * sockets;
    let dimm_mib = pick(rng, cpu.dimm_sizes_mib, 16_384);
    let dimm_manufacturer = pick(rng, DIMM_MAKERS, "Samsung");
    let drive_count = *pick_weighted(rng, DRIVE_COUNTS);
    let drives = (0..drive_count)
        .map(|_| {
            let kind = pick_weighted(rng, DRIVE_KINDS);
            DriveSpec {
                capacity_gib: pick(rng, kind.sizes_gib, 480),
                media: kind.media,
                protocol: kind.protocol,
                model: kind.model,
                rpm: kind.rpm,
            }
        })
        .collect();
    let nics = if rng.random_bool(0.7) { 2 } else { 1 };
    let nic_speed_mbps = *pick_weighted(rng, NIC_SPEEDS_MBPS);
    let uuid = random_uuid(rng);
    let mut mac_prefix: [u8; 5] = rng.random();
    // locally administered, unicast
    mac_prefix[0] = (mac_prefix[0] & 0xfc) | 0x02;
    let serial_number = format!("SIM{:010X}", rng.random::<u64>() >> 24);
    let drawer = index / SYSTEMS_PER_DRAWER + 1;
    SystemSpec {
        index,
        id: (index + 1).to_string(),
        uuid,
        serial_number,
        cpu,
        sockets,
        dimms,
        dimm_mib,
        dimm_manufacturer,
        drives,
        nics,
        nic_speed_mbps,
        mac_prefix,
        rack: (drawer - 1) / DRAWERS_PER_RACK + 1,
        drawer,
    }
}

fn random_uuid(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

/// One of `items` (all tables here are non-empty; `fallback` only keeps this total).
fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T], fallback: T) -> T {
    items.choose(rng).copied().unwrap_or(fallback)
}

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, u32)]) -> &'a T {
    match items.choose_weighted(rng, |(_, w)| *w) {
        Ok((item, _)) => item,
        // only reachable with an empty or all-zero table, which the constant tables are not
        Err(_) => &items[0].0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_inventory_other_seed_other_inventory() {
        let a = inventory(42, 64);
        let b = inventory(42, 64);
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let c = inventory(43, 64);
        assert_ne!(a.service_uuid, c.service_uuid);
        assert_ne!(a.systems, c.systems);
    }

    #[test]
    fn a_larger_inventory_starts_with_the_smaller_one() {
        let small = inventory(7, 10);
        let large = inventory(7, 20);
        assert_eq!(small.systems[..], large.systems[..10]);
    }

    #[test]
    fn inventory_is_a_realistic_mix() {
        let inv = inventory(1, 200);
        assert_eq!(inv.systems.len(), 200);
        let models: std::collections::BTreeSet<_> =
            inv.systems.iter().map(|s| s.cpu.model).collect();
        assert!(models.len() >= 5, "{models:?}");
        let cores: std::collections::BTreeSet<_> =
            inv.systems.iter().map(|s| s.total_cores()).collect();
        assert!(cores.len() >= 5, "{cores:?}");
        assert!(inv.systems.iter().any(|s| s.drives.is_empty()));
        assert!(inv.systems.iter().any(|s| s.drives.len() >= 2));
        assert!(
            inv.systems
                .iter()
                .any(|s| s.cpu.instruction_set == "ARM-A64")
        );
        for s in &inv.systems {
            assert!(s.memory_mib() >= 16_384, "system {} memory", s.id);
            assert!(s.sockets >= 1 && s.nics >= 1);
        }
        let macs: std::collections::BTreeSet<_> = inv.systems.iter().map(|s| s.mac(1)).collect();
        assert_eq!(macs.len(), 200, "MAC addresses are unique");
    }

    #[test]
    fn pooled_drives_are_reproducible_and_leave_the_systems_alone() {
        let pool = pooled_drives(5, 6);
        assert_eq!(pool, pooled_drives(5, 6));
        assert_eq!(pool[..3], pooled_drives(5, 3)[..]);
        assert_eq!(pool[4], pooled_drive(5, 5));
        assert_ne!(pool, pooled_drives(6, 6));
        let numbers: Vec<u32> = pool.iter().map(|d| d.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
        let uuids: std::collections::BTreeSet<_> = pool.iter().map(|d| d.uuid).collect();
        assert_eq!(uuids.len(), 6);
        assert!(
            pool.iter()
                .all(|d| POOLED_SIZES_GIB.contains(&d.capacity_gib))
        );
        assert_eq!(
            pool[0].name(),
            format!("Pooled NVMe 1 ({} GiB)", pool[0].capacity_gib)
        );
        assert_eq!(pool[0].capacity_bytes(), pool[0].capacity_gib << 30);
        assert_eq!(
            pooled_drives(5, MAX_POOLED_DRIVES + 5).len(),
            MAX_POOLED_DRIVES
        );
    }

    #[test]
    fn layout_numbers_drawers_and_racks() {
        let inv = inventory(1, 70);
        assert_eq!(inv.drawers, 9);
        assert_eq!(inv.racks, 3);
        assert_eq!(inv.systems_in_drawer(9).len(), 6);
        assert_eq!(inv.drawers_in_rack(3), 9..=9);
        let s = inv.system("17").unwrap();
        assert_eq!((s.drawer, s.rack), (3, 1));
        assert!(s.is_in_chassis("/redfish/v1/Chassis/Drawer3"));
        assert!(s.is_in_chassis("/redfish/v1/Chassis/Rack1"));
        assert!(s.is_in_chassis(POD_CHASSIS));
        assert!(!s.is_in_chassis("/redfish/v1/Chassis/Drawer2"));
        assert!(inv.system("0").is_none());
        assert!(inv.system("71").is_none());
        assert!(inv.system("017").is_none());
    }
}
