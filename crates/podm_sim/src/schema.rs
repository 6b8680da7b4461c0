//! Validation of Allocate request bodies against the RSD request schemas (embedded copies of
//! rsd-lib's, see `schemas/SOURCE.txt`), reporting every violation with the JSON path at fault.
//!
//! The schemas use six JSON-Schema keywords (`type`, `enum`, `properties`,
//! `additionalProperties`, `items`, `additionalItems`). Validating that subset here costs less
//! than the ~60 crates a general validator brings into every build of `valence`; compiling
//! refuses any other keyword, so a schema that needs more cannot be half-checked silently.
//! One deliberate difference from draft 4: a one-element `items` tuple (how rsd-lib writes the
//! list schemas) is applied to every element, not only the first, as a PODM checks every entry.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::config::RsdVersion;

const V2_1: &str = include_str!("../schemas/v2_1_node_schemas.json");
const V2_2: &str = include_str!("../schemas/v2_2_node_schemas.json");
const V2_3: &str = include_str!("../schemas/v2_3_node_schemas.json");

/// Request-body fields of Allocate and the part of the schema file that describes each.
const PARTS: [(&str, &str); 8] = [
    ("Processors", "processor_req_schema"),
    ("Memory", "memory_req_schema"),
    ("RemoteDrives", "remote_drive_req_schema"),
    ("LocalDrives", "local_drive_req_schema"),
    ("EthernetInterfaces", "ethernet_interface_req_schema"),
    ("Security", "security_req_schema"),
    ("TotalSystemCoreCount", "total_system_core_req_schema"),
    ("TotalSystemMemoryMiB", "total_system_memory_req_schema"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Array,
    String,
    Number,
    Integer,
    Boolean,
}

impl Kind {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "object" => Self::Object,
            "array" => Self::Array,
            "string" => Self::String,
            "number" => Self::Number,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Object => "object",
            Self::Array => "array",
            Self::String => "string",
            Self::Number => "number",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
        }
    }

    fn accepts(self, v: &Value) -> bool {
        match self {
            Self::Object => v.is_object(),
            Self::Array => v.is_array(),
            Self::String => v.is_string(),
            Self::Number => v.is_number(),
            Self::Integer => v.is_i64() || v.is_u64(),
            Self::Boolean => v.is_boolean(),
        }
    }
}

#[derive(Debug, Default)]
struct Schema {
    kind: Option<Kind>,
    allowed: Option<Vec<Value>>,
    properties: BTreeMap<String, Schema>,
    additional_properties: bool,
    items: Option<Box<Schema>>,
}

/// One step of the path to a value in the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// Where in the request body a violation is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BodyPath(Vec<Step>);

impl BodyPath {
    /// JSON pointer in Redfish `RelatedProperties` form: `#/Memory/0/CapacityMiB`.
    pub(crate) fn pointer(&self) -> String {
        let mut out = String::from("#");
        for step in &self.0 {
            out.push('/');
            match step {
                Step::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Step::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }
}

/// Dotted form for messages: `Memory[0].CapacityMiB`.
impl fmt::Display for BodyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(k) if n == 0 => f.write_str(k)?,
                Step::Key(k) => write!(f, ".{k}")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// What is wrong with one value of the request body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Violation {
    WrongType {
        path: BodyPath,
        value: Value,
        expected: &'static str,
    },
    NotInList {
        path: BodyPath,
        value: Value,
    },
    UnknownProperty {
        path: BodyPath,
    },
}

impl Violation {
    pub(crate) fn path(&self) -> &BodyPath {
        match self {
            Self::WrongType { path, .. }
            | Self::NotInList { path, .. }
            | Self::UnknownProperty { path } => path,
        }
    }
}

impl Schema {
    fn compile(v: &Value, at: &str) -> Result<Self, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{at}: a schema must be an object"))?;
        let mut schema = Schema {
            additional_properties: true,
            ..Schema::default()
        };
        for (keyword, arg) in obj {
            match keyword.as_str() {
                "type" => {
                    let name = arg.as_str().unwrap_or_default();
                    schema.kind = Some(
                        Kind::parse(name)
                            .ok_or_else(|| format!("{at}/type: unsupported type {arg}"))?,
                    );
                }
                "enum" => {
                    let values = arg
                        .as_array()
                        .ok_or_else(|| format!("{at}/enum: must be an array"))?;
                    schema.allowed = Some(values.clone());
                }
                "properties" => {
                    let props = arg
                        .as_object()
                        .ok_or_else(|| format!("{at}/properties: must be an object"))?;
                    for (name, sub) in props {
                        let sub = Schema::compile(sub, &format!("{at}/properties/{name}"))?;
                        schema.properties.insert(name.clone(), sub);
                    }
                }
                "additionalProperties" => {
                    schema.additional_properties = arg.as_bool().ok_or_else(|| {
                        format!("{at}/additionalProperties: only true or false is supported")
                    })?;
                }
                "items" => {
                    let item = match arg {
                        Value::Array(tuple) if tuple.len() == 1 => &tuple[0],
                        Value::Array(_) => {
                            return Err(format!(
                                "{at}/items: only a one-element tuple is supported"
                            ));
                        }
                        other => other,
                    };
                    schema.items = Some(Box::new(Schema::compile(item, &format!("{at}/items"))?));
                }
                // Without `items` every element is an "additional" one: check them all.
                "additionalItems" if !obj.contains_key("items") => {
                    schema.items = Some(Box::new(Schema::compile(
                        arg,
                        &format!("{at}/additionalItems"),
                    )?));
                }
                other => return Err(format!("{at}: unsupported keyword {other:?}")),
            }
        }
        Ok(schema)
    }

    fn check(&self, v: &Value, path: &mut Vec<Step>, out: &mut Vec<Violation>) {
        if let Some(kind) = self.kind
            && !kind.accepts(v)
        {
            out.push(Violation::WrongType {
                path: BodyPath(path.clone()),
                value: v.clone(),
                expected: kind.name(),
            });
            return;
        }
        if let Some(allowed) = &self.allowed
            && !allowed.contains(v)
        {
            out.push(Violation::NotInList {
                path: BodyPath(path.clone()),
                value: v.clone(),
            });
        }
        match v {
            Value::Object(map) => {
                for (key, value) in map {
                    path.push(Step::Key(key.clone()));
                    match self.properties.get(key) {
                        Some(sub) => sub.check(value, path, out),
                        None if !self.additional_properties => {
                            out.push(Violation::UnknownProperty {
                                path: BodyPath(path.clone()),
                            });
                        }
                        None => {}
                    }
                    path.pop();
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = &self.items {
                    for (i, item) in items.iter().enumerate() {
                        path.push(Step::Index(i));
                        item_schema.check(item, path, out);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
    }
}

/// The whole Allocate body schema of one version: the file's parts under their body fields,
/// plus `Name`, `Description` and `Oem`; nothing else is accepted.
fn allocate_body_schema(file: &str) -> Result<Value, String> {
    let parts: Map<String, Value> =
        serde_json::from_str(file).map_err(|e| format!("schema file is not JSON: {e}"))?;
    if let Some(unknown) = parts
        .keys()
        .find(|k| !PARTS.iter().any(|(_, part)| part == k))
    {
        return Err(format!("schema file has an unknown part {unknown:?}"));
    }
    let mut properties = Map::new();
    properties.insert("Name".into(), json!({"type": "string"}));
    properties.insert("Description".into(), json!({"type": "string"}));
    properties.insert("Oem".into(), json!({"type": "object"}));
    for (field, part) in PARTS {
        if let Some(schema) = parts.get(part) {
            properties.insert(field.into(), schema.clone());
        }
    }
    Ok(json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    }))
}

fn compile_version(file: &str) -> Result<Schema, String> {
    Schema::compile(&allocate_body_schema(file)?, "#")
}

static SCHEMAS: LazyLock<[Result<Schema, String>; 3]> =
    LazyLock::new(|| [V2_1, V2_2, V2_3].map(compile_version));

/// Every violation of the version's Allocate schema in `body`, in document order. `Err` means
/// the embedded schema itself is unusable (a bug of this crate, reported as a 500).
pub(crate) fn validate_allocate(
    version: RsdVersion,
    body: &Value,
) -> Result<Vec<Violation>, String> {
    let slot = match version {
        RsdVersion::V2_1 => 0,
        RsdVersion::V2_2 => 1,
        RsdVersion::V2_3 => 2,
    };
    let schema = SCHEMAS[slot].as_ref().map_err(Clone::clone)?;
    let mut out = Vec::new();
    schema.check(body, &mut Vec::new(), &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_schema_compiles() {
        for v in RsdVersion::ALL {
            assert_eq!(validate_allocate(v, &json!({})).unwrap(), vec![]);
        }
    }

    #[test]
    fn the_rsd_lib_example_body_is_valid() {
        let body = json!({
            "Name": "test",
            "Description": "this is a test node",
            "Processors": [{"TotalCores": 4, "Oem": {"Brand": "E7", "Capabilities": ["sse"]}}],
            "Memory": [{"CapacityMiB": 8000}],
            "TotalSystemCoreCount": 8,
            "TotalSystemMemoryMiB": 16000
        });
        for v in RsdVersion::ALL {
            assert_eq!(validate_allocate(v, &body).unwrap(), vec![], "{v}");
        }
    }

    #[test]
    fn a_string_where_a_number_belongs_is_named_by_path() {
        let body = json!({"Memory": [{"CapacityMiB": 8000}, {"CapacityMiB": "8000"}]});
        let found = validate_allocate(RsdVersion::V2_3, &body).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(matches!(
            &found[0],
            Violation::WrongType {
                expected: "number",
                ..
            }
        ));
        assert_eq!(found[0].path().pointer(), "#/Memory/1/CapacityMiB");
        assert_eq!(found[0].path().to_string(), "Memory[1].CapacityMiB");
    }

    #[test]
    fn enums_unknown_properties_and_versions() {
        let body = json!({
            "Processors": [{"InstructionSet": "Z80", "Cores": 4}],
            "LocalDrives": [{"Type": "Tape"}],
            "TotalSystemCoreCount": "8"
        });
        let found = validate_allocate(RsdVersion::V2_1, &body).unwrap();
        let pointers: Vec<String> = found.iter().map(|v| v.path().pointer()).collect();
        assert_eq!(
            pointers,
            [
                "#/LocalDrives/0/Type",
                "#/Processors/0/Cores",
                "#/Processors/0/InstructionSet",
                "#/TotalSystemCoreCount"
            ]
        );
        // Security exists from 2.2 on; 2.1 does not know it.
        let security = json!({"Security": {"TpmPresent": true}});
        assert!(matches!(
            validate_allocate(RsdVersion::V2_1, &security).unwrap()[..],
            [Violation::UnknownProperty { .. }]
        ));
        assert_eq!(
            validate_allocate(RsdVersion::V2_2, &security).unwrap(),
            vec![]
        );
        // Brand "Gold" is valid from 2.2 on.
        let gold = json!({"Processors": [{"Oem": {"Brand": "Gold"}}]});
        assert_eq!(validate_allocate(RsdVersion::V2_1, &gold).unwrap().len(), 1);
        assert_eq!(validate_allocate(RsdVersion::V2_2, &gold).unwrap(), vec![]);
    }

    #[test]
    fn vlan_entries_are_checked() {
        let body = json!({"EthernetInterfaces": [{"VLANs": [{"VLANId": "10", "Tagged": true}]}]});
        let found = validate_allocate(RsdVersion::V2_3, &body).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].path().pointer(),
            "#/EthernetInterfaces/0/VLANs/0/VLANId"
        );
    }

    #[test]
    fn unsupported_keywords_are_refused() {
        let err = Schema::compile(&json!({"type": "string", "pattern": "^a"}), "#").unwrap_err();
        assert!(err.contains("pattern"), "{err}");
        let err = allocate_body_schema(r#"{"gpu_req_schema": {}}"#).unwrap_err();
        assert!(err.contains("gpu_req_schema"), "{err}");
    }
}
