//! `leadql lead qualify|disqualify|reopen|merge|unmerge`: lifecycle changes of leads
//! (given by id or by a query), appended to lead_status_events; qualifying can create
//! the account, contact and opportunity ([`crate::lifecycle`]); merging makes one
//! person's leads one ([`crate::merge`]).

use chrono::{DateTime, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Subcommand, ValueEnum};
use leadql_models::DisqualifyReason;

use super::{
    Cli, at_or_now, data_dir, existing_workspace_lock, instant, refuse_as_of, session_options,
};
use crate::catalog::Workspace;
use crate::error::Result;
use crate::lifecycle::{self, Change};
use crate::merge;
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
    #[arg(long, value_name = "INSTANT", value_parser = instant)]
    at: Option<DateTime<Utc>>,
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
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            value_name = "LIST",
            hide_possible_values = true
        )]
        create: Vec<Record>,
        /// The leads.
        #[command(flatten)]
        targets: LeadTargets,
    },
    /// Open → disqualified.
    Disqualify {
        /// lost, cannot_contact, no_longer_interested or canceled.
        #[arg(long, value_parser = disqualify_reason(), hide_possible_values = true)]
        reason: DisqualifyReason,
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
    /// Merges duplicates into a master lead: their interactions and imports count for
    /// the master, and they are closed (disqualified, reason merged).
    Merge {
        /// The lead that stays.
        master: i64,
        /// The duplicates (and/or --query).
        #[command(flatten)]
        targets: LeadTargets,
    },
    /// Takes merged leads out of their master, restoring the status each had.
    Unmerge {
        /// The merged leads.
        #[command(flatten)]
        targets: LeadTargets,
    },
}

/// A record `lead qualify --create` makes for each lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Record {
    /// An account, for leads without one.
    Account,
    /// A contact.
    Contact,
    /// An open opportunity.
    Opportunity,
}

/// The reasons of [`DisqualifyReason`], by their stored spelling.
fn disqualify_reason() -> impl TypedValueParser<Value = DisqualifyReason> {
    PossibleValuesParser::new(DisqualifyReason::ALL.iter().map(|r| r.as_str()))
        .try_map(|name| name.parse::<DisqualifyReason>())
}

/// Runs `leadql lead`.
pub async fn execute(cli: &Cli, args: &LeadArgs) -> Result<()> {
    refuse_as_of(cli, "lead")?;
    match &args.action {
        LeadAction::Merge { master, targets } => return merge(cli, Some(*master), targets).await,
        LeadAction::Unmerge { targets } => return merge(cli, None, targets).await,
        _ => {}
    }
    let (change, targets) = match &args.action {
        LeadAction::Qualify { create, targets } => (
            Change::Qualify {
                account: create.contains(&Record::Account),
                contact: create.contains(&Record::Contact),
                opportunity: create.contains(&Record::Opportunity),
            },
            targets,
        ),
        LeadAction::Disqualify { reason, targets } => {
            (Change::Disqualify { reason: *reason }, targets)
        }
        LeadAction::Reopen { targets } => (Change::Reopen, targets),
        LeadAction::Merge { .. } | LeadAction::Unmerge { .. } => unreachable!("handled above"),
    };
    let at = at_or_now(targets.at);
    let _lock = existing_workspace_lock(&data_dir(cli))?;
    let ws = Workspace::open(&data_dir(cli))?;
    let ctx = session::open(&ws, &session_options(cli)).await?;
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

/// `lead merge MASTER …` (with a master) or `lead unmerge …` (without).
async fn merge(cli: &Cli, master: Option<i64>, targets: &LeadTargets) -> Result<()> {
    let at = at_or_now(targets.at);
    let _lock = existing_workspace_lock(&data_dir(cli))?;
    let ws = Workspace::open(&data_dir(cli))?;
    let ctx = session::open(&ws, &session_options(cli)).await?;
    match master {
        Some(master) => {
            let opts = merge::MergeOptions {
                master,
                duplicates: targets.ids.clone(),
                query: targets.query.clone(),
                at,
                actor: targets.actor,
            };
            let n = merge::merge(&ws, &ctx, &opts).await?;
            eprintln!("merged {n} lead(s) into lead {master}");
        }
        None => {
            let opts = merge::UnmergeOptions {
                duplicates: targets.ids.clone(),
                query: targets.query.clone(),
                at,
                actor: targets.actor,
            };
            let n = merge::unmerge(&ws, &ctx, &opts).await?;
            eprintln!("unmerged {n} lead(s)");
        }
    }
    Ok(())
}
