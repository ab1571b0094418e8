//! Reading files out of `multipart/form-data` bodies: a file streamed after its CSRF token and
//! any short text fields ([`TokenThenFile`]; attachments and transfer files use it, never
//! holding a file whole in memory). This file uses only Rocket and multer, so the fuzz crate
//! compiles it as it is (`fuzz/fuzz_targets/multipart.rs`).

/// The largest CSRF token field a transfer upload may carry.
pub const MAX_TOKEN_BYTES: u64 = 1024;

/// A transfer upload: first a `csrf_token` field, then a `file` field whose bytes are read as
/// they arrive (never held whole in memory).
pub struct TokenThenFile<'r> {
    multipart: multer::Multipart<'r>,
}

impl<'r> TokenThenFile<'r> {
    /// Reads `stream` as multipart with this `boundary`; the token field is capped.
    pub fn new<S, O, E>(stream: S, boundary: String) -> Self
    where
        S: rocket::futures::Stream<Item = Result<O, E>> + Send + 'r,
        O: Into<multer::bytes::Bytes> + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'r,
    {
        let constraints = multer::Constraints::new().size_limit(
            multer::SizeLimit::new().for_field("csrf_token", MAX_TOKEN_BYTES).for_field("kind", MAX_TOKEN_BYTES),
        );
        TokenThenFile { multipart: multer::Multipart::with_constraints(stream, boundary, constraints) }
    }

    /// The token, when the first field is `csrf_token` and is text within the cap.
    pub async fn token(&mut self) -> Option<String> {
        match self.multipart.next_field().await {
            Ok(Some(f)) if f.name() == Some("csrf_token") => f.text().await.ok(),
            _ => None,
        }
    }

    /// The next field's text when it is named `name` (`kind`, capped like the token).
    pub async fn text(&mut self, name: &str) -> Option<String> {
        match self.multipart.next_field().await {
            Ok(Some(f)) if f.name() == Some(name) => f.text().await.ok(),
            _ => None,
        }
    }

    /// The next field when it is `file`: the name the browser gave it and the field to stream.
    pub async fn file(mut self) -> Option<(String, multer::Field<'r>)> {
        match self.multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                Some((field.file_name().unwrap_or_default().to_string(), field))
            }
            _ => None,
        }
    }
}
