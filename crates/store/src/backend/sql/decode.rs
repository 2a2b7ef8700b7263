//! Rows to structs. A column of the wrong type, a hash of the wrong length or an impossible
//! version is a typed storage error naming the table and column — never a panic, and never the
//! value itself (it may be sealed or personal).

use socialconnect_core::{Error, Result};
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};

use socialconnect_core::apikey::{ApiKeyHash, ApiKeyId, ApiKeyRecord};

use crate::backend::{
    ConsentRow, ConsentStateRow, DeletionRow, MetaRow, PendingRow, ProfileRow, ReceiptRow,
    SubjectKeyRow, TokenRow, UsageRow,
};

fn malformed(table: &str, column: &str, what: &str) -> Error {
    Error::storage_msg(format!("malformed row in {table}: column {column} {what}"))
}

/// The columns of one row of `table`.
pub(super) struct Columns<'r> {
    row: &'r AnyRow,
    table: &'static str,
}

impl<'r> Columns<'r> {
    pub(super) fn new(row: &'r AnyRow, table: &'static str) -> Self {
        Self { row, table }
    }

    fn get<T>(&self, column: &'static str) -> Result<T>
    where
        T: Decode<'r, Any> + Type<Any>,
    {
        // The sqlx error is dropped on purpose: it may quote the value.
        self.row
            .try_get::<T, _>(column)
            .map_err(|_| malformed(self.table, column, "is missing or has the wrong type"))
    }

    pub(super) fn int(&self, column: &'static str) -> Result<i64> {
        self.get(column)
    }

    pub(super) fn opt_int(&self, column: &'static str) -> Result<Option<i64>> {
        self.get(column)
    }

    pub(super) fn text(&self, column: &'static str) -> Result<String> {
        self.get(column)
    }

    pub(super) fn opt_text(&self, column: &'static str) -> Result<Option<String>> {
        self.get(column)
    }

    pub(super) fn bytes(&self, column: &'static str) -> Result<Vec<u8>> {
        self.get(column)
    }

    pub(super) fn opt_bytes(&self, column: &'static str) -> Result<Option<Vec<u8>>> {
        self.get(column)
    }

    /// A 32-byte value (pseudonym, hash, digest).
    pub(super) fn hash(&self, column: &'static str) -> Result<[u8; 32]> {
        let bytes = self.bytes(column)?;
        self.to_hash(column, &bytes)
    }

    pub(super) fn opt_hash(&self, column: &'static str) -> Result<Option<[u8; 32]>> {
        self.opt_bytes(column)?
            .map(|bytes| self.to_hash(column, &bytes))
            .transpose()
    }

    fn to_hash(&self, column: &'static str, bytes: &[u8]) -> Result<[u8; 32]> {
        <[u8; 32]>::try_from(bytes).map_err(|_| malformed(self.table, column, "is not 32 bytes"))
    }

    /// A row version: at least 1 (so `unsigned_abs` turns it into the `u64` callers see).
    pub(super) fn version(&self, column: &'static str) -> Result<i64> {
        let version = self.int(column)?;
        if version < 1 {
            return Err(malformed(
                self.table,
                column,
                "is not a version (at least 1)",
            ));
        }
        Ok(version)
    }

    /// A count or other non-negative integer.
    pub(super) fn count(&self, column: &'static str) -> Result<u64> {
        u64::try_from(self.int(column)?).map_err(|_| malformed(self.table, column, "is negative"))
    }
}

pub(super) fn meta(row: &AnyRow) -> Result<MetaRow> {
    let c = Columns::new(row, "sc_meta");
    Ok(MetaRow {
        name: c.text("name")?,
        kek_id: c.text("kek_id")?,
        wrapped: c.bytes("wrapped")?,
    })
}

pub(super) fn subject_key(row: &AnyRow) -> Result<SubjectKeyRow> {
    let c = Columns::new(row, "sc_subject_keys");
    Ok(SubjectKeyRow {
        subject_ref: c.hash("subject_ref")?,
        dek_id: c.text("dek_id")?,
        kek_id: c.text("kek_id")?,
        wrapped: c.bytes("wrapped")?,
        created_at: c.int("created_at")?,
    })
}

pub(super) fn token(row: &AnyRow) -> Result<TokenRow> {
    let c = Columns::new(row, "sc_tokens");
    Ok(TokenRow {
        conn_id: c.text("conn_id")?,
        subject_ref: c.hash("subject_ref")?,
        platform: c.text("platform")?,
        version: c.version("version")?,
        status: c.text("status")?,
        status_since: c.opt_int("status_since")?,
        updated_at: c.int("updated_at")?,
        account_ref: c.opt_hash("account_ref")?,
        dek_id: c.text("dek_id")?,
        sealed: c.bytes("sealed")?,
    })
}

pub(super) fn deletion_request(row: &AnyRow) -> Result<DeletionRow> {
    let c = Columns::new(row, "sc_deletion_requests");
    Ok(DeletionRow {
        code: c.text("code")?,
        platform: c.text("platform")?,
        subject_ref: c.opt_hash("subject_ref")?,
        dek_id: c.opt_text("dek_id")?,
        sealed: c.opt_bytes("sealed")?,
        received_at: c.int("received_at")?,
        status: c.text("status")?,
        status_at: c.opt_int("status_at")?,
        reason: c.opt_text("reason")?,
    })
}

pub(super) fn pending(row: &AnyRow) -> Result<PendingRow> {
    let c = Columns::new(row, "sc_pending");
    Ok(PendingRow {
        state_hash: c.hash("state_hash")?,
        subject_ref: c.hash("subject_ref")?,
        expires_at: c.int("expires_at")?,
        dek_id: c.text("dek_id")?,
        sealed: c.bytes("sealed")?,
    })
}

pub(super) fn consent(row: &AnyRow) -> Result<ConsentRow> {
    let c = Columns::new(row, "sc_consent");
    Ok(ConsentRow {
        seq: c.int("seq")?,
        subject_ref: c.opt_hash("subject_ref")?,
        purpose: c.opt_text("purpose")?,
        platform: c.opt_text("platform")?,
        action: c.opt_text("action")?,
        recorded_at: c.opt_int("recorded_at")?,
        expires_at: c.opt_int("expires_at")?,
        dek_id: c.opt_text("dek_id")?,
        sealed: c.opt_bytes("sealed")?,
        row_digest: c.hash("row_digest")?,
        prev_hash: c.hash("prev_hash")?,
        hash: c.hash("hash")?,
    })
}

pub(super) fn consent_state(row: &AnyRow) -> Result<ConsentStateRow> {
    let c = Columns::new(row, "sc_consent_state");
    Ok(ConsentStateRow {
        seq: c.int("seq")?,
        action: c.text("action")?,
        expires_at: c.opt_int("expires_at")?,
        basis: c.opt_text("basis")?,
        notice_version: c.opt_text("notice_version")?,
    })
}

pub(super) fn profile(row: &AnyRow) -> Result<ProfileRow> {
    let c = Columns::new(row, "sc_profiles");
    Ok(ProfileRow {
        subject_ref: c.hash("subject_ref")?,
        dek_id: c.text("dek_id")?,
        sealed: c.bytes("sealed")?,
        updated_at: c.int("updated_at")?,
    })
}

pub(super) fn receipt(row: &AnyRow) -> Result<ReceiptRow> {
    let c = Columns::new(row, "sc_erasure_receipts");
    Ok(ReceiptRow {
        pseudonym: c.text("pseudonym")?,
        erased_at: c.int("erased_at")?,
        body: c.text("body")?,
    })
}

pub(super) fn api_key(row: &AnyRow) -> Result<ApiKeyRecord> {
    const TABLE: &str = "sc_api_keys";
    let c = Columns::new(row, TABLE);
    let time = |column: &'static str, us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .ok_or_else(|| malformed(TABLE, column, "is out of range"))
    };
    let opt_time = |column: &'static str| -> Result<_> {
        c.opt_int(column)?.map(|us| time(column, us)).transpose()
    };
    let id = |column: &'static str, text: &str| {
        ApiKeyId::parse(text).map_err(|_| malformed(TABLE, column, "is not a UUID"))
    };
    let mut record = ApiKeyRecord::new(
        id("key_id", &c.text("key_id")?)?,
        ApiKeyHash::from_bytes(c.hash("hash")?),
        c.text("scopes")?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        time("created_at", c.int("created_at")?)?,
        opt_time("expires_at")?,
    );
    record.last_used_at = opt_time("last_used_at")?;
    record.revoked_at = opt_time("revoked_at")?;
    record.replaced_by = c
        .opt_text("replaced_by")?
        .map(|t| id("replaced_by", &t))
        .transpose()?;
    record.grace_until = opt_time("grace_until")?;
    Ok(record)
}

pub(super) fn usage(row: &AnyRow) -> Result<UsageRow> {
    let c = Columns::new(row, "sc_usage_log");
    Ok(UsageRow {
        subject_ref: c.hash("subject_ref")?,
        at: c.int("at")?,
        platform: c.text("platform")?,
        operation: c.text("operation")?,
        outcome: c.text("outcome")?,
        http_status: c.opt_int("http_status")?,
        latency_us: c.int("latency_us")?,
        dek_id: c.text("dek_id")?,
        sealed: c.bytes("sealed")?,
    })
}
