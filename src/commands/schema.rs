//! `leadql schema`: prints the workspace schema reference (the body of
//! data/README.md) as Markdown.

use crate::error::Result;

/// Runs `leadql schema`.
pub fn execute() -> Result<()> {
    print!("{}", crate::schema::markdown());
    Ok(())
}
