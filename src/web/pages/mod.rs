//! Server-rendered pages, one module per audience.

pub mod account;
pub mod admin;
pub mod applicant;
pub mod auth;
pub mod cases;
pub mod enquiries;
pub mod exports;
pub mod form_fields;
pub mod kept;
pub mod members;
pub mod notifications;
pub mod oidc;
pub mod payment;
pub mod price_lists;
pub mod public;
pub mod search;
pub mod statements;
pub mod statistics;
pub mod transfers;
pub mod webhooks;

/// Every page route.
pub fn routes() -> Vec<rocket::Route> {
    let mut routes = public::routes();
    routes.extend(auth::routes());
    routes.extend(admin::routes());
    routes.extend(applicant::routes());
    routes.extend(cases::routes());
    routes.extend(notifications::routes());
    routes.extend(statistics::routes());
    routes.extend(payment::routes());
    routes.extend(price_lists::routes());
    routes.extend(transfers::routes());
    routes.extend(account::routes());
    routes.extend(search::routes());
    routes.extend(exports::routes());
    routes.extend(webhooks::routes());
    routes.extend(oidc::routes());
    routes.extend(statements::routes());
    routes.extend(enquiries::routes());
    routes.extend(members::routes());
    routes
}
