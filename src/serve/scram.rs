//! The server's side of SCRAM-SHA-256 (RFC 5802, RFC 7677) against stored verifiers.
//!
//! pgwire's own SCRAM needs the salted password itself, which logs anyone in who reads
//! it; leadql keeps PostgreSQL's `StoredKey`/`ServerKey` instead and checks the proof
//! the way PostgreSQL does:
//!
//! ```text
//! AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
//! ClientSignature = HMAC(StoredKey, AuthMessage)
//! ClientKey       = ClientProof XOR ClientSignature      -- then H(ClientKey) = StoredKey?
//! ServerSignature = HMAC(ServerKey, AuthMessage)         -- sent back as v=…
//! ```
//!
//! Channel binding (SCRAM-SHA-256-PLUS) is not offered. As in PostgreSQL, the user name
//! inside the SCRAM messages is ignored: the startup message's user is the one checked.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::{digest, hmac};

use super::users::Verifier;

/// Why an exchange failed.
#[derive(Debug, PartialEq, Eq)]
pub enum ScramError {
    /// The client's message is not valid SCRAM (a protocol violation).
    Malformed(String),
    /// The proof does not match: a wrong password (or an unknown user).
    WrongPassword,
}

/// The state between the server-first and the client-final message.
#[derive(Debug)]
pub struct Exchange {
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
    verifier: Verifier,
}

fn malformed(what: &str) -> ScramError {
    ScramError::Malformed(format!("invalid SCRAM message: {what}"))
}

/// A `k=value` attribute of a SCRAM message.
fn attribute(part: Option<&str>, key: char) -> Result<&str, ScramError> {
    part.and_then(|p| p.strip_prefix(key))
        .and_then(|p| p.strip_prefix('='))
        .ok_or_else(|| malformed(&format!("expected attribute {key}=")))
}

/// Reads the client-first message and answers with the server-first message.
/// `server_nonce` is fresh randomness (printable, no comma).
pub fn client_first(
    data: &[u8],
    verifier: Verifier,
    server_nonce: &str,
) -> Result<(String, Exchange), ScramError> {
    let text = std::str::from_utf8(data).map_err(|_| malformed("not UTF-8"))?;
    // gs2-header: cbind-flag "," [authzid] ","
    let mut parts = text.splitn(3, ',');
    let flag = parts.next().unwrap_or_default();
    let authzid = parts.next().ok_or_else(|| malformed("no GS2 header"))?;
    let bare = parts
        .next()
        .ok_or_else(|| malformed("no client-first-bare"))?;
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => {
            return Err(ScramError::Malformed(
                "channel binding is not supported: use SCRAM-SHA-256".into(),
            ));
        }
        _ => return Err(malformed("bad channel-binding flag")),
    }
    if !authzid.is_empty() {
        return Err(ScramError::Malformed(
            "an authorization identity is not supported".into(),
        ));
    }
    let mut attrs = bare.split(',');
    let first = attrs.next();
    if first.is_some_and(|a| a.starts_with("m=")) {
        return Err(malformed("mandatory extensions are not supported"));
    }
    let _user = attribute(first, 'n')?;
    let client_nonce = attribute(attrs.next(), 'r')?;
    if client_nonce.is_empty()
        || !client_nonce
            .chars()
            .all(|c| c.is_ascii_graphic() && c != ',')
    {
        return Err(malformed("bad client nonce"));
    }
    let nonce = format!("{client_nonce}{server_nonce}");
    let server_first = format!(
        "r={nonce},s={},i={}",
        B64.encode(&verifier.salt),
        verifier.iterations
    );
    let exchange = Exchange {
        gs2_header: format!("{flag},{authzid},"),
        client_first_bare: bare.to_string(),
        server_first: server_first.clone(),
        nonce,
        verifier,
    };
    Ok((server_first, exchange))
}

impl Exchange {
    /// Checks the client-final message's proof; the server-final message on success.
    pub fn client_final(&self, data: &[u8]) -> Result<String, ScramError> {
        let text = std::str::from_utf8(data).map_err(|_| malformed("not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| malformed("no proof"))?;
        let mut attrs = without_proof.split(',');
        let binding = attribute(attrs.next(), 'c')?;
        if B64.decode(binding).ok().as_deref() != Some(self.gs2_header.as_bytes()) {
            return Err(malformed("channel binding does not match the GS2 header"));
        }
        if attribute(attrs.next(), 'r')? != self.nonce {
            return Err(malformed("nonce does not match"));
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| malformed("proof is not base64"))?;
        if proof.len() != self.verifier.stored_key.len() {
            return Err(ScramError::WrongPassword);
        }
        let auth_message = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let stored = hmac::Key::new(hmac::HMAC_SHA256, &self.verifier.stored_key);
        let signature = hmac::sign(&stored, auth_message.as_bytes());
        let client_key: Vec<u8> = proof
            .iter()
            .zip(signature.as_ref())
            .map(|(p, s)| p ^ s)
            .collect();
        let computed = digest::digest(&digest::SHA256, &client_key);
        if !same_bytes(computed.as_ref(), &self.verifier.stored_key) {
            return Err(ScramError::WrongPassword);
        }
        let server = hmac::Key::new(hmac::HMAC_SHA256, &self.verifier.server_key);
        let server_signature = hmac::sign(&server, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature.as_ref())))
    }
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A verifier for a user that does not exist, so that the exchange runs to the proof
/// like a real one and fails there: a client cannot tell unknown users from wrong
/// passwords. The salt is derived from the name and a per-process secret, so asking
/// twice gives the same salt.
pub fn decoy(user: &str, secret: &[u8; 32]) -> Verifier {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let salt = hmac::sign(&key, user.as_bytes());
    Verifier {
        iterations: super::users::ITERATIONS,
        salt: salt.as_ref()[..16].to_vec(),
        stored_key: digest::digest(&digest::SHA256, salt.as_ref())
            .as_ref()
            .to_vec(),
        server_key: salt.as_ref().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exchange of RFC 7677 §3 (user "user", password "pencil"), byte for byte.
    #[test]
    fn the_rfc_7677_exchange_verifies() {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").expect("salt");
        let verifier = Verifier::derive("pencil", &salt, 4096);
        let (server_first, exchange) = client_first(
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            verifier.clone(),
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        )
        .expect("first");
        assert_eq!(
            server_first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let final_message = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        assert_eq!(
            exchange.client_final(final_message).expect("proof"),
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        // The same client messages against another password's verifier fail.
        let other = Verifier::derive("pencil2", &salt, 4096);
        let (_, exchange) = client_first(
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            other,
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        )
        .expect("first");
        assert_eq!(
            exchange.client_final(final_message),
            Err(ScramError::WrongPassword)
        );
    }

    #[test]
    fn malformed_messages_are_protocol_errors() {
        let v = Verifier::derive("pw", b"salt", 4096);
        for bad in [
            &b"x,,n=u,r=abc"[..],
            b"n,,r=abc",
            b"p=tls-server-end-point,,n=,r=a",
            b"n,a=admin,n=,r=a",
            b"\xff",
        ] {
            assert!(
                matches!(
                    client_first(bad, v.clone(), "s"),
                    Err(ScramError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        let (_, ex) = client_first(b"n,,n=,r=abc", v, "def").expect("first");
        assert!(matches!(
            ex.client_final(b"c=biws,r=abcdef"),
            Err(ScramError::Malformed(_))
        ));
        assert!(matches!(
            ex.client_final(b"c=biws,r=other,p=AAAA"),
            Err(ScramError::Malformed(_))
        ));
        assert!(matches!(
            ex.client_final(b"c=eSws,r=abcdef,p=AAAA"),
            Err(ScramError::Malformed(_))
        ));
        assert_eq!(
            ex.client_final(b"c=biws,r=abcdef,p=AAAA"),
            Err(ScramError::WrongPassword)
        );
    }

    #[test]
    fn decoys_are_stable_per_name() {
        let secret = [7u8; 32];
        assert_eq!(decoy("nobody", &secret), decoy("nobody", &secret));
        assert_ne!(
            decoy("nobody", &secret).salt,
            decoy("somebody", &secret).salt
        );
    }
}
