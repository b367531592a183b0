//! The start of a connection: TLS required when configured, then SCRAM-SHA-256 against
//! the users file (or no authentication with `--insecure-no-auth`), then the role.
//!
//! Errors are the ones PostgreSQL sends, so clients show what they usually show:
//!
//! | case | SQLSTATE | message |
//! |---|---|---|
//! | wrong password, unknown user, password past its `valid_until` | 28P01 | password authentication failed for user "NAME" |
//! | a statement after the user was removed, changed or expired | 28000 (FATAL) | user "NAME" was removed … connect again |
//! | plaintext while TLS is configured | 28000 | … TLS is required … |
//! | a mechanism other than SCRAM-SHA-256 | 28000 | … |
//! | a malformed SCRAM message | 08P01 | invalid SCRAM message: … |
//!
//! An unknown user goes through the whole exchange with a decoy verifier and fails at
//! the proof, like a wrong password, so a client cannot probe for user names.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, LazyLock, Weak};

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::{
    ClientInfo, ConnectionManager, PgWireConnectionState, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio::sync::Mutex;

use super::scram::{self, Exchange, ScramError};
use super::session::Connection;
use super::users::{Role, Users};

/// How clients authenticate.
#[derive(Debug, Clone)]
pub enum Auth {
    /// SCRAM-SHA-256 against the users file at this path (read at every login).
    Scram(std::path::PathBuf),
    /// No authentication: every connection is an admin (loopback addresses only).
    Insecure,
}

/// What the startup handlers of all connections share.
#[derive(Debug)]
pub struct Gate {
    /// How clients authenticate.
    pub auth: Auth,
    /// Whether plaintext connections are refused (TLS is configured).
    pub tls_required: bool,
    /// Registry of connections for cancel requests.
    pub connections: Arc<ConnectionManager>,
    /// Every connection gets the analyst role.
    pub read_only: bool,
    /// Authenticated connections by cancel key (pid, secret key).
    pub registry: std::sync::Mutex<HashMap<CancelKey, Weak<Connection>>>,
}

/// A connection's cancel key: process id and secret key.
pub type CancelKey = (i32, Vec<u8>);

/// Removes a connection from the cancel registry when the connection ends.
struct Registered {
    gate: Arc<Gate>,
    key: CancelKey,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut r) = self.gate.registry.lock() {
            r.remove(&self.key);
        }
    }
}

/// Cancel requests (psql's Ctrl-C, JDBC's `Statement.cancel`): the connection with
/// that key stops its running statement, also while its rows stream.
pub struct Canceller {
    /// The registry of connections.
    pub gate: Arc<Gate>,
}

#[async_trait]
impl CancelHandler for Canceller {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let key = (request.pid, request.secret_key.to_bytes().to_vec());
        let connection = self
            .gate
            .registry
            .lock()
            .ok()
            .and_then(|r| r.get(&key).and_then(Weak::upgrade));
        match connection {
            Some(c) => c.cancels.cancel(),
            None => eprintln!(
                "leadql serve: cancel request for an unknown connection (pid {})",
                request.pid
            ),
        }
        self.gate
            .connections
            .cancel(request.pid, &request.secret_key)
            .await;
    }
}

/// Process ids and secret keys for cancel requests: one generator for all connections.
static KEYS: LazyLock<RandomPidSecretKeyGenerator> =
    LazyLock::new(RandomPidSecretKeyGenerator::default);

enum Step {
    Start,
    SentFirst {
        exchange: Box<Exchange>,
        /// The user's entry (None: no such user, a decoy exchange).
        entry: Option<super::users::User>,
    },
}

/// One connection's startup handler.
pub struct Startup {
    gate: Arc<Gate>,
    connection: Arc<Connection>,
    step: Mutex<Step>,
    /// The server has `--max-connections` connections already: refuse this one.
    full: bool,
}

impl Startup {
    /// The handler for a new connection.
    pub fn new(gate: Arc<Gate>, connection: Arc<Connection>, full: bool) -> Startup {
        Startup {
            gate,
            connection,
            step: Mutex::new(Step::Start),
            full,
        }
    }
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message,
    )))
}

fn wrong_password(user: &str) -> PgWireError {
    fatal(
        "28P01",
        format!("password authentication failed for user \"{user}\""),
    )
}

/// Marks the connection authenticated with `role`: cancel key, registration for
/// cancel requests, and the messages that end the startup.
async fn admit<C>(
    client: &mut C,
    gate: &Arc<Gate>,
    connection: &Arc<Connection>,
    role: Role,
) -> PgWireResult<()>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let role = if gate.read_only { Role::Analyst } else { role };
    connection.authenticated(role);
    let (pid, key) = KEYS.generate(client);
    client.set_pid_and_secret_key(pid, key.clone());
    let registered = (pid, key.to_bytes().to_vec());
    if let Ok(mut r) = gate.registry.lock() {
        r.insert(registered.clone(), Arc::downgrade(connection));
    }
    client.session_extensions().insert(Registered {
        gate: gate.clone(),
        key: registered,
    });
    let (handle, guard) = gate.connections.register(pid, key);
    client.session_extensions().insert(handle);
    client.session_extensions().insert(guard);
    let mut params = DefaultServerParameterProvider::default();
    params.server_version = "16.6 (leadql)".to_string();
    finish_authentication(client, &params).await
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let user = client.metadata().get("user").cloned().unwrap_or_default();
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                if self.full {
                    return Err(fatal("53300", "sorry, too many clients already".into()));
                }
                if self.gate.tls_required && !client.is_secure() {
                    return Err(fatal(
                        "28000",
                        "this server requires TLS: connect with sslmode=require (or stronger)"
                            .into(),
                    ));
                }
                match &self.gate.auth {
                    Auth::Insecure => {
                        admit(client, &self.gate, &self.connection, Role::Admin).await
                    }
                    Auth::Scram(_) => {
                        client.set_state(PgWireConnectionState::AuthenticationInProgress);
                        client
                            .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                                vec![pgwire::api::auth::sasl::SCRAM_SHA_256_METHOD.to_string()],
                            )))
                            .await?;
                        Ok(())
                    }
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(msg) => {
                let Auth::Scram(path) = &self.gate.auth else {
                    return Err(fatal("08P01", "unexpected password message".into()));
                };
                let mut step = self.step.lock().await;
                match std::mem::replace(&mut *step, Step::Start) {
                    Step::Start => {
                        let first = msg.into_sasl_initial_response()?;
                        if first.auth_method != pgwire::api::auth::sasl::SCRAM_SHA_256_METHOD {
                            return Err(fatal(
                                "28000",
                                format!(
                                    "authentication method {} is not supported: use SCRAM-SHA-256",
                                    first.auth_method
                                ),
                            ));
                        }
                        let users = Users::load(path).map_err(|e| {
                            eprintln!("leadql serve: {e}");
                            fatal("XX000", "the server cannot read its users file".into())
                        })?;
                        let (verifier, entry) = match users.get(&user) {
                            Some(u) => match super::users::Verifier::parse(&u.scram) {
                                Some(v) => (v, Some(u.clone())),
                                None => (scram::decoy(&user, &users.secret()), None),
                            },
                            None => (scram::decoy(&user, &users.secret()), None),
                        };
                        let data = first.data.unwrap_or_default();
                        let (server_first, exchange) =
                            scram::client_first(&data, verifier, &scram_nonce())
                                .map_err(|e| scram_error(e, &user))?;
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLContinue(server_first.into_bytes().into()),
                            ))
                            .await?;
                        *step = Step::SentFirst {
                            exchange: Box::new(exchange),
                            entry,
                        };
                        Ok(())
                    }
                    Step::SentFirst { exchange, entry } => {
                        let response = msg.into_sasl_response()?;
                        let server_final = exchange
                            .client_final(&response.data)
                            .map_err(|e| scram_error(e, &user))?;
                        let Some(entry) = entry else {
                            return Err(wrong_password(&user));
                        };
                        // As PostgreSQL: an expired password fails like a wrong one
                        // (checked after the proof, so it tells nobody without the
                        // password); the server's log says why.
                        if entry.expired(chrono::Utc::now()) {
                            eprintln!(
                                "leadql serve: login of user \"{user}\" refused: its password expired at {}",
                                entry.valid_until.as_deref().unwrap_or_default()
                            );
                            return Err(wrong_password(&user));
                        }
                        let role = entry.role;
                        self.connection.logged_in(super::session::Login {
                            name: user.clone(),
                            entry,
                            file: path.clone(),
                        });
                        // Removed or changed during the exchange: refused as then.
                        match self.connection.revoked() {
                            Ok(()) => {}
                            Err(super::session::Refusal::Revoked(reason)) => {
                                eprintln!(
                                    "leadql serve: login of user \"{user}\" refused: {reason}"
                                );
                                return Err(wrong_password(&user));
                            }
                            Err(super::session::Refusal::Unconfirmed(_)) => {
                                return Err(fatal(
                                    "XX000",
                                    "the server cannot read its users file".into(),
                                ));
                            }
                        }
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLFinal(server_final.into_bytes().into()),
                            ))
                            .await?;
                        admit(client, &self.gate, &self.connection, role).await
                    }
                }
            }
            _ => Ok(()),
        }
    }
}

fn scram_error(e: ScramError, user: &str) -> PgWireError {
    match e {
        ScramError::WrongPassword => wrong_password(user),
        ScramError::Malformed(m) => fatal("08P01", m),
    }
}

/// 18 random bytes, base64: the server's part of the SCRAM nonce.
fn scram_nonce() -> String {
    use base64::Engine;
    let bytes: [u8; 18] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
