//! Rebuilds the engine when a migration is added (sqlx's `migrate!` embeds the folder, but
//! cargo only notices changes to files it already read), as sqlx's documentation advises.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
