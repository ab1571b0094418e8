//! stub
pub fn routes() -> Vec<rocket::Route> {
    vec![]
}
