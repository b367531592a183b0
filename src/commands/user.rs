//! `leadql user`: the users of `leadql serve` (names, roles, SCRAM verifiers).
//!
//! Passwords are read from a prompt without echo, or from the first line of standard
//! input when it is not a terminal (`printf '%s\n' "$PW" | leadql user add …`); never
//! from the command line, where other users of the machine could read them.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use super::serve::default_users_file;
use crate::error::{Error, Result};
use crate::serve::users::{Role, Users, Verifier, parse_instant, valid_name};

/// Arguments of `leadql user`.
#[derive(Debug, clap::Args)]
pub struct UserArgs {
    /// The users file (default: $XDG_CONFIG_HOME/leadql/users.toml, else
    /// ~/.config/leadql/users.toml).
    #[arg(long, global = true, value_name = "FILE")]
    users: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    action: UserAction,
}

/// `leadql user` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum UserAction {
    /// Add a user, or replace its password and role.
    Add {
        /// User name (letters, digits, _ . - @).
        name: String,
        /// analyst (read-only), modeler (also trains and drops models) or admin.
        #[arg(long, value_enum)]
        role: Role,
        /// When the password stops working (as PostgreSQL's VALID UNTIL): an RFC 3339
        /// instant or a date (2027-06-30 = its start in UTC). Open connections of the
        /// user end at their next statement after it.
        #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
        valid_until: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Remove a user (its open connections end at their next statement).
    Remove {
        /// User name.
        name: String,
    },
    /// List users, roles and password expiry.
    List,
}

fn read_password(name: &str) -> Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("password for {name}: "))
            .map_err(|e| Error::Query(format!("cannot read the password: {e}")))?;
        let again = rpassword::prompt_password("again: ")
            .map_err(|e| Error::Query(format!("cannot read the password: {e}")))?;
        if first != again {
            return Err(Error::Argument {
                arg: "password".into(),
                reason: "the two entries differ".into(),
            });
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::Query(format!("cannot read the password from stdin: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if password.chars().count() < 8 {
        return Err(Error::Argument {
            arg: "password".into(),
            reason: "shorter than 8 characters".into(),
        });
    }
    Ok(password)
}

/// An exclusive lock on `FILE.lock` beside the users file, held while alive.
fn lock_users_file(path: &std::path::Path) -> Result<std::fs::File> {
    let lock_path = path.with_file_name(format!(
        ".{}.lock",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    if let Some(parent) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    file.lock().map_err(|e| Error::io(&lock_path, e))?;
    Ok(file)
}

/// Runs `leadql user`.
pub fn execute(args: &UserArgs) -> Result<()> {
    let path = args.users.clone().unwrap_or_else(default_users_file);
    // Changes by two `leadql user` commands at once take turns (a lock file beside).
    let _lock = match &args.action {
        UserAction::List => None,
        _ => Some(lock_users_file(&path)?),
    };
    let mut users = Users::load(&path)?;
    match &args.action {
        UserAction::Add {
            name,
            role,
            valid_until,
        } => {
            if !valid_name(name) {
                return Err(Error::Argument {
                    arg: "NAME".into(),
                    reason: format!(
                        "'{name}': use 1-63 letters, digits, _ . - @, starting with a letter or digit"
                    ),
                });
            }
            let password = read_password(name)?;
            users.set(name, *role, &Verifier::new(&password), *valid_until);
            users.save(&path)?;
            let until = valid_until
                .map(|t| format!(", valid until {}", t.to_rfc3339()))
                .unwrap_or_default();
            eprintln!(
                "user {name} ({}{until}) saved in {}",
                role.name(),
                path.display()
            );
        }
        UserAction::Remove { name } => {
            if !users.remove(name) {
                return Err(Error::Argument {
                    arg: "NAME".into(),
                    reason: format!("no user '{name}' in {}", path.display()),
                });
            }
            users.save(&path)?;
            eprintln!("user {name} removed from {}", path.display());
        }
        UserAction::List => {
            let now = chrono::Utc::now();
            for (name, user) in users.entries() {
                let until = match (&user.valid_until, user.expired(now)) {
                    (Some(t), true) => format!("\texpired {t}"),
                    (Some(t), false) => format!("\tvalid until {t}"),
                    (None, _) => String::new(),
                };
                println!("{name}\t{}{until}", user.role.name());
            }
        }
    }
    Ok(())
}
