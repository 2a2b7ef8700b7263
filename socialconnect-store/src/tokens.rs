//! [`TokenStore`] for [`EncryptedStore`].
//!
//! A token row's sealed payload, format 2: `0x02 ‖ subject id length (u32, big-endian) ‖
//! subject id ‖ token set` (the token set as [`TokenSet::to_secret_bytes`] writes it). The
//! subject id is inside so that [`TokenStore::find_by_account`], which finds rows by an account
//! pseudonym alone, can name the connection it found. Format 1, the token set alone, is still
//! read; its first byte is always `{` (JSON), never `0x02`.
//!
//! Format 3, written when the store has a [region](crate::StoreOptions::region): `0x03 ‖
//! subject id length (u32, big-endian) ‖ subject id ‖ region length (u16, big-endian) ‖ region
//! ‖ token set`.

use std::time::Duration;

use async_trait::async_trait;
use socialconnect_core::id::{ConnectionKey, PlatformId, SubjectId};
use socialconnect_core::store::{
    ConnectionStatus, ErasureReport, PutOutcome, RefreshLease, StoredTokens, TokenStore,
    refresh_due_at,
};
use socialconnect_core::token::TokenSet;
use socialconnect_core::{Error, Result};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::backend::TokenRow;
use crate::envelope::RecordKind;
use crate::store::{EncryptedStore, connection_key, from_secs, status_from_row};

#[async_trait]
impl TokenStore for EncryptedStore {
    async fn put(
        &self,
        key: &ConnectionKey,
        tokens: &TokenSet,
        expected_version: Option<u64>,
    ) -> Result<PutOutcome> {
        let sref = self.subject_ref(&key.subject);
        let conn_id = key.connection.to_string();
        let plaintext = encode_payload(&key.subject, self.region(), tokens)?;
        let account_ref = tokens
            .account_id
            .as_deref()
            .map(|account| self.inner.subjects.account_ref(&key.platform, account));
        let (dek_id, sealed) = self
            .seal(&sref, RecordKind::Token, conn_id.as_bytes(), &plaintext)
            .await?;
        let expected = expected_version
            .map(|v| i64::try_from(v).map_err(|_| Error::invalid_input("version out of range")))
            .transpose()?;
        let row = TokenRow {
            conn_id,
            subject_ref: sref,
            platform: key.platform.as_str().to_owned(),
            version: 0,
            status: "active".to_owned(),
            status_since: None,
            updated_at: self.now().timestamp(),
            account_ref,
            dek_id,
            sealed,
            refresh_due_at: refresh_due_at(tokens, &ConnectionStatus::Active)
                .map(|t| t.timestamp()),
        };
        self.inner.backend.put_token(row, expected).await
    }

    async fn get(&self, key: &ConnectionKey) -> Result<Option<StoredTokens>> {
        let sref = self.subject_ref(&key.subject);
        let conn_id = key.connection.to_string();
        let Some(row) = self.inner.backend.get_token(&conn_id).await? else {
            return Ok(None);
        };
        // The key names another subject or platform: not this caller's connection.
        if row.subject_ref != sref || row.platform != key.platform.as_str() {
            return Ok(None);
        }
        let plaintext = self
            .open_owned(
                &sref,
                RecordKind::Token,
                conn_id.as_bytes(),
                &row.dek_id,
                row.sealed,
            )
            .await?;
        let (stored_subject, region, tokens) = decode_payload(&plaintext)?;
        if stored_subject.is_some_and(|s| s != key.subject) {
            return Err(Error::storage_msg(
                "a stored token set names another subject than its row",
            ));
        }
        let version = u64::try_from(row.version)
            .map_err(|_| Error::storage_msg("negative row version in storage"))?;
        Ok(Some(
            StoredTokens::new(
                tokens,
                version,
                status_from_row(&row.status, row.status_since)?,
                from_secs(row.updated_at)?,
            )
            .with_region(region),
        ))
    }

    async fn set_status(&self, key: &ConnectionKey, status: ConnectionStatus) -> Result<bool> {
        if self.get(key).await?.is_none() {
            return Ok(false);
        }
        self.inner
            .backend
            .set_token_status(
                &key.connection.to_string(),
                status.as_str(),
                status.since().map(|t| t.timestamp()),
                self.now().timestamp(),
            )
            .await
    }

    async fn delete(&self, key: &ConnectionKey) -> Result<bool> {
        let sref = self.subject_ref(&key.subject);
        let conn_id = key.connection.to_string();
        match self.inner.backend.get_token(&conn_id).await? {
            Some(row) if row.subject_ref == sref && row.platform == key.platform.as_str() => {
                self.inner.backend.delete_token(&conn_id).await
            }
            _ => Ok(false),
        }
    }

    async fn connections(&self, subject: &SubjectId) -> Result<Vec<ConnectionKey>> {
        let sref = self.subject_ref(subject);
        self.inner
            .backend
            .tokens_of(&sref)
            .await?
            .iter()
            .map(|(conn, platform)| connection_key(subject, conn, platform))
            .collect()
    }

    /// Finds rows by the account's keyed pseudonym, then opens each to read the subject id and
    /// to confirm the platform and account id. Rows of an erased subject are skipped, as are
    /// rows written before the account pseudonym was stored (schema 1) until their next write.
    async fn find_by_account(
        &self,
        platform: &PlatformId,
        account_id: &str,
    ) -> Result<Vec<ConnectionKey>> {
        let account_ref = self.inner.subjects.account_ref(platform, account_id);
        let rows = self.inner.backend.tokens_by_account(&account_ref).await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            if row.platform != platform.as_str() {
                continue;
            }
            let Some(plaintext) = self
                .open_if_key(
                    &row.subject_ref,
                    RecordKind::Token,
                    row.conn_id.as_bytes(),
                    &row.dek_id,
                    &row.sealed,
                )
                .await?
            else {
                continue;
            };
            let (Some(subject), _, tokens) = decode_payload(&plaintext)? else {
                continue;
            };
            // The pseudonym column is not authenticated; the sealed payload is.
            if tokens.account_id.as_deref() != Some(account_id)
                || self.subject_ref(&subject) != row.subject_ref
            {
                continue;
            }
            keys.push(connection_key(&subject, &row.conn_id, &row.platform)?);
        }
        keys.sort();
        Ok(keys)
    }

    /// Finds the rows by their plain status columns, then opens each to read the subject id
    /// (the sealed payload holds it). Rows that do not name their subject (format 1) or whose
    /// subject's key is gone are skipped without counting against `limit`. Ordered by
    /// connection id.
    async fn stale_connections(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<ConnectionKey>> {
        let before = before.timestamp();
        let mut keys = Vec::new();
        let mut after = String::new();
        while keys.len() < limit as usize {
            let want = limit - keys.len() as u32;
            let rows = self
                .inner
                .backend
                .stale_tokens(before, &after, want)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.conn_id.clone();
            let fetched = rows.len();
            for row in rows {
                if let Some((subject, _)) = self.open_scanned(&row).await? {
                    keys.push(connection_key(&subject, &row.conn_id, &row.platform)?);
                }
            }
            if fetched < want as usize {
                break;
            }
        }
        Ok(keys)
    }

    async fn try_lease(&self, key: &ConnectionKey, ttl: Duration) -> Result<Option<RefreshLease>> {
        let ttl = chrono::Duration::from_std(ttl)
            .ok()
            .filter(|t| *t > chrono::Duration::zero())
            .ok_or_else(|| Error::invalid_input("lease TTL must be positive and in range"))?;
        let now = self.now();
        let expires_at = now + ttl;
        let owner = Uuid::new_v4();
        let taken = self
            .inner
            .backend
            .try_lease(
                &key.connection.to_string(),
                &owner.to_string(),
                now.timestamp(),
                expires_at.timestamp(),
            )
            .await?;
        Ok(taken.then(|| RefreshLease {
            key: key.clone(),
            owner,
            expires_at,
        }))
    }

    async fn release(&self, lease: &RefreshLease) -> Result<bool> {
        self.inner
            .backend
            .release_lease(&lease.key.connection.to_string(), &lease.owner.to_string())
            .await
    }

    async fn erase_subject(&self, subject: &SubjectId) -> Result<ErasureReport> {
        self.erase(subject).await
    }

    /// Claims rows by their plain due column (one indexed `UPDATE`; see the backends), then
    /// opens each to name its connection.
    async fn claim_due(
        &self,
        due_before: chrono::DateTime<chrono::Utc>,
        limit: u32,
        owner: Uuid,
        ttl: Duration,
    ) -> Result<Vec<ConnectionKey>> {
        self.claim_due_rows(due_before, limit, owner, ttl).await
    }

    async fn release_claim(
        &self,
        key: &ConnectionKey,
        owner: Uuid,
        hold_until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool> {
        self.release_claimed(key, owner, hold_until).await
    }
}

/// The first byte of a format-2 token payload.
const PAYLOAD_V2: u8 = 2;

/// The first byte of a format-3 token payload (format 2 with a region).
const PAYLOAD_V3: u8 = 3;

/// Seals-to-be bytes of a token row (format 2, or 3 with a region; see the module docs).
fn encode_payload(
    subject: &SubjectId,
    region: Option<&str>,
    tokens: &TokenSet,
) -> Result<Zeroizing<Vec<u8>>> {
    let token_bytes = tokens.to_secret_bytes()?;
    let subject = subject.as_str().as_bytes();
    let len = u32::try_from(subject.len())
        .map_err(|_| Error::invalid_input("subject id too long to store"))?;
    let region = region.map(str::as_bytes);
    let region_len = region
        .map(|r| u16::try_from(r.len()).map_err(|_| Error::invalid_input("region too long")))
        .transpose()?;
    let mut out = Zeroizing::new(Vec::with_capacity(
        7 + subject.len() + region.map_or(0, <[u8]>::len) + token_bytes.len(),
    ));
    out.push(if region.is_some() {
        PAYLOAD_V3
    } else {
        PAYLOAD_V2
    });
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(subject);
    if let (Some(region), Some(region_len)) = (region, region_len) {
        out.extend_from_slice(&region_len.to_be_bytes());
        out.extend_from_slice(region);
    }
    out.extend_from_slice(&token_bytes);
    Ok(out)
}

/// What a token row's opened payload holds: the subject id (none in format 1), the region
/// (format 3 only) and the token set.
pub(crate) type Payload = (Option<SubjectId>, Option<String>, TokenSet);

impl EncryptedStore {
    /// Opens a token row found by a scan across subjects: its subject and token set, or
    /// `None` when the subject's data key is gone (an erasure in progress), the payload names
    /// no subject (format 1), or the row's pseudonym is not its subject's.
    pub(crate) async fn open_scanned(
        &self,
        row: &TokenRow,
    ) -> Result<Option<(SubjectId, TokenSet)>> {
        let Some(plaintext) = self
            .open_if_key(
                &row.subject_ref,
                RecordKind::Token,
                row.conn_id.as_bytes(),
                &row.dek_id,
                &row.sealed,
            )
            .await?
        else {
            return Ok(None);
        };
        let (Some(subject), _, tokens) = decode_payload(&plaintext)? else {
            return Ok(None);
        };
        if self.subject_ref(&subject) != row.subject_ref {
            return Ok(None);
        }
        Ok(Some((subject, tokens)))
    }
}

/// Reads a token row's opened payload.
pub(crate) fn decode_payload(bytes: &[u8]) -> Result<Payload> {
    let malformed = || Error::storage_msg("stored token payload is malformed");
    let (with_region, rest) = match bytes.split_first() {
        Some((&PAYLOAD_V2, rest)) => (false, rest),
        Some((&PAYLOAD_V3, rest)) => (true, rest),
        _ => return Ok((None, None, TokenSet::from_secret_bytes(bytes)?)),
    };
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(malformed)?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| malformed())?;
    if rest.len() < len {
        return Err(malformed());
    }
    let (subject, mut rest) = rest.split_at(len);
    let subject = std::str::from_utf8(subject)
        .ok()
        .and_then(|s| SubjectId::new(s).ok())
        .ok_or_else(malformed)?;
    let mut region = None;
    if with_region {
        let (len, after) = rest.split_first_chunk::<2>().ok_or_else(malformed)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if after.len() < len {
            return Err(malformed());
        }
        let (r, after) = after.split_at(len);
        region = Some(std::str::from_utf8(r).map_err(|_| malformed())?.to_owned());
        rest = after;
    }
    Ok((Some(subject), region, TokenSet::from_secret_bytes(rest)?))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use socialconnect_core::secret::AccessToken;
    use socialconnect_core::token::Expiry;

    use super::*;

    fn sample() -> TokenSet {
        TokenSet::new(AccessToken::new("acc-SECRET"), Expiry::Never, Utc::now())
            .with_account_id("42")
    }

    #[test]
    fn payload_round_trip_and_format_1() {
        let subject = SubjectId::new("alice").unwrap();
        let bytes = encode_payload(&subject, None, &sample()).unwrap();
        let (got_subject, region, got) = decode_payload(&bytes).unwrap();
        assert_eq!(got_subject, Some(subject.clone()));
        assert_eq!(region, None);
        assert_eq!(got.access_token.expose_secret(), "acc-SECRET");
        assert_eq!(got.account_id.as_deref(), Some("42"));

        // Format 1: the token set alone.
        let legacy = sample().to_secret_bytes().unwrap();
        let (no_subject, _, got) = decode_payload(&legacy).unwrap();
        assert_eq!(no_subject, None);
        assert_eq!(got.account_id.as_deref(), Some("42"));

        // Format 3: with a region.
        let bytes = encode_payload(&subject, Some("eu-central-1"), &sample()).unwrap();
        assert_eq!(bytes[0], PAYLOAD_V3);
        let (got_subject, region, got) = decode_payload(&bytes).unwrap();
        assert_eq!(got_subject, Some(subject));
        assert_eq!(region.as_deref(), Some("eu-central-1"));
        assert_eq!(got.account_id.as_deref(), Some("42"));
    }

    #[test]
    fn malformed_payloads_are_errors_not_panics() {
        let subject = SubjectId::new("alice").unwrap();
        let bytes = encode_payload(&subject, None, &sample()).unwrap();
        let v3 = encode_payload(&subject, Some("eu-central-1"), &sample()).unwrap();
        for cut in [1, 3, 5, 9, 12, 20, v3.len() - 1] {
            assert!(decode_payload(&v3[..cut]).is_err(), "v3 cut at {cut}");
        }
        for cut in [1, 3, 5, 9, bytes.len() - 1] {
            assert!(decode_payload(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut huge = bytes.to_vec();
        huge[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_payload(&huge).is_err());
        assert!(decode_payload(&[]).is_err());
        let err = decode_payload(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}
