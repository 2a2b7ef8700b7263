//! Reading columns of a rusqlite row (see [`crate::backend::decode`] for the rows).

use rusqlite::Row;
use rusqlite::types::FromSql;

use crate::backend::decode::{Mismatch, Source};

fn get<T: FromSql>(row: &Row<'_>, index: usize) -> Result<Option<T>, Mismatch> {
    row.get::<_, Option<T>>(index).map_err(|_| Mismatch)
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
}
