//! `Schema_Discoverability_Test`: every attribute the mapping under test writes is listed by
//! `GET /Schemas` (compared case-insensitively, `id` aside). Attributes are flattened as the
//! Logic App flattens them — `name`, `name.sub` for a single complex attribute, an extension's
//! `urn:…:attr` — except that a multi-valued `emails[type eq "work"].value` is found when
//! `emails` lists `value` and its `type` either declares no canonicalValues or includes `work`
//! (the Logic App demands canonicalValues; RFC 7643 makes them optional).

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::plan::Method;
use crate::plan::conformance::{Judge, Miss, Step};
use crate::plan::desired::{CompiledMapping, CompiledObject};
use crate::scim::schema::{GROUP_SCHEMA, USER_SCHEMA};

use super::direct::{Ctx, refusal};

/// The target attributes a mapping writes (`id` aside), as the check looks for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// The users mapping's.
    pub users: Vec<String>,
    /// The groups mapping's (none when groups are disabled).
    pub groups: Vec<String>,
}

impl Targets {
    /// The targets of `compiled`, in the mapping's order.
    pub fn of(compiled: &CompiledMapping) -> Self {
        let targets = |object: &CompiledObject| {
            object
                .attributes
                .iter()
                .filter(|a| !a.target.is_plain("id"))
                .map(|a| a.target.to_string())
                .collect()
        };
        Targets {
            users: targets(&compiled.users),
            groups: compiled.groups.as_ref().map(targets).unwrap_or_default(),
        }
    }
}

/// What `/Schemas` makes discoverable for one resource type, lower-cased.
#[derive(Debug, Default)]
struct Discoverable {
    /// `name`, `name.sub`, `urn:…:name`.
    plain: BTreeSet<String>,
    /// Multi-valued complex attributes: (name, sub, the `type` canonicalValues if declared).
    multi: Vec<(String, String, Option<Vec<String>>)>,
}

impl Discoverable {
    fn add(&mut self, prefix: &str, attribute: &Json) {
        let Some(name) = attribute.get("name").and_then(Json::as_str) else {
            return;
        };
        let name = format!("{prefix}{name}").to_lowercase();
        let subs = attribute
            .get("subAttributes")
            .and_then(Json::as_array)
            .map_or(&[][..], Vec::as_slice);
        let multi = attribute.get("multiValued") == Some(&Json::Bool(true));
        let canonical = subs
            .iter()
            .find(|s| s.get("name").and_then(Json::as_str) == Some("type"))
            .and_then(|t| t.get("canonicalValues"))
            .and_then(Json::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_lowercase)
                    .collect()
            });
        for sub in subs
            .iter()
            .filter_map(|s| s.get("name").and_then(Json::as_str))
        {
            let sub = sub.to_lowercase();
            if multi {
                self.multi.push((name.clone(), sub, canonical.clone()));
            } else {
                self.plain.insert(format!("{name}.{sub}"));
            }
        }
        self.plain.insert(name);
    }

    fn finds(&self, target: &str) -> bool {
        let target = target.to_lowercase();
        if self.plain.contains(&target) {
            return true;
        }
        let Some((name, rest)) = target.split_once("[type eq \"") else {
            return false;
        };
        let Some((kind, sub)) = rest.split_once("\"].") else {
            return false;
        };
        self.multi.iter().any(|(n, s, canonical)| {
            n == name
                && s == sub
                && canonical
                    .as_ref()
                    .is_none_or(|c| c.iter().any(|v| v == kind))
        })
    }
}

/// The user's and the group's discoverable attributes in a `/Schemas` ListResponse (extension
/// schemas count for users, as the Logic App counts them).
fn discoverable(body: &Json) -> (Discoverable, Discoverable) {
    let (mut user, mut group) = (Discoverable::default(), Discoverable::default());
    let schemas = body
        .get("Resources")
        .and_then(Json::as_array)
        .map_or(&[][..], Vec::as_slice);
    for schema in schemas {
        let id = schema.get("id").and_then(Json::as_str).unwrap_or_default();
        let attributes = schema
            .get("attributes")
            .and_then(Json::as_array)
            .map_or(&[][..], Vec::as_slice);
        let (into, prefix) = match id {
            USER_SCHEMA => (&mut user, String::new()),
            GROUP_SCHEMA => (&mut group, String::new()),
            other => (&mut user, format!("{other}:")),
        };
        for attribute in attributes {
            into.add(&prefix, attribute);
        }
    }
    (user, group)
}

fn missing(found: &Discoverable, targets: &[String]) -> Vec<String> {
    targets
        .iter()
        .filter(|t| !found.finds(t))
        .cloned()
        .collect()
}

fn judge(targets: Targets) -> Judge {
    Box::new(move |answer, _| {
        if !answer.is_success() {
            return Err(refusal(answer).into());
        }
        let (user, group) = discoverable(&answer.body);
        let (user, group) = (
            missing(&user, &targets.users),
            missing(&group, &targets.groups),
        );
        if user.is_empty() && group.is_empty() {
            Ok(())
        } else {
            Err(Miss::hinted(
                format!("not in /Schemas: user attributes {user:?}, group attributes {group:?}"),
                missing_hint(&user, &group),
            ))
        }
    })
}

/// The fix: the attributes to add to each schema, and why `externalId` is among them when it is.
fn missing_hint(user: &[String], group: &[String]) -> String {
    let lists: Vec<String> = [("the User schema", user), ("the Group schema", group)]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(schema, names)| format!("{} to {schema}", names.join(", ")))
        .collect();
    let mut hint = format!("add to what GET /Schemas lists: {}", lists.join("; "));
    if user.iter().chain(group).any(|n| n == "externalId") {
        hint.push_str(" (externalId too: Microsoft's check requires it although RFC 7643 makes it a common attribute)");
    }
    hint
}

/// The one step: `GET /Schemas`, judged against the mapping's targets.
pub fn schema_discoverability(ctx: &Ctx) -> Vec<Step> {
    vec![Step {
        label: "read /Schemas".into(),
        method: Method::Get,
        path: "/Schemas".into(),
        body: None,
        capture: None,
        judge: judge(ctx.targets.clone()),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The default mapping's targets are the ones Microsoft's check looks for in the default
    /// setup.
    #[test]
    fn the_default_mapping_yields_its_targets() {
        let compiled = super::super::setup::default_mapping().unwrap();
        let targets = Targets::of(&compiled);
        assert_eq!(
            targets.users,
            [
                "userName",
                "active",
                "displayName",
                "title",
                "emails[type eq \"work\"].value",
                "preferredLanguage",
                "name.givenName",
                "name.familyName",
                "name.formatted",
                "addresses[type eq \"work\"].formatted",
                "addresses[type eq \"work\"].streetAddress",
                "addresses[type eq \"work\"].locality",
                "addresses[type eq \"work\"].region",
                "addresses[type eq \"work\"].postalCode",
                "addresses[type eq \"work\"].country",
                "phoneNumbers[type eq \"work\"].value",
                "phoneNumbers[type eq \"mobile\"].value",
                "phoneNumbers[type eq \"fax\"].value",
                "externalId",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            ]
        );
        assert_eq!(targets.groups, ["displayName", "externalId", "members"]);
    }

    /// What is missing is what the mapping's own targets lack.
    #[test]
    fn a_mappings_own_targets_are_looked_for() {
        let body = json!({"Resources": [
            {"id": USER_SCHEMA, "attributes": [{"name": "userName"}, {"name": "nickName"}]},
        ]});
        let (user, _) = discoverable(&body);
        let targets = ["userName".to_string(), "NICKNAME".into(), "title".into()];
        assert_eq!(missing(&user, &targets), ["title"]);
    }

    /// canonicalValues, when declared, must include the type the mapping writes.
    #[test]
    fn canonical_values_limit_the_types() {
        let body = json!({"Resources": [{"id": USER_SCHEMA, "attributes": [
            {"name": "emails", "multiValued": true, "subAttributes": [
                {"name": "value"},
                {"name": "type", "canonicalValues": ["home"]}]},
            {"name": "phoneNumbers", "multiValued": true, "subAttributes": [
                {"name": "value"}, {"name": "type"}]},
        ]}]});
        let (user, _) = discoverable(&body);
        assert!(!user.finds("emails[type eq \"work\"].value"));
        assert!(user.finds("emails[type eq \"home\"].value"));
        assert!(user.finds("PHONENUMBERS[type eq \"fax\"].value"));
    }
}
