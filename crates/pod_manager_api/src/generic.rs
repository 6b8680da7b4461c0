//! The generic Redfish driver (`driver = redfish`): any Redfish service, RSD or not. Lists and
//! resets systems; its composed nodes are DMTF composed systems (`SystemType: Composed`), and
//! composing needs a DMTF `CompositionService` (POST to `Systems` with `Links.ResourceBlocks`).

use async_trait::async_trait;

use crate::connection::Service;
use crate::dmtf;
use crate::doc::normalize_link;
use crate::model::{ComposedNodeSummary, DeviceSummary, RackSummary, SystemSummary};
use crate::ops;
use crate::parse;
use crate::{
    Capabilities, ComposeObserver, ComposeRequest, Driver, PodManager, PodmError, ProbeInfo,
};

const RESET: &str = "#ComputerSystem.Reset";

pub(crate) struct GenericPodm {
    pub svc: Service,
}

impl GenericPodm {
    /// A system path of this service (nodes are systems here).
    fn system_path(&self, resource_uri: &str) -> Result<String, PodmError> {
        let systems = self.svc.root.systems(&self.svc.root_url)?;
        let uri = normalize_link(resource_uri);
        let inside = uri.strip_prefix(systems).is_some_and(|rest| {
            rest.starts_with('/') && rest.len() > 1 && !rest.contains("/Actions")
        });
        if inside {
            Ok(uri)
        } else {
            Err(PodmError::NotFound { uri })
        }
    }

    /// A composed system: a physical one is never treated as a node (never deleted).
    async fn composed_system(
        &self,
        resource_uri: &str,
    ) -> Result<(String, ComposedNodeSummary), PodmError> {
        let uri = self.system_path(resource_uri)?;
        let document = self.svc.reader.get(&uri).await?;
        if !parse::is_composed_system(&document) {
            return Err(PodmError::NotFound { uri });
        }
        let node = parse::composed_system_as_node(&uri, &document);
        Ok((uri, node))
    }
}

#[async_trait]
impl PodManager for GenericPodm {
    async fn probe(&self) -> Result<ProbeInfo, PodmError> {
        let root = &self.svc.root;
        Ok(ProbeInfo {
            driver: Driver::Redfish,
            service_uuid: root.uuid.clone(),
            redfish_version: root.redfish_version.clone(),
            rsd_api_version: root.rsd_api_version.clone(),
            capabilities: Capabilities {
                compose: root.composition_service.is_some() && root.systems.is_some(),
                sessions: root.offers_sessions(),
                rsd1_spellings: root.rsd1_spellings,
                pooled_devices: root.fabrics.is_some(),
                attach_detach: false,
                expand: root.expand.query().is_some(),
            },
        })
    }

    async fn list_systems(&self) -> Result<Vec<SystemSummary>, PodmError> {
        let systems = self.svc.root.systems(&self.svc.root_url)?;
        self.svc
            .reader
            .list_systems(systems, &Default::default())
            .await
    }

    async fn get_system(&self, system_id: &str) -> Result<SystemSummary, PodmError> {
        let uri = self.svc.system_uri(system_id)?;
        self.svc
            .reader
            .system_summary(&uri, &Default::default())
            .await
    }

    async fn list_nodes(&self) -> Result<Vec<ComposedNodeSummary>, PodmError> {
        let systems = self.svc.root.systems(&self.svc.root_url)?;
        let documents = self.svc.reader.collection(systems).await?;
        Ok(documents
            .iter()
            .filter(|(_, v)| parse::is_composed_system(v))
            .map(|(uri, v)| parse::composed_system_as_node(uri, v))
            .collect())
    }

    async fn get_node(&self, resource_uri: &str) -> Result<ComposedNodeSummary, PodmError> {
        Ok(self.composed_system(resource_uri).await?.1)
    }

    async fn compose(
        &self,
        request: &ComposeRequest,
        observer: &dyn ComposeObserver,
    ) -> Result<ComposedNodeSummary, PodmError> {
        let Some(composition) = self.svc.root.composition_service.as_deref() else {
            return Err(PodmError::unsupported(
                "composition: the service has no CompositionService",
            ));
        };
        let systems = self.svc.root.systems(&self.svc.root_url)?;
        dmtf::compose(&self.svc, composition, systems, request, observer).await
    }

    async fn delete_node(&self, resource_uri: &str) -> Result<(), PodmError> {
        let (uri, _) = self.composed_system(resource_uri).await?;
        self.svc.reader.client.delete(&uri).await?;
        Ok(())
    }

    async fn reset_node(&self, resource_uri: &str, reset_type: &str) -> Result<(), PodmError> {
        let uri = self.system_path(resource_uri)?;
        ops::reset(&self.svc.reader, &uri, RESET, reset_type).await
    }

    async fn set_boot_source(
        &self,
        resource_uri: &str,
        enabled: &str,
        target: &str,
    ) -> Result<(), PodmError> {
        let uri = self.system_path(resource_uri)?;
        ops::set_boot_source(&self.svc.reader, &uri, enabled, target).await
    }

    async fn list_racks(&self) -> Result<Vec<RackSummary>, PodmError> {
        ops::list_racks(&self.svc.reader, self.svc.root.chassis.as_deref()).await
    }

    async fn list_devices(&self) -> Result<Vec<DeviceSummary>, PodmError> {
        ops::list_devices(&self.svc.reader, self.svc.root.fabrics.as_deref()).await
    }
}
