//! Scheduled and recurring actions: publishing, replying, analytics snapshots run later or on
//! a schedule, durably, on behalf of an end user.
//!
//! A host schedules an action with [`SocialConnect::schedule_action`](crate::SocialConnect::schedule_action);
//! it is stored in an [`ActionStore`] (the encrypted store seals its payload under the
//! subject's data key, so erasure's crypto-shredding covers it) and run by an
//! [`ActionRunner`](crate::ActionRunner), one per instance, which claims due actions the way
//! the refresh sweep claims due connections ([`crate::claim`]): several instances on one
//! PostgreSQL share them, none runs one twice. At run time an action passes the gates a live
//! call passes (consent for its purpose, the age gate, the connection's state, the notice
//! re-consent); a publish whose outcome was unknown is reconciled against the platform
//! ([`ActionExecutor::reconcile`]) and never blindly sent again. Each platform crate offers an
//! [`ActionExecutor`] for its kinds of action.

/// The kind every hub runs itself: refresh the connection's token now (through the
/// single-flight engine, as [`SocialConnect::refresh_now`](crate::SocialConnect::refresh_now) does). Scheduled like any other
/// action, for a platform-independent "keep this connection fresh at 03:00".
pub const REFRESH_KIND: &str = "core.refresh";

mod action;
mod executor;
pub mod schedule;
mod store;

pub use action::{ActionId, ActionState, ActionSummary, CancelReason, StoredAction};
pub use executor::{
    ActionExecutor, ActionPayload, ActionRun, CLOCK_SLACK, Reconciliation, decode_payload,
};
pub use schedule::{CatchUp, LocalTime, Recurrence, Schedule, TimeZoneName};
pub use store::{ActionFilter, ActionStore, ActionWrite};
