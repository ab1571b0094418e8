//! Rocket's own form parsing as the pages use it: URL-encoded and `multipart/form-data` bodies
//! into forms of the shapes the pages declare (text, numbers, booleans, lists, optional fields),
//! through Rocket's data guard with the service's limits from `Rocket.toml`. A bad body may be
//! refused (4xx) but never answered with a server error, and nothing may panic. Files are not
//! read through Rocket's forms: attachments and transfer files are streamed by
//! `src/web/uploads.rs`'s `TokenThenFile`, fuzzed by `multipart.rs`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket::figment::providers::{Format, Toml};
use rocket::form::{Form, FromForm};
use rocket::http::{ContentType, Status};
use rocket::local::blocking::Client;
use rocket::{post, routes};

/// Like the review page's submit form and the case officer's decision form.
#[derive(FromForm)]
struct Fields {
    version: i32,
    estimate_ore: i64,
    accept: bool,
    body: String,
    outcome: Option<String>,
    deadline_days: Option<u32>,
}

/// Like the price list's item rows and the webhook's event kinds.
#[derive(FromForm)]
struct Nested {
    csrf_token: String,
    events: Vec<String>,
    items: Vec<Item>,
}

#[derive(FromForm)]
struct Item {
    code: String,
    amount_ore: i64,
    hourly: bool,
}

#[post("/fields", data = "<form>")]
fn fields(form: Form<Fields>) -> String {
    format!("{}{}{}{}{:?}{:?}", form.version, form.estimate_ore, form.accept, form.body.len(), form.outcome, form.deadline_days)
}

#[post("/nested", data = "<form>")]
fn nested(form: Form<Nested>) -> String {
    let sum: i64 = form.items.iter().map(|i| i.amount_ore.wrapping_add(i.hourly as i64)).fold(0, i64::wrapping_add);
    format!("{}{}{}{}", form.csrf_token.len(), form.events.len(), form.items.iter().map(|i| i.code.len()).sum::<usize>(), sum)
}

thread_local! {
    /// libFuzzer runs every input on one thread: one client (and its runtime) for all of them.
    static CLIENT: Client = {
        let toml = concat!(env!("CARGO_MANIFEST_DIR"), "/../Rocket.toml");
        let figment = rocket::Config::figment().merge(Toml::file(toml).nested()).merge(("log_level", "off"));
        let rocket = rocket::custom(figment).mount("/", routes![fields, nested]);
        Client::untracked(rocket).expect("a rocket")
    };
}

fuzz_target!(|data: &[u8]| {
    // First byte: the route and the content type; the rest is the body.
    let [pick, body @ ..] = data else { return };
    let path = ["/fields", "/nested"][*pick as usize % 2];
    let content_type = if pick & 0x80 == 0 {
        ContentType::Form
    } else {
        ContentType::new("multipart", "form-data").with_params(("boundary", "X-BOUNDARY"))
    };
    let status = CLIENT.with(|client| client.post(path).header(content_type).body(body).dispatch().status());
    assert!(status != Status::InternalServerError, "a server error on {path}");
});
