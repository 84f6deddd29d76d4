//! The direct SCIM tests of `entra-sim conformance` as a flow: a list of [`Step`]s, each a request
//! (whose path and body may name ids returned earlier, `${name}`, and the run's prefix, `${run}`),
//! an optional capture of the `id` it returns, and a judge of the answer. An id put into a path
//! is percent-encoded as one path segment (ids are the server's and may hold `/`, `?` or `#`);
//! in a body it goes in as it came. The first step whose judge fails ends the test, with what
//! was wrong and, when the judge knows the cause, the fix ([`Miss`]); then every object the steps created is deleted (newest first),
//! unless the run keeps them. What to send and what passes is decided by the caller; this flow
//! only sequences, substitutes and cleans up.

use std::collections::VecDeque;

use serde_json::Value as Json;

use super::{Flow, Method, Next, Reply, Request};
use crate::scim::{self, ResourceKind};

/// A reply as a judge sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status; `None` when no response came.
    pub status: Option<u16>,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Json,
    /// Why no response came, when none did.
    pub error: Option<String>,
}

impl Answer {
    /// `true` when a 2xx came back.
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn of(reply: &Reply) -> (Answer, String) {
        match reply {
            Reply::Http { status, body, .. } => {
                let text = String::from_utf8_lossy(body).into_owned();
                let json = serde_json::from_slice(body).unwrap_or(Json::Null);
                let answer = Answer {
                    status: Some(*status),
                    body: json,
                    error: None,
                };
                (answer, text)
            }
            Reply::Transport { message, .. } | Reply::NoToken { message } => {
                let answer = Answer {
                    status: None,
                    body: Json::Null,
                    error: Some(message.clone()),
                };
                (answer, String::new())
            }
        }
    }
}

/// The ids captured so far, by name.
#[derive(Debug, Clone, Copy)]
pub struct Ids<'a>(&'a [(String, ResourceKind, String)]);

impl Ids<'_> {
    /// The id captured as `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, id)| id.as_str())
    }
}

/// What a judge found wrong, and the fix when it knows this failure's cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// What was wrong.
    pub reason: String,
    /// The fix for exactly this failure, when the judge knows it.
    pub hint: Option<String>,
}

impl Miss {
    /// A miss whose fix is `hint`.
    pub fn hinted(reason: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            hint: Some(hint.into()),
        }
    }
}

impl From<String> for Miss {
    fn from(reason: String) -> Self {
        Self { reason, hint: None }
    }
}

impl From<&str> for Miss {
    fn from(reason: &str) -> Self {
        reason.to_string().into()
    }
}

/// Decides whether an answer is what the test expects (given the ids captured so far); `Err`
/// says what was wrong.
pub type Judge = Box<dyn Fn(&Answer, Ids<'_>) -> Result<(), Miss> + Send>;

/// Keep the `id` a step's answer carries under `name`; the object is deleted at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The name later steps use as `${name}`.
    pub name: String,
    /// What was created (for the DELETE path).
    pub kind: ResourceKind,
}

/// One request of a test and how its answer is judged.
pub struct Step {
    /// What the step does, e.g. `create the user`.
    pub label: String,
    /// The method.
    pub method: Method,
    /// The path after the Tenant URL, with `${name}` and `${run}` placeholders.
    pub path: String,
    /// The body, whose strings may hold placeholders.
    pub body: Option<Json>,
    /// The created id to keep, if any.
    pub capture: Option<Capture>,
    /// The judge of the answer.
    pub judge: Judge,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step")
            .field("label", &self.label)
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A request sent and what came back.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// The step's label (or `clean up` for the deletes at the end).
    pub label: String,
    /// The request as sent.
    pub request: Request,
    /// The status, when a response came.
    pub status: Option<u16>,
    /// The response body as text, or why no response came.
    pub body: String,
    /// The `Retry-After` header, when the server sent one.
    pub retry_after: Option<String>,
    /// Why no response came, when none did.
    pub no_answer: Option<NoAnswer>,
}

impl Exchange {
    /// A request and the reply it got, as a test's record shows them.
    pub fn of(label: &str, request: Request, reply: &Reply) -> Self {
        let (answer, text) = Answer::of(reply);
        Self::answered(label, request, reply, &answer, text)
    }

    fn answered(
        label: &str,
        request: Request,
        reply: &Reply,
        answer: &Answer,
        text: String,
    ) -> Self {
        let retry_after = match reply {
            Reply::Http { retry_after, .. } => retry_after.clone(),
            _ => None,
        };
        Exchange {
            label: label.to_string(),
            request,
            status: answer.status,
            body: answer.error.clone().unwrap_or(text),
            retry_after,
            no_answer: NoAnswer::of(reply),
        }
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAnswer {
    /// No connection could be made.
    Unreachable,
    /// The connection was made, but no response came within the timeout.
    TimedOut,
    /// The connection closed without a response, or the response could not be read.
    Dropped,
    /// No access token could be obtained, so the request was not sent.
    NoToken,
}

impl NoAnswer {
    fn of(reply: &Reply) -> Option<Self> {
        match reply {
            Reply::Http { .. } => None,
            Reply::Transport { connect: true, .. } => Some(Self::Unreachable),
            Reply::Transport { timeout: true, .. } => Some(Self::TimedOut),
            Reply::Transport { .. } => Some(Self::Dropped),
            Reply::NoToken { .. } => Some(Self::NoToken),
        }
    }
}

/// The step that failed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    /// The step's label.
    pub label: String,
    /// What its judge said, or that an id was missing.
    pub reason: String,
    /// The judge's fix for this failure, when it knows one.
    pub hint: Option<String>,
}

/// What a test's steps came to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepsRun {
    /// Every exchange, in order (cleanup last).
    pub exchanges: Vec<Exchange>,
    /// The first failed step, if any (later steps were not sent).
    pub failure: Option<StepFailure>,
    /// Objects the cleanup could not delete, or kept on request, as `/Users/{id}`.
    pub left_behind: Vec<String>,
}

#[derive(Debug)]
enum State {
    Idle,
    /// Awaiting the answer to a step.
    Stepping(Step, Request),
    /// Awaiting the answer to a cleanup DELETE.
    CleaningUp(Request),
}

/// Sends a test's steps in order, then deletes what they created.
#[derive(Debug)]
pub struct StepsFlow {
    run: String,
    steps: VecDeque<Step>,
    keep: bool,
    state: State,
    /// Captured ids: (name, kind, id), in creation order.
    created: Vec<(String, ResourceKind, String)>,
    cleanup: Vec<Request>,
    result: StepsRun,
}

impl StepsFlow {
    /// Runs `steps` with the run prefix `run`; with `keep` nothing is deleted at the end.
    pub fn new(run: &str, steps: Vec<Step>, keep: bool) -> Self {
        Self {
            run: run.to_string(),
            steps: steps.into(),
            keep,
            state: State::Idle,
            created: Vec::new(),
            cleanup: Vec::new(),
            result: StepsRun::default(),
        }
    }

    /// `text` with every `${name}` replaced by its captured id (passed through `encode`) and
    /// `${run}` by the run prefix.
    fn fill(&self, text: &str, encode: fn(&str) -> String) -> String {
        let mut out = text.replace("${run}", &self.run);
        for (name, _, id) in &self.created {
            out = out.replace(&format!("${{{name}}}"), &encode(id));
        }
        out
    }

    /// A path, its ids encoded as path segments.
    fn fill_path(&self, path: &str) -> String {
        self.fill(path, scim::encode_segment)
    }

    fn fill_json(&self, value: &Json) -> Json {
        match value {
            Json::String(s) => Json::String(self.fill(s, str::to_string)),
            Json::Array(items) => Json::Array(items.iter().map(|v| self.fill_json(v)).collect()),
            Json::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.fill_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn next_step(&mut self) -> Next<StepsRun> {
        let Some(step) = self.steps.pop_front() else {
            return self.clean_up();
        };
        if let Some(name) = self.unresolved(&step.path) {
            let reason = format!("no id captured as {name} for {}", step.path);
            return self.fail(&step.label, reason.into());
        }
        let path = self.fill_path(&step.path);
        let request = Request {
            method: step.method,
            path,
            body: step.body.as_ref().map(|b| self.fill_json(b)),
        };
        self.state = State::Stepping(step, request.clone());
        Next::Send(request)
    }

    /// The first `${name}` in `path` no step has captured.
    fn unresolved(&self, path: &str) -> Option<String> {
        let mut rest = path;
        while let Some((_, after)) = rest.split_once("${") {
            let name = after.split('}').next().unwrap_or(after);
            if name != "run" && !self.created.iter().any(|(n, _, _)| n == name) {
                return Some(format!("${{{name}}}"));
            }
            rest = after;
        }
        None
    }

    fn answered(&mut self, step: Step, request: Request, reply: &Reply) -> Next<StepsRun> {
        let (answer, text) = Answer::of(reply);
        self.record(&step.label, request, reply, &answer, text);
        // Captured before judging: an object created when it should not have been (a duplicate
        // the server accepted) is deleted too.
        let id = answer.body.get("id").and_then(id_text);
        let captured = match (&step.capture, id) {
            (Some(capture), Some(id)) if answer.is_success() => {
                self.created.push((capture.name.clone(), capture.kind, id));
                true
            }
            _ => false,
        };
        if let Err(miss) = (step.judge)(&answer, Ids(&self.created)) {
            return self.fail(&step.label, miss);
        }
        // A capture on a refusal the judge expected (a duplicate's 409) has nothing to keep.
        if step.capture.is_some() && !captured && answer.is_success() {
            let miss = Miss::hinted(
                "the answer carries no id",
                "answer a create with the new resource, its \"id\" included, as JSON",
            );
            return self.fail(&step.label, miss);
        }
        self.next_step()
    }

    fn record(
        &mut self,
        label: &str,
        request: Request,
        reply: &Reply,
        answer: &Answer,
        text: String,
    ) {
        let exchange = Exchange::answered(label, request, reply, answer, text);
        self.result.exchanges.push(exchange);
    }

    fn fail(&mut self, label: &str, miss: Miss) -> Next<StepsRun> {
        self.result.failure = Some(StepFailure {
            label: label.to_string(),
            reason: miss.reason,
            hint: miss.hint,
        });
        self.clean_up()
    }

    /// Queues a DELETE of every created object, newest first (or keeps them all).
    fn clean_up(&mut self) -> Next<StepsRun> {
        self.steps.clear();
        let paths = self
            .created
            .drain(..)
            .rev()
            .map(|(_, kind, id)| scim::resource_path(kind, &id));
        if self.keep {
            self.result.left_behind.extend(paths);
        } else {
            // Popped from the back, so reverse again to keep newest-first order.
            let mut deletes: Vec<Request> = paths.map(delete).collect();
            deletes.reverse();
            self.cleanup = deletes;
        }
        self.next_delete()
    }

    fn next_delete(&mut self) -> Next<StepsRun> {
        match self.cleanup.pop() {
            Some(request) => {
                self.state = State::CleaningUp(request.clone());
                Next::Send(request)
            }
            None => Next::Done(std::mem::take(&mut self.result)),
        }
    }

    fn deleted(&mut self, request: Request, reply: &Reply) -> Next<StepsRun> {
        let (answer, text) = Answer::of(reply);
        // Already gone (a test deleted it itself) is as good as deleted.
        if !answer.is_success() && answer.status != Some(404) {
            self.result.left_behind.push(request.path.clone());
        }
        self.record("clean up", request, reply, &answer, text);
        self.next_delete()
    }
}

impl Flow<StepsRun> for StepsFlow {
    fn step(&mut self, reply: Option<Reply>) -> Next<StepsRun> {
        match (std::mem::replace(&mut self.state, State::Idle), reply) {
            (State::Stepping(step, request), Some(reply)) => self.answered(step, request, &reply),
            (State::CleaningUp(request), Some(reply)) => self.deleted(request, &reply),
            _ => self.next_step(),
        }
    }
}

/// An `id` as text (a number is taken as its digits).
fn id_text(id: &Json) -> Option<String> {
    match id {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn delete(path: String) -> Request {
    Request {
        method: Method::Delete,
        path,
        body: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(status: u16, body: Json) -> Reply {
        Reply::Http {
            status,
            retry_after: None,
            body: body.to_string().into_bytes(),
        }
    }

    fn status_is(want: u16) -> Judge {
        Box::new(move |a: &Answer, _: Ids<'_>| {
            if a.status == Some(want) {
                Ok(())
            } else {
                Err(format!("status {:?}", a.status).into())
            }
        })
    }

    fn create(name: &str) -> Step {
        Step {
            label: format!("create {name}"),
            method: Method::Post,
            path: "/Users".into(),
            body: Some(json!({"userName": "${run}-x"})),
            capture: Some(Capture {
                name: name.into(),
                kind: ResourceKind::User,
            }),
            judge: status_is(201),
        }
    }

    fn get(path: &str, want: u16) -> Step {
        Step {
            label: format!("get {path}"),
            method: Method::Get,
            path: path.into(),
            body: None,
            capture: None,
            judge: status_is(want),
        }
    }

    fn drive(flow: &mut StepsFlow, replies: Vec<Reply>) -> (Vec<Request>, StepsRun) {
        let mut sent = Vec::new();
        let mut replies = replies.into_iter();
        let mut next = flow.step(None);
        loop {
            match next {
                Next::Send(request) => {
                    sent.push(request);
                    next = flow.step(Some(replies.next().expect("a reply per request")));
                }
                Next::Done(run) => return (sent, run),
            }
        }
    }

    /// Placeholders take the run prefix and captured ids; the created object is deleted at the end.
    #[test]
    fn substitutes_and_cleans_up() {
        let steps = vec![create("u"), get("/Users/${u}", 200)];
        let mut flow = StepsFlow::new("r1", steps, false);
        let (sent, run) = drive(
            &mut flow,
            vec![
                reply(201, json!({"id": "7"})),
                reply(200, json!({})),
                reply(204, Json::Null),
            ],
        );
        assert_eq!(sent[0].body, Some(json!({"userName": "r1-x"})));
        assert_eq!(sent[1].path, "/Users/7");
        assert_eq!(
            (sent[2].method, sent[2].path.as_str()),
            (Method::Delete, "/Users/7")
        );
        assert_eq!(run.failure, None);
        assert!(run.left_behind.is_empty());
        assert_eq!(run.exchanges.len(), 3);
    }

    /// A failed step ends the test; what was created is still deleted, newest first.
    #[test]
    fn a_failed_step_stops_and_still_cleans_up() {
        let steps = vec![
            create("a"),
            create("b"),
            get("/Users/${a}", 200),
            get("/x", 200),
        ];
        let mut flow = StepsFlow::new("r", steps, false);
        let (sent, run) = drive(
            &mut flow,
            vec![
                reply(201, json!({"id": "1"})),
                reply(201, json!({"id": "2"})),
                reply(404, json!({})),
                reply(204, Json::Null),
                reply(500, Json::Null),
            ],
        );
        let lines: Vec<String> = sent
            .iter()
            .map(|r| format!("{} {}", r.method.as_str(), r.path))
            .collect();
        assert_eq!(
            lines,
            [
                "POST /Users",
                "POST /Users",
                "GET /Users/1",
                "DELETE /Users/2",
                "DELETE /Users/1"
            ]
        );
        let failure = run.failure.unwrap();
        assert_eq!(failure.label, "get /Users/${a}");
        assert_eq!(failure.reason, "status Some(404)");
        assert_eq!(run.left_behind, ["/Users/1"]);
    }

    /// With `keep`, nothing is deleted and the created objects are named.
    #[test]
    fn keep_leaves_objects() {
        let mut flow = StepsFlow::new("r", vec![create("a")], true);
        let (sent, run) = drive(&mut flow, vec![reply(201, json!({"id": 3}))]);
        assert_eq!(sent.len(), 1);
        assert_eq!(run.left_behind, ["/Users/3"]);
    }

    /// A created object without an id fails the step.
    #[test]
    fn a_capture_without_id_fails() {
        let mut flow = StepsFlow::new("r", vec![create("a")], false);
        let (_, run) = drive(&mut flow, vec![reply(201, json!({}))]);
        assert_eq!(run.failure.unwrap().reason, "the answer carries no id");
    }
}
