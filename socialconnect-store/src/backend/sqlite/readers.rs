//! The reader connections of one database file: at most [`READERS`], opened as load needs them
//! and kept; a read finding all of them busy either waits (on a thread allowed to block) or, for
//! a lookup that would run in place, goes to the blocking pool instead.

use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;
use socialconnect_core::Result;

use super::conn::{closed, connect};

/// Reader connections per database file, at most.
pub(super) const READERS: usize = 8;

pub(super) struct Readers {
    path: PathBuf,
    state: Mutex<State>,
    /// Signalled when a connection is given back (or its slot freed).
    returned: Condvar,
}

struct State {
    idle: Vec<Connection>,
    /// Connections open or being opened, idle or in use.
    open: usize,
    /// Threads waiting on `returned` (std's condition variable makes a system call on every
    /// notification, so give-backs notify only when someone waits).
    waiting: usize,
    closed: bool,
}

/// A reader connection taken from the set, or the right to open one. Given back when dropped,
/// on every path — an error or a panic in the read included.
pub(super) struct Slot<'r> {
    readers: &'r Readers,
    conn: Option<Connection>,
}

impl Readers {
    pub(super) fn new(path: PathBuf, first: Connection) -> Self {
        Self {
            path,
            state: Mutex::new(State {
                idle: vec![first],
                open: 1,
                waiting: 0,
                closed: false,
            }),
            returned: Condvar::new(),
        }
    }

    /// A reader without waiting: `None` when all [`READERS`] are in use.
    pub(super) fn try_take(&self, what: &'static str) -> Result<Option<Slot<'_>>> {
        let mut state = self.lock();
        self.reserve(&mut state, what)
    }

    /// A reader, waiting for one while all are in use. Blocking.
    pub(super) fn take(&self, what: &'static str) -> Result<Slot<'_>> {
        let mut state = self.lock();
        loop {
            if let Some(slot) = self.reserve(&mut state, what)? {
                return Ok(slot);
            }
            state = self.wait(state);
        }
    }

    /// Refuses new reads, closes the idle connections and waits until those in use are given
    /// back (and closed). Blocking.
    pub(super) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        let idle = std::mem::take(&mut state.idle);
        state.open -= idle.len();
        // Reads waiting for a connection learn the database is closed.
        self.returned.notify_all();
        while state.open > 0 {
            state = self.wait(state);
        }
        drop(state);
        drop(idle);
    }

    /// Connections open now.
    #[cfg(test)]
    pub(super) fn open(&self) -> usize {
        self.lock().open
    }

    fn reserve<'r>(&'r self, state: &mut State, what: &'static str) -> Result<Option<Slot<'r>>> {
        if state.closed {
            return Err(closed(what));
        }
        let conn = match state.idle.pop() {
            Some(conn) => Some(conn),
            None if state.open < READERS => {
                state.open += 1;
                None
            }
            None => return Ok(None),
        };
        Ok(Some(Slot {
            readers: self,
            conn,
        }))
    }

    fn wait<'g>(&self, mut state: MutexGuard<'g, State>) -> MutexGuard<'g, State> {
        state.waiting += 1;
        let mut state = self
            .returned
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
        state.waiting -= 1;
        state
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the state leaves it consistent (every change is one step).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Slot<'_> {
    /// The connection, opened now when the slot came without one.
    pub(super) fn connection(&mut self) -> Result<&Connection> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => connect(&self.readers.path)?,
        };
        Ok(self.conn.insert(conn))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self.readers.lock();
        let to_close = match self.conn.take() {
            Some(conn) if !state.closed => {
                state.idle.push(conn);
                None
            }
            other => {
                state.open -= 1;
                other
            }
        };
        let (waiting, closed) = (state.waiting > 0, state.closed);
        drop(state);
        if waiting {
            // Once closed, `close` may be among the waiters: wake everyone.
            if closed {
                self.readers.returned.notify_all();
            } else {
                self.readers.returned.notify_one();
            }
        }
        drop(to_close);
    }
}
