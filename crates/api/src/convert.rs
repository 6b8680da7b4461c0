//! Database rows to API bodies. The only place where rows meet DTOs, so no row is ever
//! serialised to a client (passwords and CA bundles never leave).

use chrono::{DateTime, NaiveDateTime, Utc};
use valence_client::types;
use valence_pod_manager_api::Requirements;

use crate::error::ApiError;

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// Requirements stored by Valence itself; unreadable ones mean a damaged row.
pub fn stored_requirements(
    value: &serde_json::Value,
    owner: &str,
) -> Result<Requirements, ApiError> {
    serde_json::from_value(value.clone()).map_err(|err| {
        tracing::error!(%owner, %err, "stored requirements do not parse");
        ApiError::internal(format!("stored requirements of {owner} are unreadable"))
    })
}

pub fn flavor(row: valence_db::Flavor) -> Result<types::Flavor, ApiError> {
    let properties = stored_requirements(&row.properties, &format!("flavor {}", row.uuid))?;
    Ok(types::Flavor {
        uuid: row.uuid.to_string(),
        name: row.name,
        description: row.description,
        properties,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    })
}

pub fn node(row: valence_db::Node) -> types::Node {
    let requirements = serde_json::from_value::<Requirements>(row.requirements).ok();
    types::Node {
        uuid: row.uuid.to_string(),
        name: row.name,
        description: row.description,
        podm_id: row.podm_uuid.to_string(),
        index: row.node_index,
        resource_uri: row.resource_uri,
        state: row.state.as_str().to_owned(),
        flavor_id: row.flavor_uuid.map(|u| u.to_string()),
        managed_by: row.managed_by.as_str().to_owned(),
        requirements,
        last_error: row.last_error,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    }
}

pub fn device(row: valence_db::Device) -> types::Device {
    types::Device {
        uuid: row.uuid.to_string(),
        podm_id: row.podm_uuid.to_string(),
        node_id: row.node_uuid.map(|u| u.to_string()),
        device_type: row.device_type,
        state: row.state,
        resource_uri: row.resource_uri,
        properties: row.properties,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    }
}
