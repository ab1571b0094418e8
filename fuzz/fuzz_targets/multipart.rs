//! A transfer upload's multipart reader (`src/web/uploads.rs`, as `POST /transfers/<id>/files`
//! uses it): any boundary and body, delivered in chunks of any size, read as token then file
//! with the file streamed to its end. Nothing may panic; the token is never over its cap.

#![no_main]

use helsedataservice_fuzz::on_worker_stack;
use helsedataservice_fuzz::uploads::{MAX_TOKEN_BYTES, TokenThenFile};
use libfuzzer_sys::fuzz_target;
use rocket::futures::StreamExt;

fuzz_target!(|data: &[u8]| {
    // First byte: the boundary's length; second: the chunk size; then the boundary; the rest
    // is the body.
    let [len, chunk, rest @ ..] = data else { return };
    let len = (*len as usize % 71).max(1);
    if rest.len() < len {
        return;
    }
    let (boundary, body) = rest.split_at(len);
    let Ok(boundary) = std::str::from_utf8(boundary) else { return };
    let boundary = boundary.to_string();
    let chunk = (*chunk as usize).max(1);
    let sent = body.len();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
    on_worker_stack(move || {
        let runtime = rocket::tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        runtime.block_on(async move {
            let mut upload = TokenThenFile::new(rocket::futures::stream::iter(chunks), boundary);
            if let Some(token) = upload.token().await {
                assert!(token.len() as u64 <= MAX_TOKEN_BYTES, "the token is capped");
            }
            if let Some((_name, mut field)) = upload.file().await {
                let mut total = 0usize;
                while let Some(Ok(bytes)) = field.next().await {
                    total += bytes.len();
                }
                assert!(total <= sent, "no more bytes than were sent");
            }
        });
    });
});

