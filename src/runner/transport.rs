//! The one seam every planned request goes through: a [`Transport`] takes a [`Request`] and gives
//! back its [`Reply`]. The HTTP client ([`crate::http::ScimClient`]) sends it to the Tenant URL;
//! [`Planning`] sends reads and answers writes itself (`plan`, `compare-modes`); [`Offline`]
//! answers everything from the last known target state (`plan --offline`); [`Recording`] wraps
//! any of them and writes every request to a file (`cycle --record-requests`).

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;

use crate::plan::{Method, Reply, Request};

/// The reply on its way: one boxed future per request (the one dynamic dispatch of the seam).
pub type Sending<'a> = BoxFuture<'a, Reply>;

/// Which flow a request belongs to: a [`Recording`] numbers flows in the order they start; every
/// other transport leaves it 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowId(u64);

/// Where a flow's requests go and where their replies come from.
pub trait Transport: Send + Sync {
    /// Sends `request` (of the flow `flow`) and waits for its reply.
    fn send<'a>(&'a self, flow: FlowId, request: &'a Request) -> Sending<'a>;

    /// A new flow starts: the id its requests carry.
    fn flow_started(&self) -> FlowId {
        FlowId::default()
    }

    /// A phase of the cycle (`users`, `groups`, …) starts.
    fn phase_started(&self, _phase: &str) {}
}

/// A reply that is ready at once.
fn ready<'a>(reply: Reply) -> Sending<'a> {
    Box::pin(std::future::ready(reply))
}

/// The writes a planning transport kept, each answered as a compliant server would: a POST gets
/// back its body with the id `planned-N`, a PATCH or DELETE an empty 204.
#[derive(Debug, Default)]
struct Kept(Mutex<Vec<Request>>);

impl Kept {
    fn answer(&self, request: &Request) -> Reply {
        let mut planned = self.0.lock().unwrap_or_else(|p| p.into_inner());
        planned.push(request.clone());
        let body = match (request.method, &request.body) {
            (Method::Post, Some(serde_json::Value::Object(body))) => {
                let mut created = body.clone();
                created.insert("id".into(), format!("planned-{}", planned.len()).into());
                serde_json::Value::Object(created).to_string().into_bytes()
            }
            _ => Vec::new(),
        };
        let status = match request.method {
            Method::Post => 201,
            _ => 204,
        };
        Reply::Http {
            status,
            retry_after: None,
            body,
        }
    }

    fn planned(&self) -> Vec<Request> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Plans instead of writing: GETs go to `reads`; POST, PATCH and DELETE are kept and answered
/// here.
pub struct Planning<T> {
    reads: T,
    writes: Kept,
}

impl<T: Transport> Planning<T> {
    /// Plans over `reads`, the transport reads are sent through.
    pub fn new(reads: T) -> Self {
        Self {
            reads,
            writes: Kept::default(),
        }
    }

    /// The writes kept, in the order they were planned.
    pub fn planned(&self) -> Vec<Request> {
        self.writes.planned()
    }
}

impl<T: Transport> Transport for Planning<T> {
    fn send<'a>(&'a self, flow: FlowId, request: &'a Request) -> Sending<'a> {
        match request.method {
            Method::Get => self.reads.send(flow, request),
            _ => ready(self.writes.answer(request)),
        }
    }

    fn flow_started(&self) -> FlowId {
        self.reads.flow_started()
    }

    fn phase_started(&self, phase: &str) {
        self.reads.phase_started(phase);
    }
}

/// Plans without the network: writes are kept as [`Planning`] keeps them, a read of a connected
/// object is answered with its last known state (an object with none reads as `{"id": …}`), and
/// a matching query finds nothing.
pub struct Offline {
    /// Target id → the resource last known.
    known: HashMap<String, serde_json::Value>,
    writes: Kept,
}

impl Offline {
    /// Answers reads from `known` (target id → resource).
    pub fn new(known: HashMap<String, serde_json::Value>) -> Self {
        Self {
            known,
            writes: Kept::default(),
        }
    }

    /// The writes kept, in the order they were planned.
    pub fn planned(&self) -> Vec<Request> {
        self.writes.planned()
    }

    /// A read answered from the last known state.
    fn recall(&self, request: &Request) -> Reply {
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let body = if query.contains("filter=") {
            serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 0})
        } else {
            let id = path.rsplit('/').next().unwrap_or_default();
            self.known
                .get(id)
                .cloned()
                .unwrap_or_else(|| serde_json::json!({ "id": id }))
        };
        Reply::Http {
            status: 200,
            retry_after: None,
            body: body.to_string().into_bytes(),
        }
    }
}

impl Transport for Offline {
    fn send<'a>(&'a self, _flow: FlowId, request: &'a Request) -> Sending<'a> {
        ready(match request.method {
            Method::Get => self.recall(request),
            _ => self.writes.answer(request),
        })
    }
}

/// For benchmarks (`cycle --record-requests FILE`): every request `inner` sends, one JSON line
/// each, so a bare HTTP loop can replay the exact sequence. Flows are numbered in the order they
/// start; each phase is a line of its own.
pub struct Recording<T> {
    inner: T,
    /// The file, and the first write error (reported by [`Recording::finish`]).
    out: Mutex<(std::io::BufWriter<std::fs::File>, Option<std::io::Error>)>,
    flows: AtomicU64,
}

impl<T: Transport> Recording<T> {
    /// Records what `inner` sends into a new file at `path`.
    pub fn create(inner: T, path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::File::create(path)?;
        Ok(Self {
            inner,
            out: Mutex::new((std::io::BufWriter::new(file), None)),
            flows: AtomicU64::new(0),
        })
    }

    /// Flushes the file; the first write error, if any.
    pub fn finish(&self) -> std::io::Result<()> {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = out.1.take() {
            return Err(e);
        }
        out.0.flush()
    }

    fn write(&self, line: &serde_json::Value) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if out.1.is_none()
            && let Err(e) = writeln!(out.0, "{line}")
        {
            out.1 = Some(e);
        }
    }

    /// Logs a request `flow` sent and, for a created object, the id it got.
    fn record(&self, flow: FlowId, request: &Request, reply: &Reply) {
        let created = match (request.method, reply) {
            (Method::Post, Reply::Http { body, .. }) => {
                serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_string))
            }
            _ => None,
        };
        self.write(&serde_json::json!({
            "flow": flow.0,
            "method": request.method.as_str(),
            "path": request.path,
            "body": request.body,
            "created": created,
        }));
    }
}

impl<T: Transport> Transport for Recording<T> {
    fn send<'a>(&'a self, flow: FlowId, request: &'a Request) -> Sending<'a> {
        Box::pin(async move {
            let reply = self.inner.send(flow, request).await;
            self.record(flow, request, &reply);
            reply
        })
    }

    fn flow_started(&self) -> FlowId {
        FlowId(self.flows.fetch_add(1, Ordering::Relaxed))
    }

    fn phase_started(&self, phase: &str) {
        self.write(&serde_json::json!({ "phase": phase }));
        self.inner.phase_started(phase);
    }
}

/// A transport for tests: answers each request with the next reply of a script, and keeps what
/// was sent.
#[cfg(test)]
pub(crate) struct Scripted {
    replies: Mutex<std::collections::VecDeque<Reply>>,
    /// The requests sent, in order.
    pub(crate) sent: Mutex<Vec<Request>>,
}

#[cfg(test)]
impl Scripted {
    /// Answers with `replies`, in order; a request past the script's end gets a refused connection.
    pub(crate) fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self {
            replies: Mutex::new(replies.into_iter().collect()),
            sent: Mutex::new(Vec::new()),
        }
    }

    /// A reply with `status` and a JSON body.
    pub(crate) fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Http {
            status,
            retry_after: None,
            body: body.to_string().into_bytes(),
        }
    }

    /// The requests sent, as `METHOD path`.
    pub(crate) fn lines(&self) -> Vec<String> {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter()
            .map(|r| format!("{} {}", r.method.as_str(), r.path))
            .collect()
    }
}

#[cfg(test)]
impl Transport for Scripted {
    fn send<'a>(&'a self, _flow: FlowId, request: &'a Request) -> Sending<'a> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request.clone());
        let next = self
            .replies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        ready(next.unwrap_or_else(|| Reply::Transport {
            timeout: false,
            connect: true,
            message: "the script has no more replies".into(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, path: &str, body: Option<serde_json::Value>) -> Request {
        Request {
            method,
            path: path.into(),
            body,
        }
    }

    /// Planning sends reads through and keeps writes, answering a POST with a planned id.
    #[tokio::test]
    async fn planning_sends_reads_and_keeps_writes() {
        let reads = Scripted::new([Scripted::json(200, serde_json::json!({"id": "7"}))]);
        let planning = Planning::new(reads);
        let flow = planning.flow_started();
        let read = planning
            .send(flow, &request(Method::Get, "/Users/7", None))
            .await;
        assert_eq!(read, Scripted::json(200, serde_json::json!({"id": "7"})));
        let post = request(
            Method::Post,
            "/Users",
            Some(serde_json::json!({"userName": "a"})),
        );
        let created = planning.send(flow, &post).await;
        assert_eq!(
            created,
            Reply::Http {
                status: 201,
                retry_after: None,
                body: br#"{"userName":"a","id":"planned-1"}"#.to_vec()
            }
        );
        let delete = request(Method::Delete, "/Users/7", None);
        let deleted = planning.send(flow, &delete).await;
        assert!(matches!(deleted, Reply::Http { status: 204, .. }));
        assert_eq!(planning.planned(), [post, delete]);
        assert_eq!(planning.reads.lines(), ["GET /Users/7"]);
    }

    /// Offline reads come from the known state; a query finds nothing.
    #[tokio::test]
    async fn offline_answers_reads_from_the_known_state() {
        let known = HashMap::from([("7".to_string(), serde_json::json!({"id": "7", "x": 1}))]);
        let offline = Offline::new(known);
        let flow = FlowId::default();
        let body = |reply: Reply| match reply {
            Reply::Http { body, .. } => serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            other => panic!("{other:?}"),
        };
        let read = request(Method::Get, "/Users/7", None);
        assert_eq!(
            body(offline.send(flow, &read).await),
            serde_json::json!({"id": "7", "x": 1})
        );
        let unknown = request(Method::Get, "/Users/8", None);
        assert_eq!(
            body(offline.send(flow, &unknown).await),
            serde_json::json!({"id": "8"})
        );
        let query = request(Method::Get, "/Users?filter=userName+eq+%22a%22", None);
        assert_eq!(body(offline.send(flow, &query).await)["totalResults"], 0);
        assert!(offline.planned().is_empty());
    }

    /// The recording names each flow and phase, and the id a POST got.
    #[tokio::test]
    async fn recording_writes_every_request_as_a_json_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requests.jsonl");
        let inner = Scripted::new([
            Scripted::json(201, serde_json::json!({"id": "u1"})),
            Scripted::json(204, serde_json::Value::Null),
        ]);
        let recording = Recording::create(inner, &path).unwrap();
        recording.phase_started("users");
        let first = recording.flow_started();
        let second = recording.flow_started();
        let post = request(Method::Post, "/Users", Some(serde_json::json!({"a": 1})));
        recording.send(first, &post).await;
        recording
            .send(second, &request(Method::Delete, "/Users/u1", None))
            .await;
        recording.finish().unwrap();
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                serde_json::json!({"phase": "users"}),
                serde_json::json!({"flow": 0, "method": "POST", "path": "/Users", "body": {"a": 1}, "created": "u1"}),
                serde_json::json!({"flow": 1, "method": "DELETE", "path": "/Users/u1", "body": null, "created": null}),
            ]
        );
    }
}
