//! Objects written in pieces over several requests, and across restarts (resumable uploads,
//! issue 25). A part lives under `uploads/` in `STORAGE_DIR` (not `tmp/`, which start-up empties)
//! already in the object format: the header with the wrapped file key, then sealed 64 KiB chunks.
//! Progress is counted in whole chunks: a piece that ends inside a chunk keeps its whole chunks,
//! and the client sends the rest again from the offset it is told, so no plaintext ever rests on
//! disk. The SHA-256 of the plaintext goes on from a 32-byte state kept beside the offset.
//! When the last chunk is sealed the part becomes an ordinary object ([`Storage::finish_part`]).

use super::{Backend, Storage};
use super::{CHUNK, HEADER, StorageError, TAG, fill, valid_key};
use aes_gcm::aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use sha2::digest::generic_array::GenericArray;
use std::io::SeekFrom;
use std::path::PathBuf;
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncRead, AsyncSeekExt, AsyncWriteExt};

/// SHA-256 part-way through a message whose length so far is a multiple of 64 bytes: the eight
/// state words, which can be stored and taken up again (FIPS 180-4 §5.3.3, §6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashState([u32; 8]);

impl Default for HashState {
    fn default() -> Self {
        HashState([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])
    }
}

impl HashState {
    /// The state as stored (32 bytes, big-endian words).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    /// A stored state; `None` unless it is 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<HashState> {
        let words: Vec<u32> =
            bytes.chunks_exact(4).map(|w| u32::from_be_bytes(w.try_into().expect("four bytes"))).collect();
        (bytes.len() == 32).then(|| HashState(words.try_into().expect("eight words")))
    }

    /// Hashes whole 64-byte blocks (`data.len()` a multiple of 64), in place.
    fn blocks(&mut self, data: &[u8]) {
        debug_assert!(data.len().is_multiple_of(64));
        for block in data.chunks_exact(64) {
            sha2::compress256(&mut self.0, std::slice::from_ref(GenericArray::from_slice(block)));
        }
    }

    /// The hex digest of a message of `total` bytes whose last `tail.len()` bytes are `tail`
    /// (everything before has gone through [`HashState::blocks`]).
    fn finish(mut self, tail: &[u8], total: u64) -> String {
        let whole = tail.len() - tail.len() % 64;
        self.blocks(&tail[..whole]);
        let mut last = tail[whole..].to_vec();
        last.push(0x80);
        while last.len() % 64 != 56 {
            last.push(0);
        }
        last.extend_from_slice(&(total * 8).to_be_bytes());
        self.blocks(&last);
        hex::encode(self.to_bytes())
    }
}

/// How far one call of [`Storage::append_part`] got.
#[derive(Debug)]
pub struct Appended {
    /// Plaintext bytes stored and synced to disk in all (a multiple of the chunk size, or the
    /// whole length).
    pub received: u64,
    /// The state to continue the checksum from.
    pub hash: HashState,
    /// The plaintext's SHA-256 once the last chunk is sealed.
    pub sha256: Option<String>,
    /// The body ended (or failed) before the budget was spent; `received` still holds.
    pub body_ended: bool,
    /// Why the body failed, when it did (a dropped connection).
    pub failure: Option<std::io::Error>,
}

impl Storage {
    fn part_path(&self, key: &str) -> PathBuf {
        self.root.join("uploads").join(format!("{key}.part"))
    }

    /// Starts a part under `key` (from [`Storage::new_key`]): its header with a fresh file key.
    pub async fn begin_part(&self, key: &str) -> Result<(), StorageError> {
        if !valid_key(key) {
            return Err(StorageError::NotFound);
        }
        tokio::fs::create_dir_all(self.root.join("uploads")).await?;
        let mut out = File::create(self.part_path(key)).await?;
        self.write_header(&mut out).await?;
        out.sync_all().await?;
        Ok(())
    }

    /// Appends up to `budget` plaintext bytes from `body` to the part `key` of an object of
    /// `length` bytes of which `received` are stored, continuing the checksum from `hash`.
    /// Bytes beyond what was stored before (a crash after writing, before the offset was
    /// recorded) are cut off first. The new bytes are synced before returning.
    pub async fn append_part<R: AsyncRead + Unpin>(
        &self,
        key: &str,
        length: u64,
        received: u64,
        hash: HashState,
        body: &mut R,
        budget: u64,
    ) -> Result<Appended, StorageError> {
        if !valid_key(key) || received > length || !received.is_multiple_of(CHUNK as u64) {
            return Err(StorageError::NotFound);
        }
        let mut file = match OpenOptions::new().read(true).write(true).open(self.part_path(key)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StorageError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let (cipher, nonce) = self.read_header(&mut file).await?;
        let stream = StreamBE32::from_aead(cipher, nonce.as_slice().into());
        let mut index = received / CHUNK as u64;
        let end = HEADER as u64 + index * (CHUNK + TAG) as u64;
        file.set_len(end).await?;
        file.seek(SeekFrom::Start(end)).await?;
        let mut file = tokio::io::BufWriter::with_capacity(super::IO_BUFFER, file);
        let last = length.saturating_sub(1) / CHUNK as u64;
        let mut done = Appended { received, hash, sha256: None, body_ended: false, failure: None };
        let mut buf = Vec::with_capacity(CHUNK + TAG);
        let mut spent = 0u64;
        while index <= last && spent < budget.max(1) {
            let want = (length - done.received).min(CHUNK as u64) as usize;
            buf.resize(want, 0);
            let got = match fill(body, &mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    done.failure = Some(e);
                    0
                }
            };
            if got < want {
                done.body_ended = true;
                break;
            }
            if index == last {
                done.sha256 = Some(done.hash.clone().finish(&buf, length));
            } else {
                done.hash.blocks(&buf);
            }
            stream.encrypt_in_place(index as u32, index == last, b"", &mut buf).map_err(|_| StorageError::Integrity)?;
            file.write_all(&buf).await?;
            done.received += want as u64;
            spent += want as u64;
            index += 1;
            if index > last {
                done.body_ended = true;
            }
        }
        file.flush().await?;
        file.get_mut().sync_data().await?;
        Ok(done)
    }

    /// Makes a part whose last chunk is sealed an ordinary object under the same key.
    pub async fn finish_part(&self, key: &str) -> Result<(), StorageError> {
        if !valid_key(key) {
            return Err(StorageError::NotFound);
        }
        let part = self.part_path(key);
        match &self.backend {
            Backend::Local => {
                let final_path = self.path(key);
                tokio::fs::create_dir_all(final_path.parent().expect("objects/xx")).await?;
                tokio::fs::rename(&part, &final_path).await?;
            }
            #[cfg(feature = "s3")]
            Backend::S3(bucket) => {
                let mut out = bucket.writer(key);
                let copied = async {
                    let mut file = File::open(&part).await?;
                    tokio::io::copy(&mut file, &mut out).await?;
                    out.shutdown().await
                }
                .await;
                if let Err(e) = copied {
                    let _ = out.abort().await;
                    return Err(e.into());
                }
                tokio::fs::remove_file(&part).await?;
            }
        }
        Ok(())
    }

    /// Removes a part (a missing one is not an error).
    pub async fn discard_part(&self, key: &str) -> Result<(), StorageError> {
        if !valid_key(key) {
            return Ok(());
        }
        Ok(super::remove_if_there(&self.part_path(key)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn a_stored_hash_state_goes_on_to_the_standard_digest() {
        for len in [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4096 + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let split = (len / 2) - (len / 2) % 64;
            let mut state = HashState::default();
            state.blocks(&data[..split]);
            let state = HashState::from_bytes(&state.to_bytes()).unwrap();
            assert_eq!(state.finish(&data[split..], len as u64), hex::encode(Sha256::digest(&data)), "{len} bytes");
        }
        assert_eq!(HashState::from_bytes(&[0u8; 31]), None);
    }

    async fn append_all(s: &Storage, key: &str, data: &[u8], pieces: &[usize]) -> Appended {
        s.begin_part(key).await.unwrap();
        let (mut received, mut hash) = (0u64, HashState::default());
        let mut at = 0;
        for &piece in pieces {
            let mut body = &data[at..(at + piece).min(data.len())];
            let done = s.append_part(key, data.len() as u64, received, hash, &mut body, u64::MAX).await.unwrap();
            if done.sha256.is_some() {
                return done;
            }
            (received, hash, at) = (done.received, done.hash, done.received as usize);
        }
        panic!("not complete")
    }

    #[tokio::test]
    async fn pieces_that_end_anywhere_make_the_same_object() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path(), [9u8; 32]).await.unwrap();
        for len in [0usize, 10, CHUNK, CHUNK + 1, 3 * CHUNK + 500] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let key = Storage::new_key();
            // Pieces that end inside chunks: the partial chunk is sent again from the offset.
            let done =
                append_all(&s, &key, &data, &[CHUNK / 2 + 3, CHUNK + 100, 2 * CHUNK, 5 * CHUNK, 5 * CHUNK]).await;
            assert_eq!(done.received, len as u64);
            assert_eq!(done.sha256.unwrap(), hex::encode(Sha256::digest(&data)));
            s.finish_part(&key).await.unwrap();
            assert_eq!(s.read_all(&key).await.unwrap(), data, "{len} bytes");
        }
    }

    #[tokio::test]
    async fn bytes_written_past_the_recorded_offset_are_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path(), [9u8; 32]).await.unwrap();
        let data: Vec<u8> = (0..3 * CHUNK).map(|i| (i % 13) as u8).collect();
        let key = Storage::new_key();
        s.begin_part(&key).await.unwrap();
        let mut first = &data[..CHUNK];
        let one = s.append_part(&key, data.len() as u64, 0, HashState::default(), &mut first, u64::MAX).await.unwrap();
        assert_eq!((one.received, one.body_ended, one.sha256.is_none()), (CHUNK as u64, true, true));
        // A second piece is written but its offset never recorded (a crash): sent again.
        let mut lost = &data[CHUNK..2 * CHUNK];
        s.append_part(&key, data.len() as u64, one.received, one.hash.clone(), &mut lost, u64::MAX).await.unwrap();
        let mut rest = &data[CHUNK..];
        let done = s.append_part(&key, data.len() as u64, one.received, one.hash, &mut rest, u64::MAX).await.unwrap();
        assert_eq!(done.sha256.unwrap(), hex::encode(Sha256::digest(&data)));
        s.finish_part(&key).await.unwrap();
        assert_eq!(s.read_all(&key).await.unwrap(), data);
        // A part under another master key cannot be continued.
        let other = Storage::open(dir.path(), [1u8; 32]).await.unwrap();
        let key = Storage::new_key();
        s.begin_part(&key).await.unwrap();
        let mut body: &[u8] = b"x";
        assert!(matches!(
            other.append_part(&key, 1, 0, HashState::default(), &mut body, 1).await,
            Err(StorageError::Integrity)
        ));
    }
}
