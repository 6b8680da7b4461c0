//! The Redfish service root: where a PODM's collections are, which versions and features it has,
//! and so which driver speaks to it (DESIGN.md §3, §4).

use serde_json::Value;

use crate::PodmError;
use crate::config::Driver;
use crate::doc::{at, link, rackscale_oem, text};

/// RSD API generation, from `Oem.Intel_RackScale.ApiVersion`; what differs between them is
/// read from the documents themselves, this only names what the PODM claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RsdVersion {
    /// RSD 1.x or a root without an `ApiVersion` (upstream Valence's fake PODM).
    V1,
    V2_1,
    V2_2,
    /// 2.3 and later 2.x.
    V2_3,
}

impl RsdVersion {
    pub fn parse(api_version: Option<&str>) -> Self {
        let Some(v) = api_version else {
            return RsdVersion::V1;
        };
        let mut parts = v.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        match (parts.next(), parts.next()) {
            (Some(2), Some(0 | 1)) => RsdVersion::V2_1,
            (Some(2), Some(2)) => RsdVersion::V2_2,
            (Some(2), Some(_)) => RsdVersion::V2_3,
            (Some(major), _) if major > 2 => RsdVersion::V2_3,
            _ => RsdVersion::V1,
        }
    }
}

/// How a collection may be read with its members inline (`$expand`), as the root declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expand {
    /// Not declared: every member is its own request.
    Unsupported,
    /// `$expand=.` (subordinate resources, without following `Links`).
    NoLinks,
    /// `$expand=*` (everything).
    All,
}

impl Expand {
    /// The query to append to a collection path, if any.
    pub fn query(self) -> Option<&'static str> {
        match self {
            Expand::Unsupported => None,
            Expand::NoLinks => Some("$expand=."),
            Expand::All => Some("$expand=*"),
        }
    }
}

/// What Valence reads from a service root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRoot {
    pub uuid: Option<String>,
    pub redfish_version: Option<String>,
    /// `Oem.Intel_RackScale.ApiVersion` (or the 1.x spelling).
    pub rsd_api_version: Option<String>,
    /// The root carries the RSD OEM block at all.
    pub rackscale_oem: bool,
    /// The RSD OEM block is spelled `Intel:RackScale` (RSD 1.x).
    pub rsd1_spellings: bool,
    pub systems: Option<String>,
    pub chassis: Option<String>,
    /// RSD composed nodes: top level in 2.1, under the RSD OEM block from 2.2.
    pub nodes: Option<String>,
    pub fabrics: Option<String>,
    pub composition_service: Option<String>,
    pub session_service: Option<String>,
    /// `Links.Sessions`: where sessions are created.
    pub sessions: Option<String>,
    pub expand: Expand,
}

impl ServiceRoot {
    /// Reads a service root; refuses a document that has none of the collections a PODM has.
    pub fn parse(url: &str, root: &Value) -> Result<Self, PodmError> {
        let oem = rackscale_oem(root);
        let rsd1_spellings = root
            .get("Oem")
            .and_then(|o| o.get("Intel:RackScale"))
            .is_some();
        let nodes = link(root.get("Nodes")).or_else(|| oem.and_then(|o| link(o.get("Nodes"))));
        let parsed = ServiceRoot {
            uuid: text(root.get("UUID")),
            redfish_version: text(root.get("RedfishVersion")),
            rsd_api_version: oem.and_then(|o| text(o.get("ApiVersion"))),
            rackscale_oem: oem.is_some(),
            rsd1_spellings,
            systems: link(root.get("Systems")),
            chassis: link(root.get("Chassis")),
            nodes,
            fabrics: link(root.get("Fabrics")),
            composition_service: link(root.get("CompositionService")),
            session_service: link(root.get("SessionService")),
            sessions: link(at(root, &["Links", "Sessions"])),
            expand: expand_support(root),
        };
        if parsed.systems.is_none() && parsed.nodes.is_none() && parsed.chassis.is_none() {
            return Err(PodmError::bad_response(
                url,
                "not a Redfish service root: it links no Systems, Chassis or Nodes collection",
            ));
        }
        Ok(parsed)
    }

    /// DESIGN.md §3: the RSD OEM block or a `Nodes` collection means RSD; anything else is
    /// plain Redfish (composing only through a `CompositionService`).
    pub fn detect_driver(&self) -> Driver {
        if self.rackscale_oem || self.nodes.is_some() {
            Driver::Rsd
        } else {
            Driver::Redfish
        }
    }

    pub fn rsd_version(&self) -> RsdVersion {
        RsdVersion::parse(self.rsd_api_version.as_deref())
    }

    /// The service offers Redfish sessions.
    pub fn offers_sessions(&self) -> bool {
        self.sessions.is_some() || self.session_service.is_some()
    }

    /// The required `Systems` collection.
    pub fn systems(&self, url: &str) -> Result<&str, PodmError> {
        self.systems
            .as_deref()
            .ok_or_else(|| PodmError::missing(url, "Systems (service root)"))
    }
}

/// `ProtocolFeaturesSupported.ExpandQuery`: `NoLinks` (`.`) is preferred, being smaller.
fn expand_support(root: &Value) -> Expand {
    let Some(expand) = at(root, &["ProtocolFeaturesSupported", "ExpandQuery"]) else {
        return Expand::Unsupported;
    };
    let flag = |name: &str| expand.get(name).and_then(Value::as_bool).unwrap_or(false);
    if flag("NoLinks") {
        Expand::NoLinks
    } else if flag("ExpandAll") {
        Expand::All
    } else {
        Expand::Unsupported
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(RsdVersion::parse(Some("2.1.0")), RsdVersion::V2_1);
        assert_eq!(RsdVersion::parse(Some("2.2.0")), RsdVersion::V2_2);
        assert_eq!(RsdVersion::parse(Some("2.3.0")), RsdVersion::V2_3);
        assert_eq!(RsdVersion::parse(Some("2.4")), RsdVersion::V2_3);
        assert_eq!(RsdVersion::parse(Some("1.2")), RsdVersion::V1);
        assert_eq!(RsdVersion::parse(None), RsdVersion::V1);
    }

    #[test]
    fn rsd1_spelling_and_nodes_under_oem() {
        let root = json!({
            "Systems": {"@odata.id": "/redfish/v1/Systems"},
            "Oem": {"Intel:RackScale": {"ApiVersion": "1.2.0", "Nodes": {"@odata.id": "/redfish/v1/Nodes"}}}
        });
        let r = ServiceRoot::parse("/redfish/v1", &root).unwrap();
        assert!(r.rsd1_spellings);
        assert_eq!(r.nodes.as_deref(), Some("/redfish/v1/Nodes"));
        assert_eq!(r.detect_driver(), Driver::Rsd);
        assert_eq!(r.rsd_version(), RsdVersion::V1);
    }

    #[test]
    fn not_a_root_is_refused_naming_why() {
        let err =
            ServiceRoot::parse("https://x/redfish/v1", &json!({"Name": "web page"})).unwrap_err();
        assert!(
            err.to_string().contains("not a Redfish service root"),
            "{err}"
        );
    }
}
