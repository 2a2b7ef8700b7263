//! Rows to structs, for every SQL driver. A column of the wrong type, a hash of the wrong
//! length or an impossible version is a typed storage error naming the table and column —
//! never a panic, and never the value itself (it may be sealed or personal).

use std::cell::Cell;

use socialconnect_core::apikey::{ApiKeyHash, ApiKeyId, ApiKeyRecord};
use socialconnect_core::{Error, Result};

use crate::backend::{
    ActionKey, ActionListing, ActionRow, ConsentRow, ConsentStateRow, DeclarationRow, DeletionRow,
    MetaRow, NoticeRow, PendingRow, ProfileRow, ReceiptRow, SubjectKeyRow, TokenRow, UsageRow,
};

/// The longest text or blob the store reads back: far above any record it writes (a sealed
/// token set is under 10 KiB; HTTP bodies are capped at 8 MiB). The SQL backends select every
/// such column through `substr(…, 1, MAX_VALUE_BYTES + 1)` (see `backend::sql`), and SQLite
/// connections also carry it as `SQLITE_LIMIT_LENGTH`.
pub(crate) const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

fn malformed(table: &str, column: &str, what: &str) -> Error {
    Error::storage_msg(format!("malformed row in {table}: column {column} {what}"))
}

/// What a driver's row gives: a column's value by position (`None` for NULL, `Err` when it is
/// missing or holds another type). The driver's own error is dropped: it may quote the value.
pub(crate) trait Source {
    /// The name of the column at `index`, when there is one (checked in debug builds).
    fn name_at(&self, index: usize) -> Option<&str>;
    fn opt_int(&self, index: usize) -> std::result::Result<Option<i64>, Mismatch>;
    fn opt_text(&self, index: usize) -> std::result::Result<Option<String>, Mismatch>;
    fn opt_bytes(&self, index: usize) -> std::result::Result<Option<Vec<u8>>, Mismatch>;

    /// A 32-byte value (pseudonym, hash, digest). Drivers that can borrow the bytes skip the
    /// copy.
    fn opt_hash(&self, index: usize) -> std::result::Result<Option<[u8; 32]>, Mismatch> {
        self.opt_bytes(index)?
            .map(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| Mismatch::Length))
            .transpose()
    }
}

/// Why a column could not be read.
#[derive(Debug)]
pub(crate) enum Mismatch {
    /// Missing, or of another type.
    Type,
    /// A hash of another length than 32 bytes.
    Length,
    /// Longer than [`MAX_VALUE_BYTES`].
    Oversized,
}

/// The columns of one row of `table`, read in the order the query selects them.
///
/// The order is the code's own (every query names its columns), so release builds read by
/// position; debug builds, which every test runs, check each column's name. Looking columns up
/// by name costs the SQLite driver a call into the library per column compared, about a
/// microsecond for a token row.
pub(crate) struct Columns<'r> {
    row: &'r dyn Source,
    table: &'static str,
    next: Cell<usize>,
}

impl<'r> Columns<'r> {
    pub(crate) fn new(row: &'r dyn Source, table: &'static str) -> Self {
        Self {
            row,
            table,
            next: Cell::new(0),
        }
    }

    /// The position of `column`: the one after the previous read.
    fn index(&self, column: &'static str) -> usize {
        let index = self.next.get();
        debug_assert_eq!(
            self.row.name_at(index),
            Some(column),
            "a decoder of {} reads its columns in another order than its query selects them",
            self.table
        );
        self.next.set(index + 1);
        index
    }

    fn wrong_type(&self, column: &'static str) -> impl FnOnce(Mismatch) -> Error {
        let table = self.table;
        move |mismatch| match mismatch {
            Mismatch::Type => malformed(table, column, "is missing or has the wrong type"),
            Mismatch::Length => malformed(table, column, "is not 32 bytes"),
            Mismatch::Oversized => malformed(table, column, "is longer than the store reads"),
        }
    }

    fn required<T>(&self, column: &'static str, value: Option<T>) -> Result<T> {
        value.ok_or_else(|| malformed(self.table, column, "is NULL"))
    }

    pub(crate) fn int(&self, column: &'static str) -> Result<i64> {
        let value = self.opt_int(column)?;
        self.required(column, value)
    }

    pub(crate) fn opt_int(&self, column: &'static str) -> Result<Option<i64>> {
        let index = self.index(column);
        self.row.opt_int(index).map_err(self.wrong_type(column))
    }

    pub(crate) fn text(&self, column: &'static str) -> Result<String> {
        let value = self.opt_text(column)?;
        self.required(column, value)
    }

    pub(crate) fn opt_text(&self, column: &'static str) -> Result<Option<String>> {
        let index = self.index(column);
        let value = self.row.opt_text(index).map_err(self.wrong_type(column))?;
        self.within_bound(column, value, String::len)
    }

    pub(crate) fn bytes(&self, column: &'static str) -> Result<Vec<u8>> {
        let value = self.opt_bytes(column)?;
        self.required(column, value)
    }

    pub(crate) fn opt_bytes(&self, column: &'static str) -> Result<Option<Vec<u8>>> {
        let index = self.index(column);
        let value = self.row.opt_bytes(index).map_err(self.wrong_type(column))?;
        self.within_bound(column, value, Vec::len)
    }

    /// `value`, unless it is longer than [`MAX_VALUE_BYTES`] (the query cut it one byte over).
    fn within_bound<T>(
        &self,
        column: &'static str,
        value: Option<T>,
        len: impl Fn(&T) -> usize,
    ) -> Result<Option<T>> {
        match value {
            Some(v) if len(&v) > MAX_VALUE_BYTES => {
                Err(self.wrong_type(column)(Mismatch::Oversized))
            }
            value => Ok(value),
        }
    }

    /// A 32-byte value (pseudonym, hash, digest).
    pub(crate) fn hash(&self, column: &'static str) -> Result<[u8; 32]> {
        let value = self.opt_hash(column)?;
        self.required(column, value)
    }

    pub(crate) fn opt_hash(&self, column: &'static str) -> Result<Option<[u8; 32]>> {
        let index = self.index(column);
        self.row.opt_hash(index).map_err(self.wrong_type(column))
    }

    /// A row version: at least 1 (so `unsigned_abs` turns it into the `u64` callers see).
    pub(crate) fn version(&self, column: &'static str) -> Result<i64> {
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

    /// An action id: 16 bytes.
    pub(crate) fn action_key(&self, column: &'static str) -> Result<ActionKey> {
        ActionKey::try_from(self.bytes(column)?.as_slice())
            .map_err(|_| malformed(self.table, column, "is not 16 bytes"))
    }

    /// A count or other non-negative integer.
    pub(crate) fn count(&self, column: &'static str) -> Result<u64> {
        u64::try_from(self.int(column)?).map_err(|_| malformed(self.table, column, "is negative"))
    }
}

pub(crate) fn meta(row: &dyn Source) -> Result<MetaRow> {
    let c = Columns::new(row, "sc_meta");
    Ok(MetaRow {
        name: c.text("name")?,
        kek_id: c.text("kek_id")?,
        wrapped: c.bytes("wrapped")?,
    })
}

pub(crate) fn subject_key(row: &dyn Source) -> Result<SubjectKeyRow> {
    let c = Columns::new(row, "sc_subject_keys");
    Ok(SubjectKeyRow {
        subject_ref: c.hash("subject_ref")?,
        dek_id: c.text("dek_id")?,
        kek_id: c.text("kek_id")?,
        wrapped: c.bytes("wrapped")?,
        created_at: c.int("created_at")?,
    })
}

pub(crate) fn token(row: &dyn Source) -> Result<TokenRow> {
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
        refresh_due_at: c.opt_int("refresh_due_at")?,
    })
}

pub(crate) fn deletion_request(row: &dyn Source) -> Result<DeletionRow> {
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

pub(crate) fn pending(row: &dyn Source) -> Result<PendingRow> {
    let c = Columns::new(row, "sc_pending");
    Ok(PendingRow {
        state_hash: c.hash("state_hash")?,
        subject_ref: c.hash("subject_ref")?,
        expires_at: c.int("expires_at")?,
        dek_id: c.text("dek_id")?,
        sealed: c.bytes("sealed")?,
    })
}

pub(crate) fn consent(row: &dyn Source) -> Result<ConsentRow> {
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

pub(crate) fn consent_state(row: &dyn Source) -> Result<ConsentStateRow> {
    let c = Columns::new(row, "sc_consent_state");
    Ok(ConsentStateRow {
        seq: c.int("seq")?,
        action: c.text("action")?,
        expires_at: c.opt_int("expires_at")?,
        basis: c.opt_text("basis")?,
        notice_version: c.opt_text("notice_version")?,
    })
}

pub(crate) fn profile(row: &dyn Source) -> Result<ProfileRow> {
    let c = Columns::new(row, "sc_profiles");
    Ok(ProfileRow {
        subject_ref: c.hash("subject_ref")?,
        dek_id: c.text("dek_id")?,
        sealed: c.bytes("sealed")?,
        updated_at: c.int("updated_at")?,
    })
}

pub(crate) fn notice(row: &dyn Source) -> Result<NoticeRow> {
    let c = Columns::new(row, "sc_notices");
    Ok(NoticeRow {
        version: c.text("version")?,
        hash: c.text("hash")?,
        significant: match c.int("significant")? {
            0 => false,
            1 => true,
            _ => return Err(malformed("sc_notices", "significant", "is not 0 or 1")),
        },
        effective_at: c.int("effective_at")?,
    })
}

pub(crate) fn declaration(row: &dyn Source) -> Result<DeclarationRow> {
    let c = Columns::new(row, "sc_declarations");
    Ok(DeclarationRow {
        purpose: c.text("purpose")?,
        basis: c.opt_text("basis")?,
        justification: c.opt_text("justification")?,
        declared_at: c.int("declared_at")?,
    })
}

pub(crate) fn receipt(row: &dyn Source) -> Result<ReceiptRow> {
    let c = Columns::new(row, "sc_erasure_receipts");
    Ok(ReceiptRow {
        pseudonym: c.text("pseudonym")?,
        erased_at: c.int("erased_at")?,
        body: c.text("body")?,
    })
}

pub(crate) fn api_key(row: &dyn Source) -> Result<ApiKeyRecord> {
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

pub(crate) fn usage(row: &dyn Source) -> Result<UsageRow> {
    usage_in(&Columns::new(row, "sc_usage_log"))
}

/// A usage-log row followed by its `id` column.
pub(crate) fn usage_with_id(row: &dyn Source) -> Result<(i64, UsageRow)> {
    let c = Columns::new(row, "sc_usage_log");
    let usage = usage_in(&c)?;
    Ok((c.int("id")?, usage))
}

fn usage_in(c: &Columns<'_>) -> Result<UsageRow> {
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

/// A slot index from `sc_rate_slots`.
pub(crate) fn rate_slot(row: &dyn Source) -> Result<u32> {
    let c = Columns::new(row, "sc_rate_slots");
    u32::try_from(c.int("slot")?).map_err(|_| malformed("sc_rate_slots", "slot", "is out of range"))
}

/// How many slots a key has and the least recent use among them.
pub(crate) fn rate_slots(row: &dyn Source) -> Result<(u64, Option<i64>)> {
    let c = Columns::new(row, "sc_rate_slots");
    Ok((c.count("slots")?, c.opt_int("earliest")?))
}

/// A pause's end from `sc_rate_pauses`.
pub(crate) fn rate_pause(row: &dyn Source) -> Result<i64> {
    Columns::new(row, "sc_rate_pauses").int("until_at")
}

/// A day's count from `sc_rate_days`.
pub(crate) fn rate_day(row: &dyn Source) -> Result<u64> {
    Columns::new(row, "sc_rate_days").count("calls")
}

pub(crate) fn action(row: &dyn Source) -> Result<ActionRow> {
    let c = Columns::new(row, "sc_actions");
    Ok(ActionRow {
        action_id: c.action_key("action_id")?,
        subject_ref: c.hash("subject_ref")?,
        platform: c.text("platform")?,
        conn_id: c.text("conn_id")?,
        kind: c.text("kind")?,
        state: c.text("state")?,
        due_at: c.opt_int("due_at")?,
        created_at: c.int("created_at")?,
        updated_at: c.int("updated_at")?,
        dek_id: c.text("dek_id")?,
        sealed: c.bytes("sealed")?,
    })
}

pub(crate) fn action_listing(row: &dyn Source) -> Result<ActionListing> {
    let c = Columns::new(row, "sc_actions");
    Ok(ActionListing {
        action_id: c.action_key("action_id")?,
        platform: c.text("platform")?,
        conn_id: c.text("conn_id")?,
        kind: c.text("kind")?,
        state: c.text("state")?,
        due_at: c.opt_int("due_at")?,
        updated_at: c.int("updated_at")?,
    })
}
