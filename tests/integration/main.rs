//! Integration tests: the real Rocket app over `rocket::local`, each test on a fresh
//! PostgreSQL database of its own.

mod common;

mod accounts_api;
mod api_errors;
mod applicant_pages;
mod applications_api;
mod audit;
mod case_handling;
mod case_pages;
mod catalogue;
mod faults;
mod faults_upload;
mod fuzz_regressions;
mod notifications;
mod openapi;
mod pages;
mod permissions;
mod pricing;
mod startup;
mod statistics;
#[cfg(feature = "s3")]
mod storage_s3;
mod transfers;
