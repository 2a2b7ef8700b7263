//! The local keyring: key-encryption keys read from the environment or a file.

use std::fmt;
use std::io::Read;
use std::path::Path;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, Key, KeyInit, Nonce, Tag};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
use socialconnect_core::keys::{DataKey, KeyId, KeyProvider, WrappedKey};
use socialconnect_core::{Error, Result};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// The environment variable [`LocalKeyring::from_env`] reads: `SOCIALCONNECT_KEYRING`.
pub const KEYRING_ENV: &str = "SOCIALCONNECT_KEYRING";

/// The demo key, public by design: these 32 ASCII bytes are printed in this crate's source and
/// docs, so anything wrapped under them is readable by anyone.
const DEMO_KEY: &[u8; 32] = b"socialconnect-demo-key-INSECURE!";
const DEMO_ID: &str = "demo";

/// First byte of every ciphertext [`LocalKeyring`] produces; lets a later format coexist.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
/// version ‖ nonce ‖ encrypted data key ‖ tag.
const WRAPPED_LEN: usize = 1 + NONCE_LEN + KEY_LEN + TAG_LEN;
/// Domain separation for the associated data, so these ciphertexts cannot be confused with any
/// other AES-GCM use of the same key.
const AAD_PREFIX: &[u8] = b"socialconnect-kek-v1\0";

/// Keyring files larger than this are refused before reading: a real one holds a few lines.
const MAX_FILE_LEN: u64 = 1 << 20;
/// Ids longer than this are not repeated in errors about a malformed entry: a long "id" may be
/// a key pasted in the wrong order (`key:id`), and a 32-byte key in base64 is 43 characters.
const MAX_ECHOED_ID: usize = 32;

/// A set of AES-256 key-encryption keys held in process memory, one of them primary.
///
/// This is the default [`KeyProvider`]: the keys come from the environment
/// ([`LocalKeyring::from_env`]) or a file ([`LocalKeyring::from_file`]). Each key has an id; data
/// keys are wrapped under the primary and name the key that wrapped them, so older keys can stay
/// in the ring for unwrapping while a rotation re-wraps their data keys.
///
/// # Text format
///
/// Entries are separated by commas or newlines. Each entry is `id:key`, where `key` is exactly
/// 32 bytes in base64 (standard or URL-safe alphabet, padding optional) and `id` is 1–64
/// characters of `A-Z a-z 0-9 . _ -`. A leading `*` marks the primary key; with a single key
/// the mark may be left out. Blank entries are ignored, and `#` starts a comment that runs to
/// the end of the line.
///
/// ```text
/// # retired 2026-03, kept until the store reports nothing wrapped under it
/// k1:q1Yc7cL0q6mI3nXx0n2Hq8fW1cQmVv3l9d0Z8bJk4sA=
/// *k2:5bq4O8v8bq0wC2n1x6t9YpQe3rWm7Lk2Hj4Gf6Ds8AE
/// ```
///
/// These keys are examples only: make each of yours with `openssl rand -base64 32`.
///
/// # Secrecy
///
/// Keys are held in zeroizing buffers and wiped on drop. `Debug` shows only the ids and which is
/// primary. No error message carries key material or the base64 text it was read from.
pub struct LocalKeyring {
    keys: Vec<Kek>,
    primary: usize,
    demo: bool,
}

struct Kek {
    id: KeyId,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl Kek {
    fn random(id: KeyId) -> Self {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rand::fill(key.as_mut_slice());
        Self { id, key }
    }
}

impl LocalKeyring {
    /// Reads the keyring from the environment variable [`KEYRING_ENV`] (`SOCIALCONNECT_KEYRING`).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the variable is missing, not UTF-8, or not a valid keyring (see
    /// the [text format](LocalKeyring#text-format)).
    pub fn from_env() -> Result<Self> {
        Self::from_env_var(KEYRING_ENV)
    }

    /// Reads the keyring from the environment variable `name`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the variable is missing, not UTF-8, or not a valid keyring.
    pub fn from_env_var(name: &str) -> Result<Self> {
        let source = format!("environment variable `{name}`");
        let text = match std::env::var(name) {
            Ok(text) => Zeroizing::new(text),
            Err(std::env::VarError::NotPresent) => {
                return Err(Error::Config(format!(
                    "{source} is not set: it should hold the key-encryption keys as `id:base64key` entries"
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Error::Config(format!("{source} is not valid UTF-8")));
            }
        };
        Self::parse_from(&text, &source)
    }

    /// Reads the keyring from a file in the [text format](LocalKeyring#text-format).
    ///
    /// On Unix the file must be private to its owner: `mode & 0o077 == 0`, as after
    /// `chmod 600`. A file that group or others may read (or write) is refused, not trusted, and
    /// its keys should be considered exposed. The mode is checked on the opened file, so the
    /// file cannot be swapped between the check and the read.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the file cannot be read, is too permissive, larger than 1 MiB,
    /// not UTF-8, or not a valid keyring.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let source = format!("keyring file `{}`", path.display());
        let io_err = |what: &str, e: std::io::Error| {
            Error::Config(format!("{source}: cannot {what}: {}", e.kind()))
        };
        let file = std::fs::File::open(path).map_err(|e| io_err("open", e))?;
        let meta = file.metadata().map_err(|e| io_err("inspect", e))?;
        if !meta.is_file() {
            return Err(Error::Config(format!("{source} is not a regular file")));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(Error::Config(format!(
                    "{source} is accessible to group or others (mode {mode:#o}); \
                     restrict it to its owner (chmod 600) and consider its keys exposed"
                )));
            }
        }
        if meta.len() > MAX_FILE_LEN {
            return Err(Error::Config(format!(
                "{source} is larger than {MAX_FILE_LEN} bytes; a keyring file holds a few lines"
            )));
        }
        // Sized up front so the buffer never reallocates and leaves key text behind.
        let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize + 1));
        file.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_err("read", e))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::Config(format!("{source} is not valid UTF-8")))?;
        Self::parse_from(text, &source)
    }

    /// Parses a keyring from text in the [text format](LocalKeyring#text-format).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the entry (and line) at fault; never the key text.
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_from(text, "keyring text")
    }

    /// Builds a keyring from raw keys.
    ///
    /// The arrays in `keys` are wiped once copied into the keyring.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `keys` is empty, an id is invalid or repeated, or `primary` is not
    /// one of the ids.
    pub fn from_keys(mut keys: Vec<(KeyId, [u8; 32])>, primary: KeyId) -> Result<Self> {
        let mut keks = Vec::with_capacity(keys.len());
        for (id, bytes) in keys.iter_mut() {
            let key = Zeroizing::new(*bytes);
            bytes.zeroize();
            keks.push(Kek {
                id: id.clone(),
                key,
            });
        }
        Self::from_keks(keks, primary)
    }

    /// A keyring holding only the public demo key, id `demo`.
    ///
    /// **INSECURE: for demos, examples and tests only.** The key is fixed and published in this
    /// crate's source (the 32 ASCII bytes `socialconnect-demo-key-INSECURE!`), so anything
    /// wrapped under it is readable by anyone who has the database. Creating it logs a warning;
    /// [`LocalKeyring::is_demo`] reports it, so a host can refuse to start with it in
    /// production. It is never chosen implicitly: no other constructor falls back to it.
    pub fn demo() -> Self {
        tracing::warn!(
            "using the public demo key-encryption key: anything it protects is readable by anyone; \
             never use LocalKeyring::demo() in production"
        );
        Self {
            keys: vec![Kek {
                id: KeyId(DEMO_ID.to_owned()),
                key: Zeroizing::new(*DEMO_KEY),
            }],
            primary: 0,
            demo: true,
        }
    }

    /// Whether this keyring holds the public demo key (from [`LocalKeyring::demo`], or because
    /// the demo key was copied into a configured keyring). Such a keyring protects nothing.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// The ids of the keys held, in the order they were given.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// Whether a key with this id is held.
    pub fn contains(&self, id: &KeyId) -> bool {
        self.find(id).is_some()
    }

    /// The same keys with `primary` as the primary: the first step of a rotation.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when no key has that id.
    pub fn with_primary(mut self, primary: KeyId) -> Result<Self> {
        self.primary = self.find(&primary).ok_or_else(|| {
            Error::Config(format!(
                "cannot make `{}` the primary key-encryption key: the keyring holds no such id",
                printable(&primary.0)
            ))
        })?;
        Ok(self)
    }

    /// Fresh random keys under `ids`, for [`super::MemoryKeyProvider`].
    pub(super) fn random(ids: &[KeyId], primary: KeyId) -> Result<Self> {
        let keks = ids.iter().map(|id| Kek::random(id.clone())).collect();
        Self::from_keks(keks, primary)
    }

    /// The same ids and primary over fresh random keys.
    pub(super) fn lookalike(&self) -> Self {
        Self {
            keys: self
                .keys
                .iter()
                .map(|k| Kek::random(k.id.clone()))
                .collect(),
            primary: self.primary,
            demo: false,
        }
    }

    fn find(&self, id: &KeyId) -> Option<usize> {
        self.keys.iter().position(|k| k.id == *id)
    }

    fn from_keks(keks: Vec<Kek>, primary: KeyId) -> Result<Self> {
        if keks.is_empty() {
            return Err(Error::Config("keyring holds no keys".to_owned()));
        }
        for (i, kek) in keks.iter().enumerate() {
            if !valid_id(&kek.id.0) {
                return Err(Error::Config(format!(
                    "keyring key {}: invalid id; {ID_RULE}",
                    i + 1
                )));
            }
            if keks[..i].iter().any(|k| k.id == kek.id) {
                return Err(Error::Config(format!(
                    "keyring key {}: duplicate id `{}`",
                    i + 1,
                    kek.id
                )));
            }
        }
        let primary = keks.iter().position(|k| k.id == primary).ok_or_else(|| {
            Error::Config(format!(
                "primary key-encryption key `{}` is not in the keyring",
                printable(&primary.0)
            ))
        })?;
        Ok(Self::assemble(keks, primary))
    }

    fn assemble(keys: Vec<Kek>, primary: usize) -> Self {
        let demo = keys
            .iter()
            .any(|k| bool::from(k.key.as_slice().ct_eq(DEMO_KEY.as_slice())));
        if demo {
            tracing::warn!(
                "the keyring holds the public demo key-encryption key: anything it protects is \
                 readable by anyone"
            );
        }
        Self {
            keys,
            primary,
            demo,
        }
    }

    fn parse_from(text: &str, source: &str) -> Result<Self> {
        let multiline = text.contains('\n');
        let mut keks: Vec<Kek> = Vec::new();
        let mut primaries: Vec<usize> = Vec::new();
        let mut index = 0usize;
        for (line_no, line) in text.split('\n').enumerate() {
            let line = match line.find('#') {
                Some(hash) => &line[..hash],
                None => line,
            };
            for entry in line.split(',') {
                let entry = entry.trim();
                if entry.is_empty() {
                    continue;
                }
                index += 1;
                let at = if multiline {
                    format!("{source}: entry {index} (line {})", line_no + 1)
                } else {
                    format!("{source}: entry {index}")
                };
                let (is_primary, kek) = parse_entry(entry)
                    .map_err(|problem| Error::Config(format!("{at}: {problem}")))?;
                if let Some(first) = keks.iter().position(|k| k.id == kek.id) {
                    return Err(Error::Config(format!(
                        "{at}: duplicate key id `{}` (also entry {})",
                        kek.id,
                        first + 1
                    )));
                }
                if is_primary {
                    primaries.push(keks.len());
                }
                keks.push(kek);
            }
        }
        let primary = match (primaries.as_slice(), keks.len()) {
            (_, 0) => {
                return Err(Error::Config(format!(
                    "{source} holds no keys; expected entries like `*k1:<32 bytes in base64>`"
                )));
            }
            ([only], _) => *only,
            ([], 1) => 0,
            ([], n) => {
                return Err(Error::Config(format!(
                    "{source}: no primary among {n} keys; mark the key that wraps new data keys \
                     with a leading `*` (as in `*k2:...`)"
                )));
            }
            (several, _) => {
                let ids: Vec<String> = several
                    .iter()
                    .map(|&i| format!("`{}`", keks[i].id))
                    .collect();
                return Err(Error::Config(format!(
                    "{source}: more than one primary key ({}); mark exactly one with `*`",
                    ids.join(", ")
                )));
            }
        };
        Ok(Self::assemble(keks, primary))
    }

    fn kek(&self, id: &KeyId) -> Option<&Kek> {
        self.keys.iter().find(|k| k.id == *id)
    }
}

const ID_RULE: &str = "ids are 1-64 characters of A-Z, a-z, 0-9, `.`, `_` and `-`";

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Parses one trimmed, non-empty `[*]id:base64` entry. The error is the problem alone, never
/// echoing the key text.
fn parse_entry(entry: &str) -> std::result::Result<(bool, Kek), String> {
    let (is_primary, entry) = match entry.strip_prefix('*') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, entry),
    };
    let Some((id, body)) = entry.split_once(':') else {
        return Err("malformed entry: expected `id:base64key` (no `:` found)".to_owned());
    };
    let (id, body) = (id.trim(), body.trim());
    if id.is_empty() {
        return Err("malformed entry: missing key id before `:`".to_owned());
    }
    if !valid_id(id) {
        return Err(format!("invalid key id; {ID_RULE}"));
    }
    let name = if id.len() <= MAX_ECHOED_ID {
        format!("key `{id}`")
    } else {
        format!("key with a {}-character id", id.len())
    };
    if body.is_empty() {
        return Err(format!("{name}: missing key after `:`"));
    }
    let engine = if body.contains(['-', '_']) {
        &URL_SAFE_PAD_INDIFFERENT
    } else {
        &STANDARD_PAD_INDIFFERENT
    };
    // Twice the key size, so "too long" can say by how much for near misses; anything longer
    // stops decoding as soon as it overflows.
    let mut buf = Zeroizing::new([0u8; 2 * KEY_LEN]);
    let len = match engine.decode_slice(body, buf.as_mut_slice()) {
        Ok(len) => len,
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            return Err(format!(
                "{name}: key is too long (more than {} bytes; need exactly {KEY_LEN})",
                2 * KEY_LEN
            ));
        }
        // The decoder's own message names the offending character, which is key text.
        Err(base64::DecodeSliceError::DecodeError(_)) => {
            return Err(format!(
                "{name}: key is not valid base64 (standard or URL-safe alphabet, padding optional)"
            ));
        }
    };
    if len != KEY_LEN {
        let which = if len < KEY_LEN { "short" } else { "long" };
        return Err(format!(
            "{name}: key is too {which} ({len} bytes; need exactly {KEY_LEN})"
        ));
    }
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    key.copy_from_slice(&buf[..KEY_LEN]);
    Ok((
        is_primary,
        Kek {
            id: KeyId(id.to_owned()),
            key,
        },
    ))
}

/// `b"socialconnect-kek-v1\0" ‖ key id ‖ 0 ‖ context`. Ids never contain NUL, so the split
/// between id and context is unambiguous.
fn associated_data(key_id: &KeyId, context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_PREFIX.len() + key_id.0.len() + 1 + context.len());
    aad.extend_from_slice(AAD_PREFIX);
    aad.extend_from_slice(key_id.0.as_bytes());
    aad.push(0);
    aad.extend_from_slice(context);
    aad
}

/// An id taken from outside (a stored row, a caller), bounded and escaped for an error message.
fn printable(id: &str) -> String {
    let mut out: String = id.chars().take(64).flat_map(char::escape_debug).collect();
    if id.chars().nth(64).is_some() {
        out.push('…');
    }
    out
}

fn cipher(kek: &Kek) -> Aes256Gcm {
    // Borrowed as an array reference, so no unzeroized copy of the key lands on the stack.
    Aes256Gcm::new(<&Key<Aes256Gcm>>::from(&*kek.key))
}

#[async_trait]
impl KeyProvider for LocalKeyring {
    fn primary(&self) -> KeyId {
        self.keys[self.primary].id.clone()
    }

    async fn wrap(&self, key_id: &KeyId, key: &DataKey, context: &[u8]) -> Result<WrappedKey> {
        let kek = self.kek(key_id).ok_or_else(|| {
            Error::Config(format!(
                "no key-encryption key with id `{}` in the keyring",
                printable(&key_id.0)
            ))
        })?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let nonce = Nonce::<Aes256Gcm>::from(nonce);
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(key.expose_secret());
        let aad = associated_data(key_id, context);
        let tag = cipher(kek)
            .encrypt_inout_detached(&nonce, &aad, (&mut out[1 + NONCE_LEN..]).into())
            .map_err(|_| Error::Crypto("AES-GCM refused to wrap a data key".to_owned()))?;
        out.extend_from_slice(&tag);
        Ok(WrappedKey {
            key_id: key_id.clone(),
            ciphertext: out,
        })
    }

    async fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey> {
        let kek = self.kek(&wrapped.key_id).ok_or_else(|| {
            Error::Crypto(format!(
                "unknown key-encryption key id `{}`: is the keyring missing a retired key?",
                printable(&wrapped.key_id.0)
            ))
        })?;
        let fail = || {
            Error::Crypto(format!(
                "data key does not open under key `{}`: wrong keyring or tampered data",
                kek.id
            ))
        };
        let ct = &wrapped.ciphertext;
        if ct.len() != WRAPPED_LEN || ct[0] != FORMAT_V1 {
            return Err(fail());
        }
        let nonce = Nonce::<Aes256Gcm>::try_from(&ct[1..1 + NONCE_LEN]).map_err(|_| fail())?;
        let tag = Tag::<Aes256Gcm>::try_from(&ct[1 + NONCE_LEN + KEY_LEN..]).map_err(|_| fail())?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&ct[1 + NONCE_LEN..1 + NONCE_LEN + KEY_LEN]);
        let aad = associated_data(&wrapped.key_id, context);
        cipher(kek)
            .decrypt_inout_detached(&nonce, &aad, key.as_mut_slice().into(), &tag)
            .map_err(|_| fail())?;
        Ok(DataKey::from_bytes(*key))
    }
}

impl fmt::Debug for LocalKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeyring")
            .field(
                "keys",
                &self.keys.iter().map(|k| &k.id.0).collect::<Vec<_>>(),
            )
            .field("primary", &self.keys[self.primary].id.0)
            .field("demo", &self.demo)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_key_is_32_bytes_and_flagged() {
        assert_eq!(DEMO_KEY.len(), KEY_LEN);
        let ring = LocalKeyring::demo();
        assert!(ring.is_demo());
        assert_eq!(ring.primary(), KeyId(DEMO_ID.to_owned()));
    }

    #[test]
    fn associated_data_layout() {
        let aad = associated_data(&KeyId("k1".to_owned()), b"ctx");
        assert_eq!(aad, b"socialconnect-kek-v1\0k1\0ctx");
    }

    #[tokio::test]
    async fn ciphertext_layout() {
        let ring = LocalKeyring::demo();
        let key = DataKey::generate();
        let wrapped = ring.wrap(&ring.primary(), &key, b"c").await.unwrap();
        assert_eq!(wrapped.ciphertext.len(), WRAPPED_LEN);
        assert_eq!(wrapped.ciphertext[0], FORMAT_V1);
        assert_ne!(
            &wrapped.ciphertext[1 + NONCE_LEN..1 + NONCE_LEN + KEY_LEN],
            key.expose_secret().as_slice()
        );
        // Fresh nonce each time.
        let again = ring.wrap(&ring.primary(), &key, b"c").await.unwrap();
        assert_ne!(wrapped.ciphertext[1..13], again.ciphertext[1..13]);
    }

    #[test]
    fn printable_bounds_and_escapes() {
        assert_eq!(printable("a\nb"), "a\\nb");
        let long = "x".repeat(100);
        assert_eq!(printable(&long).chars().count(), 65);
    }
}
