//! Object stores: tables and files read from S3-compatible stores (`s3://BUCKET/…` in
//! SQL: `SELECT * FROM 's3://bucket/events/'`, `CREATE EXTERNAL TABLE … LOCATION
//! 's3://…'`), by the client and by every machine of a cluster.
//!
//! A bucket's store is made when first used, from the environment as the AWS tools
//! read it: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ENDPOINT` (an S3-compatible server such
//! as MinIO), `AWS_ALLOW_HTTP=true` for a server without TLS.
//!
//! Stores are for reading. What leadql writes atomically (the workspace, exports, run
//! state, models) goes to a filesystem path, and an object-store URL there is refused
//! ([`refuse_url`]): an object store has no rename that could make a write atomic.

use std::sync::Arc;

use dashmap::DashMap;
use datafusion::common::{Result, exec_datafusion_err};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use url::Url;

use crate::error::Error;

/// DataFusion's registry (the local filesystem), plus an S3 store per bucket made
/// from the environment on first use.
#[derive(Debug, Default)]
pub struct ObjectStores {
    local: DefaultObjectStoreRegistry,
    buckets: DashMap<String, Arc<dyn ObjectStore>>,
}

impl ObjectStores {
    /// The registry every session and cluster machine of leadql uses.
    pub fn new() -> Arc<Self> {
        Arc::new(ObjectStores::default())
    }
}

impl ObjectStoreRegistry for ObjectStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        if url.scheme() == "s3" {
            return self
                .buckets
                .insert(url.host_str().unwrap_or_default().to_string(), store);
        }
        self.local.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if url.scheme() == "s3" {
            let bucket = url.host_str().unwrap_or_default();
            return self
                .buckets
                .remove(bucket)
                .map(|(_, s)| s)
                .ok_or_else(|| exec_datafusion_err!("no store for s3://{bucket}"));
        }
        self.local.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if url.scheme() != "s3" {
            return self.local.get_store(url);
        }
        let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or_else(|| {
            exec_datafusion_err!("{url}: an s3:// URL names a bucket: s3://BUCKET/PATH")
        })?;
        if let Some(store) = self.buckets.get(bucket) {
            return Ok(store.clone());
        }
        let store: Arc<dyn ObjectStore> = Arc::new(
            AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| exec_datafusion_err!("s3://{bucket}: {e} (credentials and endpoint come from AWS_* environment variables)"))?,
        );
        self.buckets.insert(bucket.to_string(), store.clone());
        Ok(store)
    }
}

/// An error unless `path` (the value of argument `arg`) is a filesystem path: leadql
/// writes there atomically, which an object store (`s3://…`, any `SCHEME://`) cannot
/// give.
pub fn refuse_url(arg: &str, path: &std::path::Path) -> crate::error::Result<()> {
    let text = path.to_string_lossy();
    if let Some((scheme, _)) = text.split_once("://")
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err(Error::Argument {
            arg: arg.to_string(),
            reason: format!(
                "{text} is an object-store URL; {arg} takes a filesystem path (leadql writes it atomically, which an object store cannot do; for a cluster, use a filesystem all machines share). Object stores are for reading: SELECT … FROM '{scheme}://…'"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_refused_where_leadql_writes() {
        assert!(refuse_url("--out", std::path::Path::new("out/x.parquet")).is_ok());
        assert!(refuse_url("--out", std::path::Path::new("/tmp/a:b//c")).is_ok());
        let e = refuse_url("--out", std::path::Path::new("s3://bucket/x.parquet"))
            .expect_err("an object store");
        assert!(
            e.to_string()
                .contains("s3://bucket/x.parquet is an object-store URL"),
            "{e}"
        );
    }

    #[test]
    fn s3_urls_name_a_bucket() {
        let stores = ObjectStores::new();
        let url = Url::parse("s3:///x").expect("url");
        let e = stores.get_store(&url).expect_err("no bucket");
        assert!(e.to_string().contains("names a bucket"), "{e}");
        let file = Url::parse("file:///tmp").expect("url");
        assert!(
            stores.get_store(&file).is_ok(),
            "the local filesystem is there"
        );
    }
}
