//! The OpenAPI document at `/api/openapi.json` describes exactly the mounted `/api` routes: a
//! route without a `#[utoipa::path]` annotation (or not listed in its module's `Doc`) fails
//! here, and so does a documented operation that no route serves.

use crate::common::TestApp;
use rocket::http::Status;
use std::collections::BTreeSet;

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

/// A Rocket path (`/api/x/<id>/<rest..>`) in OpenAPI form (`/api/x/{id}/{rest}`).
fn openapi_path(rocket_path: &str) -> String {
    rocket_path
        .split('/')
        .map(|seg| match seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
            Some(name) => format!("{{{}}}", name.trim_end_matches("..")),
            None => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[rocket::async_test]
async fn the_document_lists_every_api_route_and_nothing_else() {
    let app = TestApp::new().await;
    let (status, doc) = app.get_json("/api/openapi.json", None).await;
    assert_eq!(status, Status::Ok);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mounted: BTreeSet<(String, String)> = app
        .client
        .rocket()
        .routes()
        .filter(|r| r.uri.path().starts_with("/api/"))
        .map(|r| (r.method.as_str().to_uppercase(), openapi_path(r.uri.path())))
        .collect();
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        undocumented.is_empty(),
        "routes without an OpenAPI annotation (add #[utoipa::path] and list them in the module's Doc; README \"OpenAPI\"): {undocumented:?}"
    );
    assert!(unserved.is_empty(), "documented operations no route serves: {unserved:?}");
    assert!(mounted.len() > 40, "{}", mounted.len());
}

#[rocket::async_test]
async fn every_operation_declares_its_path_parameters_errors_and_security() {
    let app = TestApp::new().await;
    let (_, doc) = app.get_json("/api/openapi.json", None).await;
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let what = format!("{method} {path}");
            let params: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            let in_path: BTreeSet<&str> =
                path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
            assert_eq!(params, in_path, "{what}: path parameters");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|k| k.starts_with('2')), "{what}: a success answer");
            if path != "/api/openapi.json" {
                for code in ["400", "401", "404", "422", "503"] {
                    assert!(responses.contains_key(code), "{what}: documents {code}");
                }
            }
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let public = [
                "/api/auth/token",
                "/api/register",
                "/api/organisations",
                "/api/data-sources",
                "/api/data-sources/{key}",
                "/api/data-sources/{id}/terms",
                "/api/price-list",
                "/api/statistics",
                "/api/projects",
                "/api/search/catalogue",
                "/api/openapi.json",
            ];
            let expect_public = public.contains(&path.as_str()) && method == "get"
                || ["/api/auth/token", "/api/register"].contains(&path.as_str()) && method == "post"
                // tus: a client asks what the service speaks before it has anything to send.
                || path == "/api/uploads" && method == "options";
            assert_eq!(secured, !expect_public, "{what}: bearer security");
        }
    }
}
