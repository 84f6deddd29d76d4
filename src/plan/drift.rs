//! `drift` as a flow: reads back every connected object — groups *with* their members, the one
//! read Entra never makes — and notes where the target no longer matches what was exported or
//! what the mapping says: changed attributes, objects deleted behind Entra's back, duplicates by
//! matching attribute (one query per matching value of an in-scope object), missing or extra
//! members.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value as Json;

use super::wire::{self, Answer};
use super::{Anchor, Flow, Method, Next, ObjectKey, ObjectKind, Reply, Request, SourceObject};
use crate::scim::{self, OpKind, ResourceKind};

/// One difference between the target and what Entra last wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// `User` or `Group`.
    pub object_type: String,
    /// UPN or displayName.
    pub name: String,
    /// The target's id.
    pub target_id: String,
    /// `changed`, `deleted`, `missingMembers`, `extraMembers`, `duplicate`, `unreadable`.
    pub kind: String,
    /// What differs.
    pub detail: String,
}

/// One connected object to check: its connection and, when the source still has it, the object.
#[derive(Debug, Clone, Copy)]
pub struct Connected<'a> {
    /// The object's key.
    pub key: &'a ObjectKey,
    /// Its connection.
    pub anchor: &'a Anchor,
    /// The source object, if the source still has it.
    pub object: Option<&'a SourceObject>,
}

impl Connected<'_> {
    fn name(&self) -> String {
        self.object
            .map_or_else(|| self.key.object_id.clone(), |o| o.name.clone())
    }
}

#[derive(Debug)]
enum State<'a> {
    /// The next object is read.
    Next,
    /// Reading `Connected` by its target id.
    Reading(Connected<'a>),
    /// Asking whether the `matching`th matching value of the object read as `resource` is
    /// held by more than one object.
    Querying {
        connected: Connected<'a>,
        resource: Json,
        matching: usize,
    },
}

/// Checks each connected object in turn; ends with every drift found.
#[derive(Debug)]
pub struct DriftFlow<'a> {
    connected: std::vec::IntoIter<Connected<'a>>,
    /// Target id → name, to show members by name.
    names: &'a HashMap<String, String>,
    state: State<'a>,
    drifts: Vec<Drift>,
}

impl<'a> DriftFlow<'a> {
    /// Checks `connected`, in order; members are shown by their `names` (target id → name).
    pub fn new(connected: Vec<Connected<'a>>, names: &'a HashMap<String, String>) -> Self {
        Self {
            connected: connected.into_iter(),
            names,
            state: State::Next,
            drifts: Vec::new(),
        }
    }

    fn report(&mut self, connected: &Connected<'_>, kind: &str, detail: String) {
        self.drifts.push(Drift {
            object_type: connected.key.kind.as_str().into(),
            name: connected.name(),
            target_id: connected.anchor.target_id.clone(),
            kind: kind.into(),
            detail,
        });
    }

    /// Reads the next object, or ends.
    fn read_next(&mut self) -> Next<Vec<Drift>> {
        let Some(connected) = self.connected.next() else {
            self.state = State::Next;
            return Next::Done(std::mem::take(&mut self.drifts));
        };
        self.state = State::Reading(connected);
        Next::Send(Request {
            method: Method::Get,
            path: scim::resource_path(resource_kind(connected.key), &connected.anchor.target_id),
            body: None,
        })
    }

    /// Takes the object as read: compares it with the mapping, then asks about duplicates.
    fn read(&mut self, connected: Connected<'a>, reply: Reply) -> Next<Vec<Drift>> {
        let resource = match wire::interpret(OpKind::GetById, reply) {
            Answer::Resource(_, resource) => resource,
            Answer::Failed(f) if f.not_found => {
                let detail = "the object no longer exists in the target".into();
                self.report(&connected, "deleted", detail);
                return self.read_next();
            }
            Answer::Failed(f) => {
                self.report(
                    &connected,
                    "unreadable",
                    format!("{}: {}", f.code, f.reason),
                );
                return self.read_next();
            }
            Answer::Done(_) => {
                let detail = "the target answered with an empty body".into();
                self.report(&connected, "unreadable", detail);
                return self.read_next();
            }
        };
        if let Some(object) = in_scope(&connected) {
            self.compare(&connected, object, &resource);
        }
        self.query(connected, resource, 0)
    }

    /// Notes each mapped attribute whose value the target no longer holds.
    fn compare(&mut self, connected: &Connected<'_>, object: &SourceObject, resource: &Json) {
        let spec = &object.spec;
        let Ok(changes) = wire::diff(&spec.update, resource, &spec.case_exact, spec.roles) else {
            return;
        };
        for change in changes {
            let detail = format!(
                "{}: target has {:?}, mapping says {:?}",
                change.path,
                change.old.unwrap_or_default(),
                wire::display_value(&change.new)
            );
            self.report(connected, "changed", detail);
        }
    }

    /// Asks about the first matching value from `from` on; once none is left, compares the
    /// members and moves on.
    fn query(&mut self, connected: Connected<'a>, resource: Json, from: usize) -> Next<Vec<Drift>> {
        let next = in_scope(&connected).and_then(|object| {
            object
                .spec
                .matching
                .iter()
                .enumerate()
                .skip(from)
                .find_map(|(i, (path, value))| value.as_ref().map(|v| (i, path, v)))
        });
        if let Some((matching, path, value)) = next {
            let request = wire::match_request(connected.key.kind, path, value);
            self.state = State::Querying {
                connected,
                resource,
                matching,
            };
            return Next::Send(request);
        }
        if connected.key.kind == ObjectKind::Group {
            self.members(&connected, &resource);
        }
        self.read_next()
    }

    /// Takes the answer to a matching query: more than one object holds the value.
    fn queried(
        &mut self,
        connected: Connected<'a>,
        resource: Json,
        matching: usize,
        reply: Reply,
    ) -> Next<Vec<Drift>> {
        if let Err(f) = wire::interpret_query(reply)
            && f.code
                == scim::ErrorCode::SystemForCrossDomainIdentityManagementMultipleEntriesInResponse
            && let Some((path, Some(value))) =
                in_scope(&connected).and_then(|object| object.spec.matching.get(matching))
        {
            let kind = connected.key.kind.as_str();
            let detail = format!("more than one {kind} has {path} {value:?}");
            self.report(&connected, "duplicate", detail);
        }
        self.query(connected, resource, matching + 1)
    }

    /// Compares a group's members as read with the ones last exported.
    fn members(&mut self, connected: &Connected<'_>, resource: &Json) {
        let actual: BTreeSet<&str> = resource
            .get("members")
            .and_then(|m| m.as_array())
            .map(|m| {
                m.iter()
                    .filter_map(|m| m.get("value").and_then(|v| v.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let exported: BTreeSet<&str> = connected
            .anchor
            .members
            .iter()
            .map(String::as_str)
            .collect();
        let missing: Vec<&str> = exported.difference(&actual).copied().collect();
        if !missing.is_empty() {
            let detail = self.label(&missing);
            self.report(connected, "missingMembers", detail);
        }
        let extra: Vec<&str> = actual.difference(&exported).copied().collect();
        if !extra.is_empty() {
            let detail = self.label(&extra);
            self.report(connected, "extraMembers", detail);
        }
    }

    /// Members by name where known, else by target id.
    fn label(&self, ids: &[&str]) -> String {
        ids.iter()
            .map(|id| self.names.get(*id).map_or(*id, String::as_str))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<'a> Flow<Vec<Drift>> for DriftFlow<'a> {
    fn step(&mut self, reply: Option<Reply>) -> Next<Vec<Drift>> {
        let state = std::mem::replace(&mut self.state, State::Next);
        match (state, reply) {
            (State::Reading(connected), Some(reply)) => self.read(connected, reply),
            (
                State::Querying {
                    connected,
                    resource,
                    matching,
                },
                Some(reply),
            ) => self.queried(connected, resource, matching, reply),
            _ => self.read_next(),
        }
    }
}

fn resource_kind(key: &ObjectKey) -> ResourceKind {
    match key.kind {
        ObjectKind::User => ResourceKind::User,
        ObjectKind::Group => ResourceKind::Group,
    }
}

/// The source object, when it is still in scope: only then does the mapping say anything.
fn in_scope<'a>(connected: &Connected<'a>) -> Option<&'a SourceObject> {
    connected.object.filter(|o| o.in_scope)
}
