// Rebuild when embedded files change: translations (fluent-templates' static_loader),
// migrations (diesel's embed_migrations), templates and static files (include_dir) are compiled
// into the binary.
fn main() {
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=src/demo");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=static");
}
