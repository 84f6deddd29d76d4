//! Drives planner flows over a [`Transport`]: sends each request a [`Flow`] offers, feeds the
//! reply back, and persists the entry's state changes and log record before the next entry starts
//! (so a crash never loses a connection that a later request depends on). Every command that
//! talks to the target — `cycle`, `plan`, `provision-on-demand`, `drift`, `compare-modes --probe`,
//! `test-connection` — drives its flows here, so what is planned is what is sent.

mod transport;

#[cfg(test)]
pub(crate) use transport::Scripted;
pub use transport::{FlowId, Offline, Planning, Recording, Sending, Transport};

use crate::clock::Clock;
use crate::plan::{EntryOutcome, Flow, Next, Reply, Request, StateChange};
use crate::policy::{RetryAfterPolicy, ThrottleDecision, on_too_many_requests};
use crate::scim::{self, OpKind, Outcome, RetryAfter, RetryClass};
use crate::store::{Store, StoreError};

/// Something that wants to see every exchange (the CLI's request trace, tests).
pub trait Observer {
    /// Called after each request got its reply.
    fn exchange(&mut self, request: &Request, reply: &Reply);
}

/// How a 429 is handled within a cycle: the policy and the clock to wait on.
#[derive(Clone, Copy)]
pub struct Throttle<'a> {
    /// Whether and how long to honour `Retry-After`.
    pub policy: &'a RetryAfterPolicy,
    /// Where waiting happens (simulated time waits instantly).
    pub clock: &'a dyn Clock,
}

/// The `Retry-After` of a 429 reply, as the policy reads it.
fn retry_after(reply: &Reply) -> Option<Option<RetryAfter>> {
    let Reply::Http {
        status: 429,
        retry_after,
        body,
    } = reply
    else {
        return None;
    };
    match scim::classify(OpKind::Update, 429, retry_after.as_deref(), body) {
        Outcome::Failure(f) => match f.retry {
            RetryClass::AutoRetry(after) => Some(after),
            _ => Some(None),
        },
        _ => Some(None),
    }
}

/// Runs an entry's `flow` to completion over `transport`; returns the outcome, every exchange
/// when `keep`, and how many requests were sent. A 429 is waited out and resent while
/// `throttle` allows (§3, pitfall 14); otherwise the flow sees it.
pub async fn drive(
    flow: &mut (dyn Flow + Send),
    transport: &dyn Transport,
    keep: bool,
    throttle: Option<Throttle<'_>>,
) -> (EntryOutcome, Vec<(Request, Reply)>, usize) {
    let (outcome, exchanges, sent) = drive_to_end(flow, transport, keep, throttle).await;
    (*outcome, exchanges, sent)
}

/// Runs a command's `flow` to its result over `transport`; the flow sees every reply (a 429
/// too: the commands that are not cycles never waited one out).
pub async fn conclude<D>(flow: &mut (dyn Flow<D> + Send), transport: &dyn Transport) -> D {
    drive_to_end(flow, transport, false, None).await.0
}

/// [`drive`] for a flow of any result.
async fn drive_to_end<D>(
    flow: &mut (dyn Flow<D> + Send),
    transport: &dyn Transport,
    keep: bool,
    throttle: Option<Throttle<'_>>,
) -> (D, Vec<(Request, Reply)>, usize) {
    let mut reply = None;
    let mut exchanges = Vec::new();
    let mut sent = 0;
    let flow_id = transport.flow_started();
    loop {
        match flow.step(reply.take()) {
            Next::Send(request) => {
                let mut retries = 0;
                let answer = loop {
                    let answer = transport.send(flow_id, &request).await;
                    sent += 1;
                    if let (Some(t), Some(after)) = (throttle, retry_after(&answer)) {
                        let now = t.clock.now();
                        if let ThrottleDecision::WaitThenRetry(wait) =
                            on_too_many_requests(t.policy, after.as_ref(), retries, now)
                        {
                            if keep {
                                exchanges.push((request.clone(), answer));
                            }
                            retries += 1;
                            t.clock.sleep_until(now + wait).await;
                            continue;
                        }
                    }
                    break answer;
                };
                if keep {
                    exchanges.push((request, answer.clone()));
                }
                reply = Some(answer);
            }
            Next::Done(outcome) => return (outcome, exchanges, sent),
        }
    }
}

/// Writes what an entry decided — connections first, then its log record — without committing:
/// the caller commits ([`Store::commit`]) before any request that could depend on it.
pub fn persist(store: &Store, outcome: &EntryOutcome) -> Result<(), StoreError> {
    for change in &outcome.changes {
        match change {
            StateChange::PutAnchor(key, anchor) => store.put_anchor(key, anchor)?,
            StateChange::RemoveAnchor(key) => {
                store.remove_anchor(key)?;
                store.remove_known(key)?;
            }
            StateChange::Known(key, resource) => store.put_known(key, resource)?,
        }
    }
    if let Some(log) = &outcome.log {
        store.append_log(log)?;
    }
    Ok(())
}
