//! Drives planner flows over HTTP: sends each request a [`Flow`] offers, feeds the reply back, and
//! persists the entry's state changes and log record before the next entry starts (so a crash never
//! loses a connection that a later request depends on).

use crate::http::ScimClient;
use crate::plan::{EntryOutcome, Flow, Next, Reply, Request, StateChange};
use crate::store::{Store, StoreError};

/// Something that wants to see every exchange (the CLI's request trace, tests).
pub trait Observer {
    /// Called after each request got its reply.
    fn exchange(&mut self, request: &Request, reply: &Reply);
}

/// Runs `flow` to completion against `client`; with `keep`, also returns every exchange.
pub async fn drive(
    flow: &mut (dyn Flow + Send),
    client: &ScimClient,
    keep: bool,
) -> (EntryOutcome, Vec<(Request, Reply)>) {
    let mut reply = None;
    let mut exchanges = Vec::new();
    loop {
        match flow.step(reply.take()) {
            Next::Send(request) => {
                let answer = client.send(&request).await;
                if keep {
                    exchanges.push((request, answer.clone()));
                }
                reply = Some(answer);
            }
            Next::Done(outcome) => return (*outcome, exchanges),
        }
    }
}

/// Persists what an entry decided: connections first, then its log record.
pub fn persist(store: &Store, outcome: &EntryOutcome) -> Result<(), StoreError> {
    for change in &outcome.changes {
        match change {
            StateChange::PutAnchor(key, anchor) => store.put_anchor(key, anchor)?,
            StateChange::RemoveAnchor(key) => store.remove_anchor(key)?,
        }
    }
    if let Some(log) = &outcome.log {
        store.append_log(log)?;
    }
    Ok(())
}
