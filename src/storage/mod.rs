//! Encrypted object storage. Every object gets its own random key; the data are encrypted in
//! 64 KiB chunks with AES-256-GCM in the STREAM construction (so memory stays flat and a
//! truncated, reordered or altered chunk fails loudly); the object key is wrapped by the master
//! key from the configuration. Two back-ends keep the encrypted bytes: the local disk under
//! `STORAGE_DIR` (objects are written to `tmp/` and renamed into `objects/` only when complete,
//! so a crash never leaves a half object in place; `tmp/` is emptied at start) and, with the
//! `s3` feature, an S3-compatible object store (an object becomes visible only when its upload
//! completes; see `s3.rs`).

mod part;
#[cfg(feature = "s3")]
pub mod s3;

pub use part::{Appended, HashState};

use aes_gcm::aead::stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::fs::File;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};

/// Plaintext bytes per encrypted chunk.
pub const CHUNK: usize = 64 * 1024;
/// Bytes per read or write of a local object file: each one is a trip to tokio's blocking pool,
/// so sixteen chunks go at a time rather than one.
const IO_BUFFER: usize = 1024 * 1024;
const TAG: usize = 16;
const MAGIC: &[u8; 4] = b"HDS1";
const WRAP_NONCE: usize = 12;
const WRAPPED_KEY: usize = 32 + TAG;
const STREAM_NONCE: usize = 7;
const HEADER: usize = MAGIC.len() + WRAP_NONCE + WRAPPED_KEY + STREAM_NONCE;

/// What can go wrong with stored objects.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("the object is larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("no such object")]
    NotFound,
    #[error("the object failed its integrity check (wrong master key or tampered data)")]
    Integrity,
}

/// A stored object's facts.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the plaintext.
    pub sha256: String,
    /// The first bytes of the plaintext (for content sniffing).
    pub head: Vec<u8>,
}

/// Where the encrypted bytes live.
#[derive(Clone)]
enum Backend {
    /// Files under `STORAGE_DIR`.
    Local,
    /// An S3-compatible bucket.
    #[cfg(feature = "s3")]
    S3(s3::Bucket),
}

/// The encrypted object store (local disk under `STORAGE_DIR`, or S3-compatible).
#[derive(Clone)]
pub struct Storage {
    root: PathBuf,
    master: Key<Aes256Gcm>,
    backend: Backend,
}

/// A readable stream of stored (encrypted) bytes.
type RawReader = Box<dyn AsyncRead + Send + Unpin>;

/// Reads until `buf` is full or the reader ends; returns the bytes read.
async fn fill<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let read = reader.read(&mut buf[n..]).await?;
        if read == 0 {
            break;
        }
        n += read;
    }
    Ok(n)
}

/// Removes a file; one already gone (another instance, an earlier attempt) is not an error.
async fn remove_if_there(path: &Path) -> std::io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes the files of `dir` not modified for `age`.
async fn remove_stale(dir: &Path, age: std::time::Duration) -> Result<usize, StorageError> {
    let mut removed = 0;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        // Another instance sharing the folder may finish (rename) or remove a file meanwhile.
        let meta = match entry.metadata().await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            meta => meta?,
        };
        let stale = meta.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|e| e >= age);
        if meta.is_file() && stale {
            remove_if_there(&entry.path()).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn valid_key(key: &str) -> bool {
    key.len() == 36 && key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

impl Storage {
    /// Opens (and creates) the store, removing half-written objects left by a crash: those not
    /// written to for a day. Younger ones may be uploads in progress on another instance that
    /// shares the folder (an upload that stalls is given up long before: `UPLOAD_IDLE_SECONDS`
    /// is at most an hour).
    pub async fn open(root: &Path, master_key: [u8; 32]) -> Result<Storage, StorageError> {
        tokio::fs::create_dir_all(root.join("objects")).await?;
        let tmp = root.join("tmp");
        tokio::fs::create_dir_all(&tmp).await?;
        remove_stale(&tmp, std::time::Duration::from_secs(24 * 3600)).await?;
        Ok(Storage { root: root.to_path_buf(), master: Key::<Aes256Gcm>::from(master_key), backend: Backend::Local })
    }

    /// Opens an S3-compatible bucket (checking that it answers); resumable uploads are spooled
    /// under `spool` until they are complete.
    #[cfg(feature = "s3")]
    pub async fn open_s3(
        settings: &s3::S3Settings,
        master_key: [u8; 32],
        spool: &Path,
    ) -> Result<Storage, StorageError> {
        let bucket = s3::Bucket::connect(settings).await?;
        Ok(Storage {
            root: spool.to_path_buf(),
            master: Key::<Aes256Gcm>::from(master_key),
            backend: Backend::S3(bucket),
        })
    }

    /// Which back-end holds the bytes (`local` or `s3`), for logs.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Local => "local",
            #[cfg(feature = "s3")]
            Backend::S3(_) => "s3",
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join("objects").join(&key[..2]).join(key)
    }

    /// Where an object's bytes are written until it is complete (then renamed to [`Self::path`]).
    fn writing_path(&self, key: &str) -> PathBuf {
        self.root.join("tmp").join(format!("{key}.part"))
    }

    /// Streams `reader` into a new encrypted object, refusing more than `max_size` bytes.
    pub async fn put<R: AsyncRead + Unpin>(&self, reader: R, max_size: u64) -> Result<StoredObject, StorageError> {
        self.put_as(&Storage::new_key(), reader, max_size).await
    }

    /// A fresh object key, for callers that record the key before the bytes arrive.
    pub fn new_key() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// Streams `reader` into a new encrypted object under `key` (from [`Storage::new_key`]).
    pub async fn put_as<R: AsyncRead + Unpin>(
        &self,
        key: &str,
        mut reader: R,
        max_size: u64,
    ) -> Result<StoredObject, StorageError> {
        if !valid_key(key) {
            return Err(StorageError::NotFound);
        }
        let key = key.to_string();
        let (size, sha256, head) = match &self.backend {
            Backend::Local => {
                let tmp_path = self.writing_path(&key);
                let result = async {
                    let mut out = BufWriter::with_capacity(IO_BUFFER, File::create(&tmp_path).await?);
                    let facts = self.write(&mut reader, &mut out, max_size).await?;
                    out.get_mut().sync_all().await?;
                    Ok::<_, StorageError>(facts)
                }
                .await;
                match result {
                    Ok(facts) => {
                        let final_path = self.path(&key);
                        tokio::fs::create_dir_all(final_path.parent().expect("objects/xx")).await?;
                        tokio::fs::rename(&tmp_path, &final_path).await?;
                        facts
                    }
                    Err(e) => {
                        let _ = tokio::fs::remove_file(&tmp_path).await;
                        return Err(e);
                    }
                }
            }
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => {
                let mut out = bucket.writer(&key);
                match self.write(&mut reader, &mut out, max_size).await {
                    Ok(facts) => {
                        out.shutdown().await?;
                        facts
                    }
                    Err(e) => {
                        let _ = out.abort().await;
                        return Err(e);
                    }
                }
            }
        };
        Ok(StoredObject { key, size, sha256, head })
    }

    async fn write<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
        &self,
        reader: &mut R,
        out: &mut W,
        max_size: u64,
    ) -> Result<(u64, String, Vec<u8>), StorageError> {
        let (file_key, stream_nonce) = self.write_header(out).await?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&file_key));
        let mut encryptor = EncryptorBE32::from_aead(cipher, stream_nonce.as_slice().into());
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut head = Vec::new();
        let mut current = vec![0u8; CHUNK];
        let mut next = vec![0u8; CHUNK];
        let mut current_len = fill(reader, &mut current).await?;
        loop {
            size += current_len as u64;
            if size > max_size {
                return Err(StorageError::TooLarge(max_size));
            }
            let chunk = &current[..current_len];
            hasher.update(chunk);
            if head.is_empty() {
                head = chunk[..chunk.len().min(512)].to_vec();
            }
            // A full chunk may be followed by more; look ahead to know which one is last.
            let next_len = if current_len == CHUNK { fill(reader, &mut next).await? } else { 0 };
            if next_len == 0 {
                let sealed = encryptor.encrypt_last(chunk).map_err(|_| StorageError::Integrity)?;
                out.write_all(&sealed).await?;
                break;
            }
            let sealed = encryptor.encrypt_next(chunk).map_err(|_| StorageError::Integrity)?;
            out.write_all(&sealed).await?;
            std::mem::swap(&mut current, &mut next);
            current_len = next_len;
        }
        out.flush().await?;
        Ok((size, hex::encode(hasher.finalize()), head))
    }

    /// Writes an object's header: a fresh file key wrapped by the master key, and a fresh
    /// STREAM nonce; returns both for encrypting the chunks that follow.
    async fn write_header<W: AsyncWrite + Unpin>(
        &self,
        out: &mut W,
    ) -> Result<([u8; 32], [u8; STREAM_NONCE]), StorageError> {
        let mut file_key = [0u8; 32];
        OsRng.fill_bytes(&mut file_key);
        let mut wrap_nonce = [0u8; WRAP_NONCE];
        OsRng.fill_bytes(&mut wrap_nonce);
        let mut stream_nonce = [0u8; STREAM_NONCE];
        OsRng.fill_bytes(&mut stream_nonce);
        let wrapped = Aes256Gcm::new(&self.master)
            .encrypt(Nonce::from_slice(&wrap_nonce), file_key.as_slice())
            .map_err(|_| StorageError::Integrity)?;
        out.write_all(MAGIC).await?;
        out.write_all(&wrap_nonce).await?;
        out.write_all(&wrapped).await?;
        out.write_all(&stream_nonce).await?;
        Ok((file_key, stream_nonce))
    }

    /// Reads an object's header and unwraps its file key: the chunks' cipher and STREAM nonce.
    async fn read_header<R: AsyncRead + Unpin>(
        &self,
        reader: &mut R,
    ) -> Result<(Aes256Gcm, [u8; STREAM_NONCE]), StorageError> {
        let mut header = [0u8; HEADER];
        if fill(reader, &mut header).await? != HEADER || &header[..4] != MAGIC {
            return Err(StorageError::Integrity);
        }
        let wrap_nonce = &header[4..4 + WRAP_NONCE];
        let wrapped = &header[4 + WRAP_NONCE..4 + WRAP_NONCE + WRAPPED_KEY];
        let file_key = Aes256Gcm::new(&self.master)
            .decrypt(Nonce::from_slice(wrap_nonce), wrapped)
            .map_err(|_| StorageError::Integrity)?;
        let mut stream_nonce = [0u8; STREAM_NONCE];
        stream_nonce.copy_from_slice(&header[HEADER - STREAM_NONCE..]);
        Ok((Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&file_key)), stream_nonce))
    }

    /// The stored (encrypted) bytes of an object.
    async fn raw_reader(&self, key: &str) -> Result<RawReader, StorageError> {
        Ok(match &self.backend {
            Backend::Local => match File::open(self.path(key)).await {
                Ok(f) => Box::new(BufReader::with_capacity(IO_BUFFER, f)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StorageError::NotFound),
                Err(e) => return Err(e.into()),
            },
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => bucket.reader(key).await?,
        })
    }

    /// Re-wraps an object's file key under `new_master` (master key rotation). The data stay as
    /// they are; the object is rewritten whole and replaces the old one atomically, so an
    /// interrupted rotation can simply be run again. `Ok(false)` when it was already re-wrapped.
    pub async fn rewrap(&self, key: &str, new_master: [u8; 32]) -> Result<bool, StorageError> {
        if !valid_key(key) {
            return Err(StorageError::NotFound);
        }
        let mut raw = self.raw_reader(key).await?;
        let mut header = [0u8; HEADER];
        if fill(&mut raw, &mut header).await? != HEADER || &header[..4] != MAGIC {
            return Err(StorageError::Integrity);
        }
        let new_master = Key::<Aes256Gcm>::from(new_master);
        let wrap_nonce = Nonce::clone_from_slice(&header[4..4 + WRAP_NONCE]);
        let wrapped = header[4 + WRAP_NONCE..4 + WRAP_NONCE + WRAPPED_KEY].to_vec();
        if Aes256Gcm::new(&new_master).decrypt(&wrap_nonce, wrapped.as_slice()).is_ok() {
            return Ok(false);
        }
        let file_key = Aes256Gcm::new(&self.master)
            .decrypt(&wrap_nonce, wrapped.as_slice())
            .map_err(|_| StorageError::Integrity)?;
        let mut nonce = [0u8; WRAP_NONCE];
        OsRng.fill_bytes(&mut nonce);
        let rewrapped = Aes256Gcm::new(&new_master)
            .encrypt(Nonce::from_slice(&nonce), file_key.as_slice())
            .map_err(|_| StorageError::Integrity)?;
        header[4..4 + WRAP_NONCE].copy_from_slice(&nonce);
        header[4 + WRAP_NONCE..4 + WRAP_NONCE + WRAPPED_KEY].copy_from_slice(&rewrapped);
        match &self.backend {
            Backend::Local => {
                let tmp_path = self.root.join("tmp").join(format!("{key}.rewrap"));
                let result = async {
                    let mut out = File::create(&tmp_path).await?;
                    out.write_all(&header).await?;
                    tokio::io::copy(&mut raw, &mut out).await?;
                    out.sync_all().await?;
                    tokio::fs::rename(&tmp_path, self.path(key)).await
                }
                .await;
                if result.is_err() {
                    let _ = tokio::fs::remove_file(&tmp_path).await;
                }
                result?;
            }
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => {
                let mut out = bucket.writer(key);
                let result = async {
                    out.write_all(&header).await?;
                    tokio::io::copy(&mut raw, &mut out).await?;
                    out.shutdown().await
                }
                .await;
                if result.is_err() {
                    let _ = out.abort().await;
                }
                result?;
            }
        }
        Ok(true)
    }

    /// Opens an object for decrypting reads.
    pub async fn reader(&self, key: &str) -> Result<ObjectReader, StorageError> {
        if !valid_key(key) {
            return Err(StorageError::NotFound);
        }
        let mut file = self.raw_reader(key).await?;
        let (cipher, stream_nonce) = self.read_header(&mut file).await?;
        let decryptor = DecryptorBE32::from_aead(cipher, stream_nonce.as_slice().into());
        let mut first = vec![0u8; CHUNK + TAG];
        let first_len = fill(&mut file, &mut first).await?;
        first.truncate(first_len);
        Ok(ObjectReader { file, decryptor: Some(decryptor), pending: first })
    }

    /// Reads a whole object into memory (small objects and tests only).
    pub async fn read_all(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let mut reader = self.reader(key).await?;
        let mut out = vec![];
        while let Some(chunk) = reader.next_chunk().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Deletes an object (a missing one is not an error).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        if !valid_key(key) {
            return Ok(());
        }
        match &self.backend {
            Backend::Local => {
                remove_if_there(&self.path(key)).await?;
                // With its bytes still being written, if an upload stopped half-way (a crash).
                remove_if_there(&self.writing_path(key)).await?;
                Ok(())
            }
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => bucket.delete(key).await,
        }
    }

    /// Where an object lives on disk with the local back-end (for tests that tamper with it).
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.path(key)
    }
}

/// Decrypts an object chunk by chunk.
pub struct ObjectReader {
    file: RawReader,
    decryptor: Option<DecryptorBE32<Aes256Gcm>>,
    pending: Vec<u8>,
}

impl ObjectReader {
    /// The next decrypted chunk, `None` at the end; an error if any chunk was altered,
    /// reordered or cut off.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        let Some(decryptor) = self.decryptor.as_mut() else { return Ok(None) };
        let mut following = vec![0u8; CHUNK + TAG];
        let following_len =
            if self.pending.len() == CHUNK + TAG { fill(&mut self.file, &mut following).await? } else { 0 };
        following.truncate(following_len);
        let current = std::mem::replace(&mut self.pending, following);
        if following_len == 0 {
            let decryptor = self.decryptor.take().expect("present");
            let plain = decryptor.decrypt_last(current.as_slice()).map_err(|_| StorageError::Integrity)?;
            return Ok(Some(plain));
        }
        let plain = decryptor.decrypt_next(current.as_slice()).map_err(|_| StorageError::Integrity)?;
        Ok(Some(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path(), [9u8; 32]).await.unwrap();
        (dir, s)
    }

    #[tokio::test]
    async fn round_trips_sizes_around_chunk_boundaries() {
        let (_d, s) = store().await;
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7] {
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let obj = s.put(data.as_slice(), 10 * CHUNK as u64).await.unwrap();
            assert_eq!(obj.size, size as u64);
            assert_eq!(obj.sha256, hex::encode(Sha256::digest(&data)));
            assert_eq!(s.read_all(&obj.key).await.unwrap(), data, "size {size}");
            let on_disk = std::fs::read(s.object_path(&obj.key)).unwrap();
            if size > 16 {
                assert!(!on_disk.windows(16).any(|w| w == &data[..16]), "stored encrypted");
            }
        }
    }

    /// Instances may share the folder: one starting leaves the others' uploads in progress alone
    /// and removes only what nothing has written to for a day.
    #[tokio::test]
    async fn opening_removes_only_stale_half_written_files() {
        let (dir, _s) = store().await;
        let tmp = dir.path().join("tmp");
        std::fs::write(tmp.join("in-progress.part"), b"x").unwrap();
        let old = std::fs::File::create(tmp.join("crashed.part")).unwrap();
        old.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600)).unwrap();
        drop(old);
        let _again = Storage::open(dir.path(), [9u8; 32]).await.unwrap();
        let mut left: Vec<_> = std::fs::read_dir(&tmp).unwrap().map(|e| e.unwrap().file_name()).collect();
        left.sort();
        assert_eq!(left, ["in-progress.part"]);
    }

    #[tokio::test]
    async fn refuses_too_large_and_leaves_nothing() {
        let (dir, s) = store().await;
        let data = vec![1u8; 2 * CHUNK];
        assert!(matches!(s.put(data.as_slice(), CHUNK as u64).await, Err(StorageError::TooLarge(_))));
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn rotation_rewraps_keys_and_can_run_twice() {
        let (dir, s) = store().await;
        let data = vec![4u8; 2 * CHUNK + 9];
        let obj = s.put(data.as_slice(), u64::MAX).await.unwrap();
        assert!(s.rewrap(&obj.key, [1u8; 32]).await.unwrap());
        assert!(matches!(s.read_all(&obj.key).await, Err(StorageError::Integrity)), "the old key no longer opens it");
        let rotated = Storage::open(dir.path(), [1u8; 32]).await.unwrap();
        assert_eq!(rotated.read_all(&obj.key).await.unwrap(), data);
        assert!(!s.rewrap(&obj.key, [1u8; 32]).await.unwrap(), "already done: skipped");
        let stranger = Storage::open(dir.path(), [2u8; 32]).await.unwrap();
        assert!(matches!(stranger.rewrap(&obj.key, [3u8; 32]).await, Err(StorageError::Integrity)));
    }

    #[tokio::test]
    async fn tampering_wrong_key_and_truncation_fail() {
        let (dir, s) = store().await;
        let data = vec![7u8; 2 * CHUNK + 100];
        let obj = s.put(data.as_slice(), u64::MAX).await.unwrap();
        let path = s.object_path(&obj.key);
        let original = std::fs::read(&path).unwrap();

        let mut tampered = original.clone();
        tampered[HEADER + CHUNK + 20] ^= 1;
        std::fs::write(&path, &tampered).unwrap();
        assert!(matches!(s.read_all(&obj.key).await, Err(StorageError::Integrity)));

        std::fs::write(&path, &original[..HEADER + CHUNK + TAG]).unwrap();
        assert!(
            matches!(s.read_all(&obj.key).await, Err(StorageError::Integrity)),
            "a cut-off object must not pass as complete"
        );

        std::fs::write(&path, &original).unwrap();
        let other = Storage::open(dir.path(), [8u8; 32]).await.unwrap();
        assert!(matches!(other.read_all(&obj.key).await, Err(StorageError::Integrity)));
        assert_eq!(s.read_all(&obj.key).await.unwrap(), data);
        s.delete(&obj.key).await.unwrap();
        assert!(matches!(s.read_all(&obj.key).await, Err(StorageError::NotFound)));
        assert!(matches!(s.read_all("../../etc/passwd").await, Err(StorageError::NotFound)));
    }
}
