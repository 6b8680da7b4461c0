//! Node requirements on the command line (`--cores`, `--memory-mib`, `--model`, `--disk`), shared
//! by `node compose` and `flavor create`.

use clap::Args;
use valence_pod_manager_api::{
    MemoryRequirement, ProcessorRequirement, Requirements, StorageRequirement,
};

#[derive(Debug, Clone, Args)]
pub struct RequirementArgs {
    /// Minimum number of cores of the system.
    #[arg(long, value_name = "N")]
    pub cores: Option<u32>,
    /// Minimum memory of the system, MiB.
    #[arg(long, value_name = "MIB")]
    pub memory_mib: Option<u64>,
    /// Processor model substring (`Xeon`, `E5-2699`).
    #[arg(long)]
    pub model: Option<String>,
    /// A local drive of at least GIB GiB, optionally of a type: `100`, `500:HDD`, `200:SSD`.
    /// Repeat for more drives.
    #[arg(long, value_name = "GIB[:SSD|HDD]", value_parser = parse_disk)]
    pub disk: Vec<StorageRequirement>,
}

impl RequirementArgs {
    /// The requirements given, `None` when no option was.
    pub fn requirements(&self) -> Option<Requirements> {
        let processor =
            (self.cores.is_some() || self.model.is_some()).then(|| ProcessorRequirement {
                total_cores: self.cores,
                model: self.model.clone(),
                ..Default::default()
            });
        let memory = self.memory_mib.map(|mib| MemoryRequirement {
            capacity_mib: Some(mib),
            ..Default::default()
        });
        let requirements = Requirements {
            processor,
            memory,
            storage: self.disk.clone(),
        };
        (requirements != Requirements::default()).then_some(requirements)
    }
}

fn parse_disk(text: &str) -> Result<StorageRequirement, String> {
    let (size, kind) = match text.split_once(':') {
        Some((size, kind)) => (size, Some(kind)),
        None => (text, None),
    };
    let capacity: u64 = size
        .trim()
        .parse()
        .map_err(|_| format!("{size:?} is not a size in GiB (as in 100 or 100:SSD)"))?;
    let drive_type = kind
        .map(|k| match k.trim().to_ascii_uppercase().as_str() {
            kind @ ("SSD" | "HDD") => Ok(kind.to_owned()),
            _ => Err(format!("drive type {k:?} is not SSD or HDD")),
        })
        .transpose()?;
    Ok(StorageRequirement {
        capacity_gib: Some(capacity),
        drive_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disks_take_a_size_and_an_optional_type() {
        assert_eq!(
            parse_disk("100").unwrap(),
            StorageRequirement {
                capacity_gib: Some(100),
                drive_type: None
            }
        );
        assert_eq!(
            parse_disk("500:hdd").unwrap().drive_type.as_deref(),
            Some("HDD")
        );
        assert!(parse_disk("big").is_err());
        assert!(parse_disk("100:NVMe").unwrap_err().contains("NVMe"));
    }

    #[test]
    fn only_given_requirements_are_sent() {
        let none = RequirementArgs {
            cores: None,
            memory_mib: None,
            model: None,
            disk: vec![],
        };
        assert_eq!(none.requirements(), None);
        let some = RequirementArgs {
            cores: Some(8),
            memory_mib: Some(16_384),
            ..none
        };
        let json = serde_json::to_value(some.requirements().unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"processor": {"total_cores": 8}, "memory": {"capacity_mib": 16384}})
        );
    }
}
