//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds `migrations/`, and the
//! compiler only watches the files that existed at the last build.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
