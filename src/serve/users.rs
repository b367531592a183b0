//! The users of `leadql serve`: a TOML file of names, roles and SCRAM-SHA-256
//! verifiers, maintained by `leadql user add` / `leadql user remove`.
//!
//! No password is stored. Each user has a verifier in PostgreSQL's own format
//! (`pg_authid.rolpassword`): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`
//! (RFC 5802, RFC 7677). The server checks a client's proof against `StoredKey` and
//! signs its answer with `ServerKey`; neither lets anyone who reads the file log in.
//!
//! ```toml
//! [users.alice]
//! role = "analyst"
//! scram = "SCRAM-SHA-256$4096:…$…:…"
//! valid_until = "2027-06-30T00:00:00Z"   # optional, as PostgreSQL's VALID UNTIL
//! ```
//!
//! The file is replaced atomically and created readable by its owner only (0600). The
//! server reads it at every login, so `user add` and `user remove` take effect for the
//! next connection without a restart; and it checks it again before each statement of
//! an open connection, which ends (FATAL 28000) once its user was removed, changed or
//! passed its `valid_until`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::{digest, hmac, pbkdf2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Iterations of PBKDF2 for new verifiers (PostgreSQL's default, RFC 7677's minimum).
pub const ITERATIONS: u32 = 4096;

/// What a user may do over the wire.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read-only: queries and read-only table functions.
    Analyst,
    /// Also trains and drops models (`CREATE MODEL`, `DROP MODEL`, `train_model`).
    Modeler,
    /// Everything, including statements that write files (`COPY … TO`, `INSERT`) and,
    /// when the server allows it, reading files by path.
    Admin,
}

impl Role {
    /// The role's name as written in the users file.
    pub fn name(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Modeler => "modeler",
            Role::Admin => "admin",
        }
    }

    /// The role called `name`.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "analyst" => Some(Role::Analyst),
            "modeler" => Some(Role::Modeler),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// One user's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The role.
    pub role: Role,
    /// The SCRAM-SHA-256 verifier.
    pub scram: String,
    /// The instant the password stops being valid (RFC 3339), as PostgreSQL's
    /// `VALID UNTIL`: a login after it fails like a wrong password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

impl User {
    /// When the password expires (checked by [`Users::load`], so `None` here means
    /// never).
    pub fn expires(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.valid_until
            .as_deref()
            .and_then(|t| parse_instant(t).ok())
    }

    /// Whether the password has expired at `now`.
    pub fn expired(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.expires().is_some_and(|until| until <= now)
    }
}

/// Parses an instant as `--valid-until` and the users file take it: RFC 3339
/// (`2027-06-30T17:00:00Z`, `2027-06-30T17:00:00+02:00`) or a date (`2027-06-30`, its
/// start in UTC).
pub fn parse_instant(text: &str) -> std::result::Result<chrono::DateTime<chrono::Utc>, String> {
    let t = text.trim();
    if let Ok(instant) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(instant.with_timezone(&chrono::Utc));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        && let Some(start) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(start.and_utc());
    }
    Err(format!(
        "'{t}' is not an instant (use 2027-06-30 or 2027-06-30T17:00:00Z)"
    ))
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    users: BTreeMap<String, User>,
}

/// The users of a users file.
#[derive(Debug, Default)]
pub struct Users {
    users: BTreeMap<String, User>,
}

/// A parsed SCRAM-SHA-256 verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
}

impl Verifier {
    /// The verifier of `password` with a new random salt.
    pub fn new(password: &str) -> Verifier {
        let salt: [u8; 16] = rand::random();
        Verifier::derive(password, &salt, ITERATIONS)
    }

    /// The verifier of `password` with this salt and iteration count. The password is
    /// normalised with SASLprep first (as clients do), or used as is when it cannot be.
    pub fn derive(password: &str, salt: &[u8], iterations: u32) -> Verifier {
        let normalized = stringprep::saslprep(password)
            .map(|p| p.into_owned())
            .unwrap_or_else(|_| password.to_string());
        let mut salted = [0u8; 32];
        let rounds =
            std::num::NonZeroU32::new(iterations.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            salt,
            normalized.as_bytes(),
            &mut salted,
        );
        let key = hmac::Key::new(hmac::HMAC_SHA256, &salted);
        let client_key = hmac::sign(&key, b"Client Key");
        let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
        let server_key = hmac::sign(&key, b"Server Key");
        Verifier {
            iterations,
            salt: salt.to_vec(),
            stored_key: stored_key.as_ref().to_vec(),
            server_key: server_key.as_ref().to_vec(),
        }
    }

    /// Parses PostgreSQL's text form; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Verifier> {
        let rest = text.strip_prefix("SCRAM-SHA-256$")?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        let verifier = Verifier {
            iterations: iterations.parse().ok().filter(|n| *n > 0)?,
            salt: B64.decode(salt).ok().filter(|s| !s.is_empty())?,
            stored_key: B64.decode(stored).ok().filter(|k| k.len() == 32)?,
            server_key: B64.decode(server).ok().filter(|k| k.len() == 32)?,
        };
        Some(verifier)
    }

    /// PostgreSQL's text form.
    pub fn to_text(&self) -> String {
        format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.stored_key),
            B64.encode(&self.server_key)
        )
    }
}

/// Whether `name` may be a user name: 1–63 characters of letters, digits, `_`, `.`,
/// `-` and `@`, starting with a letter or digit (what `psql -U` and connection URLs
/// pass without quoting).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-@".contains(c))
}

impl Users {
    /// Reads `path`; a missing file has no users.
    pub fn load(path: &Path) -> Result<Users> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Users::default()),
            Err(e) => return Err(Error::io(path, e)),
        };
        Users::parse(&text, path)
    }

    /// Reads the users file's `text` (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Users> {
        let file: UsersFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .unwrap_or(1);
            Error::Query(format!(
                "{}:{line}: not a valid users file: {}",
                path.display(),
                e.message()
            ))
        })?;
        for (name, user) in &file.users {
            if !valid_name(name) {
                return Err(Error::Query(format!(
                    "{}: user '{name}': not a valid user name",
                    path.display()
                )));
            }
            if Verifier::parse(&user.scram).is_none() {
                return Err(Error::Query(format!(
                    "{}: user '{name}': 'scram' is not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$ITERATIONS:SALT$STOREDKEY:SERVERKEY)",
                    path.display()
                )));
            }
            if let Some(until) = &user.valid_until
                && let Err(reason) = parse_instant(until)
            {
                return Err(Error::Query(format!(
                    "{}: user '{name}': valid_until: {reason}",
                    path.display()
                )));
            }
        }
        Ok(Users { users: file.users })
    }

    /// The user called `name`.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.get(name)
    }

    /// A secret that stays the same while the users do (a digest of their verifiers),
    /// for the decoy verifiers of unknown users: asking for the same unknown name
    /// gives the same salt, also after a restart, like a real user's.
    pub fn secret(&self) -> [u8; 32] {
        let mut context = digest::Context::new(&digest::SHA256);
        for (name, user) in &self.users {
            context.update(name.as_bytes());
            context.update(b"\0");
            context.update(user.scram.as_bytes());
            context.update(b"\0");
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(context.finish().as_ref());
        out
    }

    /// Whether there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Names and entries, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &User)> {
        self.users.iter().map(|(n, u)| (n.as_str(), u))
    }

    /// Adds or replaces `name`; `valid_until`: when its password expires (never: None).
    pub fn set(
        &mut self,
        name: &str,
        role: Role,
        verifier: &Verifier,
        valid_until: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        self.users.insert(
            name.to_string(),
            User {
                role,
                scram: verifier.to_text(),
                valid_until: valid_until
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            },
        );
    }

    /// Removes `name`; whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.users.remove(name).is_some()
    }

    /// Writes the users to `path` atomically, readable by the owner only.
    pub fn save(&self, path: &Path) -> Result<()> {
        let file = UsersFile {
            users: self.users.clone(),
        };
        let body = toml::to_string(&file).map_err(|e| Error::Query(e.to_string()))?;
        let text = format!(
            "# leadql serve users: roles and SCRAM-SHA-256 verifiers (no passwords).\n# Maintained by `leadql user add` and `leadql user remove`.\n{body}"
        );
        write_private(path, text.as_bytes())
    }
}

/// Writes `contents` to `path` atomically with mode 0600.
fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let parent = crate::atomic::parent_of(path);
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let temp: PathBuf = crate::atomic::temp_path(path);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::io(path, e));
    }
    crate::atomic::sync_parent(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_round_trip_and_depend_on_salt_and_password() {
        let v = Verifier::derive("pencil", b"salt-1", 4096);
        assert_eq!(Verifier::parse(&v.to_text()), Some(v.clone()));
        assert_eq!(Verifier::derive("pencil", b"salt-1", 4096), v);
        assert_ne!(
            Verifier::derive("pencil", b"salt-2", 4096).stored_key,
            v.stored_key
        );
        assert_ne!(
            Verifier::derive("pencil2", b"salt-1", 4096).stored_key,
            v.stored_key
        );
        assert_ne!(Verifier::new("pencil").salt, Verifier::new("pencil").salt);
    }

    #[test]
    fn malformed_verifiers_are_refused() {
        assert!(Verifier::parse("md5abc").is_none());
        assert!(Verifier::parse("SCRAM-SHA-256$0:AAAA$AAAA:AAAA").is_none());
        assert!(
            Verifier::parse("SCRAM-SHA-256$4096:AAAA$AAAA:AAAA").is_none(),
            "short keys"
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("alice"));
        assert!(valid_name("a.b-c_d@corp"));
        assert!(!valid_name(""));
        assert!(!valid_name("-x"));
        assert!(!valid_name("a b"));
        assert!(!valid_name("../etc"));
    }

    #[test]
    fn users_round_trip_through_a_private_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("users.toml");
        let mut users = Users::load(&path).expect("missing is empty");
        assert!(users.is_empty());
        users.set("alice", Role::Analyst, &Verifier::new("s3cret"), None);
        let until = parse_instant("2027-06-30T17:00:00+02:00").expect("instant");
        users.set("bob", Role::Modeler, &Verifier::new("other"), Some(until));
        users.save(&path).expect("save");
        let mode = std::fs::metadata(&path).expect("meta").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains("s3cret"), "{text}");
        let back = Users::load(&path).expect("load");
        assert_eq!(
            back.entries().map(|(n, u)| (n, u.role)).collect::<Vec<_>>(),
            vec![("alice", Role::Analyst), ("bob", Role::Modeler)]
        );
        let bob = back.get("bob").expect("bob");
        assert_eq!(bob.valid_until.as_deref(), Some("2027-06-30T15:00:00Z"));
        assert!(!bob.expired(parse_instant("2027-06-30T14:59:59Z").expect("t")));
        assert!(bob.expired(parse_instant("2027-06-30T15:00:00Z").expect("t")));
        assert!(
            !back
                .get("alice")
                .expect("alice")
                .expired(chrono::Utc::now())
        );
        std::fs::write(
            &path,
            "[users.x]\nrole = \"analyst\"\nscram = \"SCRAM-SHA-256$4096:c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\nvalid_until = \"next week\"\n",
        )
        .expect("w");
        let e = Users::load(&path).expect_err("bad instant").to_string();
        assert!(
            e.contains("user 'x': valid_until: 'next week' is not an instant"),
            "{e}"
        );
        std::fs::write(&path, "[users.x]\nrole = \"analyst\"\nscram = \"plain\"\n").expect("w");
        let e = Users::load(&path).expect_err("bad verifier").to_string();
        assert!(
            e.contains("user 'x'") && e.contains("not a SCRAM-SHA-256 verifier"),
            "{e}"
        );
        std::fs::write(&path, "[users.x]\nrole = \"root\"\n").expect("w");
        let e = Users::load(&path).expect_err("bad role").to_string();
        assert!(e.contains("users.toml:2: not a valid users file"), "{e}");
    }
}
