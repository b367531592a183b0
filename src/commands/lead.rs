//! `leadql lead qualify|disqualify|reopen`: lifecycle changes of leads (given by id or
//! by a query), appended to lead_status_events; qualifying can create the account,
//! contact and opportunity ([`crate::lifecycle`]).

use clap::Subcommand;

use super::{Cli, at_or_now, data_dir, existing_workspace_lock, refuse_as_of, session_options};
use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::lifecycle::{self, Change};
use crate::session;

/// Arguments of `leadql lead`.
#[derive(Debug, clap::Args)]
pub struct LeadArgs {
    /// The change.
    #[command(subcommand)]
    action: LeadAction,
}

/// Which leads a lifecycle change applies to, when and by whom.
#[derive(Debug, clap::Args)]
pub struct LeadTargets {
    /// Lead ids.
    ids: Vec<i64>,
    /// A query whose lead_id column adds leads (bulk changes).
    #[arg(long, value_name = "SQL")]
    query: Option<String>,
    /// Instant of the change, 'YYYY-MM-DD HH:MM:SS' (default: now, UTC).
    #[arg(long, value_name = "INSTANT")]
    at: Option<String>,
    /// Seller making the change (sellers.seller_id).
    #[arg(long, value_name = "SELLER_ID")]
    actor: Option<i64>,
}

/// Lifecycle changes.
#[derive(Debug, Subcommand)]
pub enum LeadAction {
    /// Open → qualified.
    Qualify {
        /// Records to create: account (for leads without one), contact, opportunity.
        #[arg(long, value_delimiter = ',', value_name = "LIST")]
        create: Vec<String>,
        /// The leads.
        #[command(flatten)]
        targets: LeadTargets,
    },
    /// Open → disqualified.
    Disqualify {
        /// lost, cannot_contact, no_longer_interested or canceled.
        #[arg(long)]
        reason: String,
        /// The leads.
        #[command(flatten)]
        targets: LeadTargets,
    },
    /// Disqualified → open.
    Reopen {
        /// The leads.
        #[command(flatten)]
        targets: LeadTargets,
    },
}

/// Runs `leadql lead`.
pub async fn execute(cli: &Cli, args: &LeadArgs) -> Result<()> {
    refuse_as_of(cli, "lead")?;
    let (change, targets) = match &args.action {
        LeadAction::Qualify { create, targets } => {
            for c in create {
                if !["account", "contact", "opportunity"].contains(&c.as_str()) {
                    return Err(Error::Argument {
                        arg: "--create".into(),
                        reason: format!("'{c}' (expected account, contact, opportunity)"),
                    });
                }
            }
            let has = |x: &str| create.iter().any(|c| c == x);
            (
                Change::Qualify {
                    account: has("account"),
                    contact: has("contact"),
                    opportunity: has("opportunity"),
                },
                targets,
            )
        }
        LeadAction::Disqualify { reason, targets } => {
            if !lifecycle::REASONS.contains(&reason.as_str()) {
                return Err(Error::Argument {
                    arg: "--reason".into(),
                    reason: format!("'{reason}' (expected {})", lifecycle::REASONS.join(", ")),
                });
            }
            (
                Change::Disqualify {
                    reason: reason.clone(),
                },
                targets,
            )
        }
        LeadAction::Reopen { targets } => (Change::Reopen, targets),
    };
    let at = at_or_now(targets.at.as_deref())?;
    let _lock = existing_workspace_lock(&data_dir(cli))?;
    let ws = Workspace::open(&data_dir(cli))?;
    let ctx = session::open(&ws, &session_options(cli)?).await?;
    let opts = lifecycle::LifecycleOptions {
        ids: targets.ids.clone(),
        query: targets.query.clone(),
        change,
        at,
        actor: targets.actor,
    };
    let r = lifecycle::apply(&ws, &ctx, &opts).await?;
    eprintln!(
        "recorded {} status change(s); created {} account(s), {} contact(s), {} opportunity(ies)",
        r.leads, r.accounts, r.contacts, r.opportunities
    );
    Ok(())
}
