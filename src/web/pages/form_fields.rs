//! Turns the URL-encoded fields of the application form page into the form's JSON shape:
//! dotted names are paths (`project_leader.name`, `data_sources.0.variables`), so the page and
//! the API share one model and one validator.

use rocket::form::Form;
use rocket::http::RawStr;
use serde_json::{Map, Value};

const BOOLS: [&str; 4] = ["dpia_done", "consent_based", "controller_approved", "linkage"];

/// The deepest name the form has (`data_sources.0.variables`) is three parts; a forged name
/// nested deeper is ignored, so it cannot recurse through a worker's stack.
const MAX_PARTS: usize = 4;

fn leaf(name: &str, value: &str) -> Value {
    let last = name.rsplit('.').next().unwrap_or(name);
    if BOOLS.contains(&last) {
        return match value {
            "true" | "on" | "yes" => Value::Bool(true),
            "false" | "no" => Value::Bool(false),
            _ => Value::Null,
        };
    }
    if last == "data_source_id" {
        return value.trim().parse::<i64>().map(Value::from).unwrap_or(Value::Null);
    }
    Value::String(value.to_string())
}

fn is_list(name: &str) -> bool {
    name == "members" || name.ends_with(".variables")
}

fn insert(root: &mut Value, path: &[&str], value: Value, list: bool) {
    let Some((head, rest)) = path.split_first() else { return };
    if let Ok(index) = head.parse::<usize>() {
        if !root.is_array() {
            *root = Value::Array(vec![]);
        }
        let items = root.as_array_mut().expect("array");
        // Indices come from our own page; cap them so a forged name cannot allocate much.
        if index > 200 {
            return;
        }
        while items.len() <= index {
            items.push(Value::Object(Map::new()));
        }
        return insert(&mut items[index], rest, value, list);
    }
    if !root.is_object() {
        *root = Value::Object(Map::new());
    }
    let map = root.as_object_mut().expect("object");
    if rest.is_empty() {
        if list {
            let entry = map.entry(head.to_string()).or_insert_with(|| Value::Array(vec![]));
            if let (Some(items), Value::String(s)) = (entry.as_array_mut(), &value) {
                items.extend(
                    s.split(['\n', ',', ';'])
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| Value::String(v.to_string())),
                );
            }
        } else {
            map.insert(head.to_string(), value);
        }
        return;
    }
    let child = map.entry(head.to_string()).or_insert(Value::Null);
    insert(child, rest, value, list);
}

/// The form's JSON from a URL-encoded body (ignoring the CSRF token and buttons).
pub fn to_json(body: &str) -> Value {
    let mut root = Value::Object(Map::new());
    for field in Form::values(body) {
        let name = RawStr::new(field.name.source().as_str()).url_decode_lossy().to_string();
        if matches!(name.as_str(), "csrf_token" | "version" | "action") {
            continue;
        }
        let value = RawStr::new(field.value).url_decode_lossy().to_string();
        let path: Vec<&str> = name.split('.').collect();
        if path.len() > MAX_PARTS {
            continue;
        }
        insert(&mut root, &path, leaf(&name, &value), is_list(&name));
    }
    root
}

/// The value of one plain field of the body (e.g. `version`, `action`).
pub fn field(body: &str, wanted: &str) -> Option<String> {
    Form::values(body)
        .find(|f| f.name.source().as_str() == wanted)
        .map(|f| RawStr::new(f.value).url_decode_lossy().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_names_become_the_json_shape() {
        let body = "title=Hjerte+og+kar&project_leader.name=Kari&project_leader.email=k%40x.no&data_sources.0.data_source_id=3\
                    &data_sources.0.variables=lopenr&data_sources.0.variables=kjonn&data_sources.1.data_source_id=&dpia_done=true\
                    &linkage=&members=a%40x.no%0Ab%40x.no&csrf_token=abc&version=2";
        let v = to_json(body);
        assert_eq!(
            v,
            json!({
                "title": "Hjerte og kar",
                "project_leader": {"name": "Kari", "email": "k@x.no"},
                "data_sources": [{"data_source_id": 3, "variables": ["lopenr", "kjonn"]}, {"data_source_id": null}],
                "dpia_done": true, "linkage": null, "members": ["a@x.no", "b@x.no"],
            })
        );
        assert_eq!(field(body, "version").as_deref(), Some("2"));
    }

    #[test]
    fn forged_indices_are_capped() {
        let v = to_json("data_sources.999999.selection=x");
        assert_eq!(v, json!({"data_sources": []}));
    }

    /// A forged name nested as deep as the `form` limit allows (64 KiB) must not overflow the
    /// stack of a Rocket worker (2 MiB) while the form is built, read or dropped.
    #[test]
    fn forged_deep_names_do_not_overflow_a_worker_stack() {
        let deep = format!("{}=x", "a.".repeat(32 * 1024 - 2));
        let listed = format!("{}=x", "0.".repeat(32 * 1024 - 2));
        let worker = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                for body in [deep, listed] {
                    let v = to_json(&body);
                    let _ = serde_json::from_value::<crate::domain::form::ApplicationForm>(v);
                }
            })
            .unwrap();
        worker.join().unwrap();
        assert_eq!(to_json("a.b.c.d.e=x&title=T"), json!({"title": "T"}), "too deep: ignored");
        assert_eq!(to_json("a.b.c.d=x"), json!({"a": {"b": {"c": {"d": "x"}}}}));
    }
}
