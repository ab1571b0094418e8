//! Integration tests: the real Rocket app over `rocket::local`, each test on a fresh
//! PostgreSQL database of its own.

mod common;

mod accounts_api;
mod api_errors;
mod applicant_pages;
mod applications_api;
mod audit;
mod browser;
mod case_handling;
mod case_pages;
mod catalogue;
mod ehf;
mod enquiries;
mod exports;
mod faults;
mod faults_upload;
mod fuzz_regressions;
mod hardening;
mod kept;
mod law;
mod members;
mod notifications;
mod oidc;
mod openapi;
mod operations;
mod pages;
mod permissions;
mod permits;
mod prepared;
mod pricing;
mod restore;
mod scale;
mod search;
mod startup;
mod statements;
mod statistics;
#[cfg(feature = "s3")]
mod storage_s3;
mod tls;
mod tokens;
mod transfers;
mod webhooks;
