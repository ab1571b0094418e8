//! The service's code that reads untrusted input without a database, compiled on its own for
//! fuzzing: the pure domain, the application form page's field parser, and the upload readers.

#[path = "../../src/domain/mod.rs"]
pub mod domain;

#[path = "../../src/web/pages/form_fields.rs"]
pub mod form_fields;

#[path = "../../src/web/uploads.rs"]
pub mod uploads;

/// Runs `f` on a thread with the stack a Rocket (tokio) worker has, 2 MiB, so input that
/// recurses too deep crashes here as it would crash the service; a panic is passed on.
pub fn on_worker_stack<F: FnOnce() + Send + 'static>(f: F) {
    let thread = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(f).expect("a thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}
