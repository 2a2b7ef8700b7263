//! Reading columns of a rusqlite row (see [`crate::backend::decode`] for the rows).

use rusqlite::Row;
use rusqlite::types::{FromSql, ValueRef};

use crate::backend::decode::{Mismatch, Source};

fn get<T: FromSql>(row: &Row<'_>, index: usize) -> Result<Option<T>, Mismatch> {
    row.get::<_, Option<T>>(index).map_err(|_| Mismatch::Type)
}

impl Source for Row<'_> {
    fn name_at(&self, index: usize) -> Option<&str> {
        self.as_ref().column_name(index).ok()
    }

    fn opt_int(&self, index: usize) -> Result<Option<i64>, Mismatch> {
        get(self, index)
    }

    fn opt_text(&self, index: usize) -> Result<Option<String>, Mismatch> {
        get(self, index)
    }

    fn opt_bytes(&self, index: usize) -> Result<Option<Vec<u8>>, Mismatch> {
        get(self, index)
    }

    fn opt_hash(&self, index: usize) -> Result<Option<[u8; 32]>, Mismatch> {
        match self.get_ref(index).map_err(|_| Mismatch::Type)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(bytes) => <[u8; 32]>::try_from(bytes)
                .map(Some)
                .map_err(|_| Mismatch::Length),
            _ => Err(Mismatch::Type),
        }
    }
}
