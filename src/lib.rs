//! leadql: open, SQL-native lead scoring and qualification on Apache DataFusion.
//!
//! A *workspace* is a directory of Parquet table folders (`leads/`, `interactions/`, …,
//! see [`schema`]); [`catalog`] validates and registers them in a DataFusion
//! `SessionContext` built by [`session`], together with the SQL functions of the
//! `leadql-udfs` crate. [`sql`] runs statements and [`output`] writes results in
//! several formats; [`shell`] is the interactive front end and [`generate`] makes
//! realistic synthetic workspaces. [`commands`] is the command line: one module per
//! command.

pub mod atomic;
pub mod catalog;
pub mod cluster;
pub mod commands;
pub mod commit;
pub mod damaged;
pub mod error;
pub mod export;
pub mod generate;
pub mod import;
pub mod known_at;
pub mod lifecycle;
pub mod lock;
pub mod merge;
pub mod object_stores;
pub mod output;
pub mod report;
pub mod run;
pub mod schema;
pub mod serve;
pub mod session;
pub mod shell;
pub mod sql;

pub use error::{Error, Result};
