//! The store contract against core's in-memory stores: a backend other than the store crate's
//! passes the same cases.

use std::sync::Arc;

use chrono::Utc;
use socialconnect_core::memory::{
    MemoryAccessLog, MemoryConsentLedger, MemoryPendingAuthStore, MemoryTokenStore,
};
use socialconnect_testkit::ManualClock;
use socialconnect_testkit::store_contract::{self, Stores};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_memory_stores_pass_the_store_contract() {
    let report = store_contract::run("core's memory stores", || async {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        Stores {
            tokens: Arc::new(MemoryTokenStore::with_clock(clock.clone())),
            pending: Arc::new(MemoryPendingAuthStore::new()),
            ledger: Arc::new(MemoryConsentLedger::with_clock(clock.clone())),
            log: Arc::new(MemoryAccessLog::new()),
            clock,
            guard: None,
        }
    })
    .await;
    println!("{report}");
    report.assert_passed();
    assert_eq!(report.case_count(), 8);
}
