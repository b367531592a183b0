//! Prints the SQL reference generated from the catalogue, the text of
//! `docs/functions.md`:
//!
//! ```sh
//! cargo run -q -p leadql-udfs --example functions_md > docs/functions.md
//! ```

fn main() {
    print!("{}", leadql_udfs::catalogue::markdown());
}
