//! The fault matrix: every [`Fault`] on the read and on the write operation.

use std::sync::Arc;
use std::time::Duration;

use socialconnect_core::store::ConnectionStatus;

use super::faults::{Expectation, Fault, FaultSwitch};
use super::report::Report;
use super::{CaseOutcome, Check, Ctx, FAULT_TIMEOUT, Operation, READ_ATTEMPTS, ensure, record};

/// The client timeout outside the timeout cases.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Read,
    Write,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Read => "read",
            Side::Write => "write",
        }
    }
}

pub(super) async fn run(cx: &Ctx<'_>, report: &mut Report) {
    for (side, op) in [
        (Side::Read, cx.suite.read.as_ref()),
        (Side::Write, cx.suite.write.as_ref()),
    ] {
        let Some(op) = op else {
            record(
                report,
                format!("fault_matrix::{}::operation_is_given", side.name()),
                async {
                    Err("the suite was given no operation (Suite::read / Suite::write)".into())
                },
            )
            .await;
            continue;
        };
        let switch = FaultSwitch::mount(cx.sim.server(), &op.method, &op.path).await;
        for fault in Fault::ALL {
            let expected = match side {
                Side::Read => fault.read_expectation(),
                Side::Write => fault.write_expectation(),
            };
            let name = format!(
                "fault_matrix::{}::{}::{}",
                side.name(),
                fault.name(),
                expected.name
            );
            record(report, name, one(cx, side, op, &switch, fault, &expected)).await;
        }
    }
}

/// Connects, opens a session, arms `fault` and runs the operation once.
async fn one(
    cx: &Ctx<'_>,
    side: Side,
    op: &Operation,
    switch: &Arc<FaultSwitch>,
    fault: Fault,
    expected: &Expectation,
) -> Check {
    let timeout = if fault == Fault::Timeout {
        FAULT_TIMEOUT
    } else {
        TIMEOUT
    };
    let h = cx.harness(timeout);
    let c = cx.connected(&h).await?;
    let session = h
        .try_session(&c.key, op.purpose)
        .await
        .map_err(|e| format!("no session for {:?}: {e}", op.purpose))?;
    let before = cx.stored(&h, &c).await?;
    switch.arm(fault);
    let result = (op.call)(session).await;
    let hits = switch.disarm();
    let after = cx.stored(&h, &c).await?;

    let (method, path) = (&op.method, &op.path);
    ensure!(
        hits > 0,
        "`{}` never reached {method} {path}: is that the path it sends?",
        op.name
    );
    let error = match result {
        Ok(()) => return Err(format!("`{}` succeeded despite the fault", op.name)),
        Err(e) => e,
    };
    let kind = error.kind();
    ensure!(
        (expected.accepts)(kind),
        "`{}` failed with {kind:?} ({error}), expected it to be {}",
        op.name,
        expected.name.trim_start_matches("is_").replace('_', " ")
    );
    match side {
        Side::Write => ensure!(
            hits == 1,
            "the write reached {method} {path} {hits} times: a write that may have been \
             sent is never repeated"
        ),
        Side::Read => ensure!(
            hits <= READ_ATTEMPTS as usize,
            "the read reached {method} {path} {hits} times, more than {READ_ATTEMPTS} attempts"
        ),
    }
    let token = before.tokens.access_token.expose_secret();
    ensure!(
        !format!("{error} {error:?}").contains(token),
        "the error shows the access token"
    );
    ensure!(
        after.tokens.access_token.expose_secret() == token && after.version == before.version,
        "the fault changed the stored token (version {} → {})",
        before.version,
        after.version
    );
    ensure!(
        after.status == ConnectionStatus::Active,
        "the fault marked the connection {:?}",
        after.status
    );
    Ok(CaseOutcome::Passed)
}
