//! Sealing records under a subject's data key.
//!
//! AES-256-GCM (the `aes-gcm` RustCrypto crate): hardware-accelerated on the x86-64 and ARMv8
//! machines hosts run on, and its 96-bit random nonces are safe here because every subject has
//! its own key, so no key comes near the 2^32 messages where random nonces start to risk a
//! repeat. (XChaCha20-Poly1305 would lift that bound, at a cost in speed without AES-NI
//! gains; the stored format carries a version byte so a later change can switch.)
//!
//! Stored format, version 1: `0x01 ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! Associated data binds the format version, the data key id, the subject pseudonym, the record
//! id and the record kind, so a ciphertext copied into another row, another subject's row or
//! another kind of row does not open.

use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadInOut, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce, Tag};
use socialconnect_core::keys::DataKey;
use socialconnect_core::{Error, Result};
use zeroize::Zeroizing;

use crate::backend::SubjectRef;

/// The current stored format.
pub(crate) const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// What kind of record a ciphertext belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Token,
    Pending,
    Consent,
    Usage,
    DeletionRequest,
    Profile,
    Action,
}

impl RecordKind {
    fn as_bytes(self) -> &'static [u8] {
        match self {
            RecordKind::Token => b"token",
            RecordKind::Pending => b"pending",
            RecordKind::Consent => b"consent",
            RecordKind::Usage => b"usage",
            RecordKind::DeletionRequest => b"deletion_request",
            RecordKind::Profile => b"profile",
            RecordKind::Action => b"action",
        }
    }
}

/// The context a record is sealed in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Aad<'a> {
    pub kind: RecordKind,
    pub dek_id: &'a str,
    pub subject_ref: &'a SubjectRef,
    /// The row's identity (connection id, state hash, receipt id, …).
    pub record_id: &'a [u8],
}

impl Aad<'_> {
    fn encode(&self, version: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.dek_id.len() + self.record_id.len());
        out.extend_from_slice(b"socialconnect-record\0");
        out.push(version);
        for part in [
            self.kind.as_bytes(),
            self.dek_id.as_bytes(),
            self.subject_ref.as_slice(),
            self.record_id,
        ] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }
}

/// A data key ready to seal and open with: its AES-256-GCM key schedule, built once when the key
/// is unwrapped and shared by the cache's holders (aes-gcm's `zeroize` feature wipes it when
/// the last one drops it). Building the schedule per record cost about a tenth of a token read.
#[derive(Clone)]
pub(crate) struct SealingKey(Arc<Aes256Gcm>);

impl SealingKey {
    pub(crate) fn new(key: &DataKey) -> Self {
        Self(Arc::new(Aes256Gcm::new(&Key::<Aes256Gcm>::from(
            *key.expose_secret(),
        ))))
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

/// Seals `plaintext` with a fresh random nonce.
pub(crate) fn seal(key: &SealingKey, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce);
    let ct = key
        .0
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad.encode(FORMAT_V1),
            },
        )
        .map_err(|_| Error::Crypto("sealing a record failed".to_owned()))?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens what [`seal`] produced; any mismatch (key, context, a flipped bit, an unknown format)
/// is a `Crypto` error that says which kind of record failed, never what it held.
pub(crate) fn open(key: &SealingKey, aad: &Aad<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    open_owned(key, aad, sealed.to_vec())
}

/// [`open`], decrypting in the buffer it is given instead of a copy.
pub(crate) fn open_owned(
    key: &SealingKey,
    aad: &Aad<'_>,
    sealed: Vec<u8>,
) -> Result<Zeroizing<Vec<u8>>> {
    let fail = || {
        Error::Crypto(format!(
            "a stored {} record does not open: wrong key, moved between rows, or tampered",
            String::from_utf8_lossy(aad.kind.as_bytes())
        ))
    };
    // The buffer becomes the plaintext: wiped when dropped, whatever happens below.
    let mut buffer = Zeroizing::new(sealed);
    let version = *buffer.first().ok_or_else(fail)?;
    if version != FORMAT_V1 {
        return Err(Error::Crypto(format!(
            "stored record has unknown format version {version}"
        )));
    }
    let Some(end) = buffer.len().checked_sub(TAG_LEN) else {
        return Err(fail());
    };
    const START: usize = 1 + NONCE_LEN;
    if end < START {
        return Err(fail());
    }
    let nonce = Nonce::try_from(&buffer[1..START]).map_err(|_| fail())?;
    let tag = Tag::try_from(&buffer[end..]).map_err(|_| fail())?;
    key.0
        .decrypt_inout_detached(
            &nonce,
            &aad.encode(version),
            (&mut buffer[START..end]).into(),
            &tag,
        )
        .map_err(|_| fail())?;
    buffer.copy_within(START..end, 0);
    buffer.truncate(end - START);
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn aad<'a>(subject: &'a SubjectRef, id: &'a [u8]) -> Aad<'a> {
        Aad {
            kind: RecordKind::Token,
            dek_id: "dek-1",
            subject_ref: subject,
            record_id: id,
        }
    }

    #[test]
    fn round_trip_and_bindings() {
        let key = SealingKey::new(&DataKey::generate());
        let s = [7u8; 32];
        let sealed = seal(&key, &aad(&s, b"conn-1"), b"secret").unwrap();
        assert_eq!(
            &*open(&key, &aad(&s, b"conn-1"), &sealed).unwrap(),
            b"secret"
        );
        // Another row, another subject, another kind, another key id, another key: all refuse.
        assert!(open(&key, &aad(&s, b"conn-2"), &sealed).is_err());
        assert!(open(&key, &aad(&[8u8; 32], b"conn-1"), &sealed).is_err());
        let mut other_kind = aad(&s, b"conn-1");
        other_kind.kind = RecordKind::Usage;
        assert!(open(&key, &other_kind, &sealed).is_err());
        let mut other_dek = aad(&s, b"conn-1");
        other_dek.dek_id = "dek-2";
        assert!(open(&key, &other_dek, &sealed).is_err());
        assert!(
            open(
                &SealingKey::new(&DataKey::generate()),
                &aad(&s, b"conn-1"),
                &sealed
            )
            .is_err()
        );
        // Truncated and unknown-version inputs are errors, not panics.
        assert!(open(&key, &aad(&s, b"conn-1"), &[]).is_err());
        assert!(open(&key, &aad(&s, b"conn-1"), &[1, 2, 3]).is_err());
        let mut v9 = sealed.clone();
        v9[0] = 9;
        assert!(
            open(&key, &aad(&s, b"conn-1"), &v9)
                .unwrap_err()
                .to_string()
                .contains("version 9")
        );
    }

    proptest! {
        #[test]
        fn any_flipped_bit_fails(byte in 0usize..64, bit in 0u8..8) {
            let key = SealingKey::new(&DataKey::from_bytes([3; 32]));
            let s = [1u8; 32];
            let mut sealed = seal(&key, &aad(&s, b"r"), b"0123456789abcdef0123456789").unwrap();
            let i = byte % sealed.len();
            sealed[i] ^= 1 << bit;
            prop_assert!(open(&key, &aad(&s, b"r"), &sealed).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let key = SealingKey::new(&DataKey::from_bytes([3; 32]));
            let s = [1u8; 32];
            let _ = open(&key, &aad(&s, b"r"), &bytes);
        }
    }
}
