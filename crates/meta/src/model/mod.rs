//! Wire and domain types of the Meta APIs.

pub mod webhook;
