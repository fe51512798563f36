//! The vendor templates are compiled in (include_dir); rebuild when any of them changes.
fn main() {
    println!("cargo:rerun-if-changed=provisioning-templates");
    println!("cargo:rerun-if-changed=migrations");
}
