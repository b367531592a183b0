//! `leadql shell`: the interactive SQL shell over the workspace, as known at
//! `--as-of` when given ([`crate::shell`]).

use super::{Cli, reading_workspace, session_options};
use crate::error::Result;
use crate::{session, shell};

/// Runs `leadql shell`.
pub async fn execute(cli: &Cli) -> Result<()> {
    let ws = reading_workspace(cli)?;
    let ctx = session::open(&ws, &session_options(cli)).await?;
    shell::run(&ctx, &ws).await
}
