// Rebuild when embedded files change: translations (fluent-templates' static_loader) and
// migrations (diesel's embed_migrations) are compiled into the binary.
fn main() {
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/demo");
}
