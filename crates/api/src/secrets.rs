//! PODM passwords at rest: sealed with AES-256-GCM under the configured key, opened only to
//! build a PODM connection.
//!
//! Stored form: `$vsec1$<key id>$<base64(nonce || ciphertext)>`, where the key id is the first
//! 8 hex digits of the key's SHA-256, so a value names the key that sealed it. Rotation: make a
//! new key current, keep the old one in `previous`, run `valence secrets rotate` (reseals every
//! password under the current key), then drop the old key. Without a key, passwords are stored
//! as given (and the server says so at start).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

const PREFIX: &str = "$vsec1$";
const NONCE_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a secret key must be 32 bytes, base64-encoded ({0})")]
    BadKey(String),
    #[error(
        "stored secret was sealed with key {0}, which is not configured (set it as the current or a previous key)"
    )]
    UnknownKey(String),
    #[error("stored secret is damaged or was sealed with another key of the same id")]
    Damaged,
    #[error("cannot seal the secret")]
    Seal,
}

/// One AES-256 key and its id.
#[derive(Clone)]
pub struct SecretKey {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A key from its base64 text (as written by `valence secrets generate-key`).
    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| SecretError::BadKey(e.to_string()))?;
        if bytes.len() != 32 {
            return Err(SecretError::BadKey(format!("got {} bytes", bytes.len())));
        }
        let id = Sha256::digest(&bytes)
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        let cipher =
            Aes256Gcm::new_from_slice(&bytes).map_err(|e| SecretError::BadKey(e.to_string()))?;
        Ok(Self { id, cipher })
    }

    pub fn generate_base64() -> String {
        let bytes: [u8; 32] = rand::random();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The configured keys: the current one seals, all open.
#[derive(Debug, Clone, Default)]
pub struct SecretBox {
    current: Option<SecretKey>,
    previous: Vec<SecretKey>,
}

impl SecretBox {
    pub fn new(current: Option<SecretKey>, previous: Vec<SecretKey>) -> Self {
        Self { current, previous }
    }

    pub fn is_sealing(&self) -> bool {
        self.current.is_some()
    }

    /// The stored form of `plain`: sealed under the current key, or as given without one.
    pub fn seal(&self, plain: &str) -> Result<String, SecretError> {
        let Some(key) = &self.current else {
            return Ok(plain.to_owned());
        };
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let sealed = key
            .cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), plain.as_bytes())
            .map_err(|_| SecretError::Seal)?;
        let mut blob = nonce_bytes.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}{}${}",
            key.id,
            base64::engine::general_purpose::STANDARD.encode(blob)
        ))
    }

    /// The secret of a stored value; a value without the prefix was stored as given.
    pub fn open(&self, stored: &str) -> Result<SecretString, SecretError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(SecretString::from(stored.to_owned()));
        };
        let (id, data) = rest.split_once('$').ok_or(SecretError::Damaged)?;
        let key = self
            .current
            .iter()
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_owned()))?;
        let blob = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| SecretError::Damaged)?;
        if blob.len() < NONCE_LEN {
            return Err(SecretError::Damaged);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| SecretError::Damaged)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| SecretError::Damaged)
    }

    /// Whether `stored` should be sealed again to be under the current key (rotation, or a
    /// password stored before a key was configured).
    pub fn needs_reseal(&self, stored: &str) -> bool {
        match (&self.current, stored.strip_prefix(PREFIX)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(key), Some(rest)) => !rest.starts_with(&format!("{}$", key.id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_base64(&SecretKey::generate_base64()).unwrap()
    }

    #[test]
    fn sealed_values_open_and_do_not_show_the_secret() {
        let k = key();
        let sealer = SecretBox::new(Some(k.clone()), vec![]);
        let stored = sealer.seal("hunter2").unwrap();
        assert!(
            stored.starts_with(PREFIX) && !stored.contains("hunter2"),
            "{stored}"
        );
        assert_ne!(
            stored,
            sealer.seal("hunter2").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(sealer.open(&stored).unwrap().expose_secret(), "hunter2");
        assert!(!format!("{sealer:?}").contains("hunter2"));
    }

    #[test]
    fn rotation_opens_with_previous_keys_and_reseals_under_the_current() {
        let old = key();
        let new = key();
        let stored = SecretBox::new(Some(old.clone()), vec![])
            .seal("pw")
            .unwrap();
        let rotated = SecretBox::new(Some(new.clone()), vec![old]);
        assert!(rotated.needs_reseal(&stored));
        assert_eq!(rotated.open(&stored).unwrap().expose_secret(), "pw");
        let resealed = rotated.seal("pw").unwrap();
        assert!(!rotated.needs_reseal(&resealed));
        let without_old = SecretBox::new(Some(new), vec![]);
        assert!(matches!(
            without_old.open(&stored),
            Err(SecretError::UnknownKey(_))
        ));
    }

    #[test]
    fn plain_values_pass_through_and_tampering_is_detected() {
        let sealer = SecretBox::new(Some(key()), vec![]);
        assert_eq!(
            sealer.open("legacy-plain").unwrap().expose_secret(),
            "legacy-plain"
        );
        assert!(sealer.needs_reseal("legacy-plain"));
        assert!(!SecretBox::default().needs_reseal("legacy-plain"));
        let mut stored = sealer.seal("pw").unwrap();
        stored.pop();
        stored.push('A');
        assert!(sealer.open(&stored).is_err());
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
    }
}
