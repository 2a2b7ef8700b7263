//! Reading columns of an Any-driver row (see [`crate::backend::decode`] for the rows).

use sqlx::any::AnyRow;
use sqlx::{Any, Column, Decode, Row, Type};

use crate::backend::decode::{Mismatch, Source};

fn get<'r, T>(row: &'r AnyRow, index: usize) -> Result<Option<T>, Mismatch>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get::<Option<T>, _>(index)
        .map_err(|_| Mismatch::Type)
}

impl Source for AnyRow {
    fn name_at(&self, index: usize) -> Option<&str> {
        self.columns().get(index).map(Column::name)
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
