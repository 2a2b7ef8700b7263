//! Wire and domain types of the Meta APIs: tolerant of what Meta actually sends (ids as strings
//! or numbers, Graph timestamps with `+0000`, optional fields).

pub(crate) mod de;
pub(crate) mod instagram;
pub(crate) mod pages;
pub mod paging;
pub mod webhook;
pub(crate) mod whatsapp;
