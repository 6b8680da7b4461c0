//! Reading a whole Redfish collection: following `Members@odata.nextLink`, bounded and loop-safe.

use std::collections::HashSet;

use http::Method;
use serde::Deserialize;

use crate::client::{PodmClient, decode, resolve_on_origin};
use crate::error::Error;

#[derive(Deserialize)]
struct CollectionPage {
    #[serde(rename = "Members")]
    members: Vec<MemberLink>,
    #[serde(rename = "Members@odata.nextLink", default)]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct MemberLink {
    #[serde(rename = "@odata.id")]
    odata_id: String,
}

impl PodmClient {
    /// The `@odata.id` of every member of a collection, across all its pages, in order.
    /// Each page is one request with its own deadline; at most `max_pages` pages are read.
    pub async fn collection_members(&self, path: &str) -> Result<Vec<String>, Error> {
        let inner = self.inner();
        let first = self.url_for(path)?;
        let mut page_url = first.clone();
        let mut seen = HashSet::new();
        let mut members = Vec::new();
        for _ in 0..inner.max_pages {
            if !seen.insert(page_url.clone()) {
                return Err(Error::PageLoop {
                    url: page_url.to_string(),
                });
            }
            let response = inner.execute(Method::GET, &page_url, None).await?;
            let page: CollectionPage = decode(&response.url, &response.body)?;
            members.extend(page.members.into_iter().map(|m| m.odata_id));
            match page.next_link {
                Some(next) => page_url = resolve_on_origin(&page_url, &next)?,
                None => return Ok(members),
            }
        }
        Err(Error::TooManyPages {
            url: first.to_string(),
            limit: inner.max_pages,
        })
    }
}
