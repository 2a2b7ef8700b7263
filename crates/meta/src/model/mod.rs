//! Wire types: tolerant of what Meta actually sends (ids as strings or numbers, Graph
//! timestamps with `+0000`, optional fields), converted into the public domain types.

pub(crate) mod de;
pub(crate) mod instagram;
pub(crate) mod pages;
pub mod paging;
pub(crate) mod whatsapp;
