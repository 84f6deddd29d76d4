//! The request log: every request under `/scim/v2` as the target received it (method, path and
//! query verbatim, selected headers, body, whether a bearer token was present and valid — never
//! the token itself) and the status it was answered with. Tests and the CLI assert on it.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

/// What the `Authorization` header looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthSeen {
    /// No `Authorization` header.
    Missing,
    /// The configured bearer token.
    Valid,
    /// A header that is not `Bearer <configured token>`.
    Invalid,
    /// A header was sent but the target requires no token.
    Present,
}

/// A request body: JSON when it parses, else the raw text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordedBody {
    Empty,
    Json(Value),
    Text(String),
}

impl RecordedBody {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return RecordedBody::Empty;
        }
        match serde_json::from_slice(bytes) {
            Ok(v) => RecordedBody::Json(v),
            Err(_) => RecordedBody::Text(String::from_utf8_lossy(bytes).into_owned()),
        }
    }

    /// The JSON body, if there was one.
    pub fn json(&self) -> Option<&Value> {
        match self {
            RecordedBody::Json(v) => Some(v),
            _ => None,
        }
    }
}

/// One received request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// Arrival order, from 0 for the server's lifetime (not reset by clearing).
    pub seq: u64,
    pub method: String,
    /// Path and query exactly as received, e.g. `/scim/v2/Users?filter=userName+eq+%22a%22`.
    pub path: String,
    /// `content-type`, `accept`, `user-agent` when sent (lower-case names).
    pub headers: BTreeMap<String, String>,
    pub auth: AuthSeen,
    pub body: RecordedBody,
    /// The status answered; `None` while in flight or when a fault dropped the connection.
    pub status: Option<u16>,
    /// Index of the fault rule that acted on the request.
    pub fault: Option<usize>,
}

/// Header names worth recording (never `authorization`).
pub const RECORDED_HEADERS: [&str; 3] = ["content-type", "accept", "user-agent"];

/// A bounded log: the oldest entries go first when it is full.
#[derive(Debug)]
pub struct Recorder {
    next_seq: u64,
    limit: usize,
    entries: VecDeque<RecordedRequest>,
}

impl Recorder {
    pub fn new(limit: usize) -> Self {
        Recorder {
            next_seq: 0,
            limit,
            entries: VecDeque::new(),
        }
    }

    /// Logs a request on arrival; returns its `seq` for [`Recorder::finish`].
    pub fn begin(&mut self, mut req: RecordedRequest) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        req.seq = seq;
        if self.limit == 0 {
            return seq;
        }
        while self.entries.len() >= self.limit {
            self.entries.pop_front();
        }
        self.entries.push_back(req);
        seq
    }

    /// Whether entries are kept at all (a limit of 0 keeps none).
    pub fn keeps(&self) -> bool {
        self.limit > 0
    }

    pub fn finish(&mut self, seq: u64, status: Option<u16>, fault: Option<usize>) {
        if self.limit == 0 {
            return;
        }
        if let Some(r) = self.entries.iter_mut().rev().find(|r| r.seq == seq) {
            r.status = status;
            r.fault = fault;
        }
    }

    pub fn all(&self) -> Vec<RecordedRequest> {
        self.entries.iter().cloned().collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> RecordedRequest {
        RecordedRequest {
            seq: 0,
            method: "GET".into(),
            path: "/".into(),
            headers: BTreeMap::new(),
            auth: AuthSeen::Missing,
            body: RecordedBody::from_bytes(b""),
            status: None,
            fault: None,
        }
    }

    #[test]
    fn a_limit_of_zero_keeps_nothing() {
        let mut r = Recorder::new(0);
        assert!(!r.keeps());
        let a = r.begin(req());
        r.finish(a, Some(200), None);
        assert!(r.all().is_empty());
        assert_eq!(r.begin(req()), a + 1, "seq still counts requests");
    }

    #[test]
    fn bounded_and_finished_by_seq() {
        let mut r = Recorder::new(2);
        let a = r.begin(req());
        let b = r.begin(req());
        let c = r.begin(req());
        r.finish(a, Some(200), None);
        r.finish(c, Some(201), Some(0));
        let all = r.all();
        assert_eq!(all.iter().map(|x| x.seq).collect::<Vec<_>>(), [b, c]);
        assert_eq!(all[1].status, Some(201));
        assert_eq!(
            RecordedBody::from_bytes(b"{\"a\":1}")
                .json()
                .map(|v| v["a"].clone()),
            Some(1.into())
        );
        assert_eq!(
            RecordedBody::from_bytes(b"x=1"),
            RecordedBody::Text("x=1".into())
        );
    }
}
