//! The S3-compatible back-end (self-hosted MinIO, Ceph, Garage … — no third-country cloud is
//! assumed). Objects are written with a buffered multipart upload that becomes visible only when
//! it completes, so an interrupted upload never leaves an object behind (abandoned multipart
//! parts are removed by the bucket's lifecycle rule; see the README).

use super::{RawReader, StorageError};
pub use crate::config::S3Settings;
use object_store::ObjectStoreExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::buffered::BufWriter;
use object_store::path::Path;
use rocket::futures::StreamExt;
use std::sync::Arc;

/// An opened bucket.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<AmazonS3>,
}

fn remote(e: object_store::Error) -> StorageError {
    match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound,
        other => StorageError::Io(std::io::Error::other(other.to_string())),
    }
}

fn location(key: &str) -> Path {
    Path::from(format!("objects/{}/{key}", &key[..2]))
}

impl Bucket {
    /// Builds the client and checks that the bucket takes writes.
    pub async fn connect(s: &S3Settings) -> Result<Bucket, StorageError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&s.url)
            .with_allow_http(s.url.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .with_bucket_name(&s.bucket)
            .with_access_key_id(&s.access_key_id)
            .with_secret_access_key(&s.secret_access_key)
            .with_region(&s.region)
            .build()
            .map_err(remote)?;
        let bucket = Bucket { store: Arc::new(store) };
        // Write and delete a probe: a missing bucket or read-only credentials fail at start-up.
        let probe = Path::from(format!("probe/{}", uuid::Uuid::new_v4()));
        bucket.store.put(&probe, object_store::PutPayload::from_static(b"probe")).await.map_err(remote)?;
        bucket.store.delete(&probe).await.map_err(remote)?;
        Ok(bucket)
    }

    /// A writer whose bytes become the object when it is shut down (and vanish when aborted).
    pub fn writer(&self, key: &str) -> BufWriter {
        BufWriter::new(self.store.clone(), location(key))
    }

    /// Streams an object's stored bytes.
    pub async fn reader(&self, key: &str) -> Result<RawReader, StorageError> {
        let got = self.store.get(&location(key)).await.map_err(remote)?;
        let stream = got.into_stream().map(|r| r.map_err(|e| std::io::Error::other(e.to_string())));
        Ok(Box::new(tokio_util::io::StreamReader::new(stream)))
    }

    /// Deletes an object (a missing one is not an error).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&location(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote(e)),
        }
    }
}
