//! The discovery endpoints (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas, as
//! static documents describing what this target supports.

use serde_json::{Value, json};

use crate::target::schema::{ENTERPRISE_URN, GROUP_URN, LIST_URN, USER_URN};

pub fn service_provider_config(base_url: &str, max_results: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a static bearer token",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base_url}/ServiceProviderConfig")}
    })
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_URN],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

pub fn resource_types(base_url: &str) -> Value {
    list(vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "schema": USER_URN,
            "schemaExtensions": [{"schema": ENTERPRISE_URN, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base_url}/ResourceTypes/User")}
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": GROUP_URN,
            "meta": {"resourceType": "ResourceType", "location": format!("{base_url}/ResourceTypes/Group")}
        }),
    ])
}

/// `(name, type, multiValued, required, caseExact, uniqueness, sub-attributes)`.
type Attr = (
    &'static str,
    &'static str,
    bool,
    bool,
    bool,
    &'static str,
    &'static [&'static str],
);

const USER_ATTRS: &[Attr] = &[
    ("userName", "string", false, true, false, "server", &[]),
    ("externalId", "string", false, false, true, "none", &[]),
    (
        "name",
        "complex",
        false,
        false,
        false,
        "none",
        &["formatted", "familyName", "givenName", "middleName"],
    ),
    ("displayName", "string", false, false, false, "none", &[]),
    ("nickName", "string", false, false, false, "none", &[]),
    ("title", "string", false, false, false, "none", &[]),
    (
        "preferredLanguage",
        "string",
        false,
        false,
        false,
        "none",
        &[],
    ),
    ("active", "boolean", false, false, false, "none", &[]),
    (
        "emails",
        "complex",
        true,
        false,
        false,
        "none",
        &["value", "type", "primary"],
    ),
    (
        "phoneNumbers",
        "complex",
        true,
        false,
        false,
        "none",
        &["value", "type", "primary"],
    ),
    (
        "addresses",
        "complex",
        true,
        false,
        false,
        "none",
        &[
            "formatted",
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "country",
            "type",
            "primary",
        ],
    ),
    (
        "roles",
        "complex",
        true,
        false,
        false,
        "none",
        &["value", "display", "type", "primary"],
    ),
];

const GROUP_ATTRS: &[Attr] = &[
    ("displayName", "string", false, true, false, "server", &[]),
    ("externalId", "string", false, false, true, "none", &[]),
    (
        "members",
        "complex",
        true,
        false,
        false,
        "none",
        &["value", "$ref", "display", "type"],
    ),
];

const ENTERPRISE_ATTRS: &[Attr] = &[
    ("employeeNumber", "string", false, false, false, "none", &[]),
    ("costCenter", "string", false, false, false, "none", &[]),
    ("organization", "string", false, false, false, "none", &[]),
    ("division", "string", false, false, false, "none", &[]),
    ("department", "string", false, false, false, "none", &[]),
    (
        "manager",
        "complex",
        false,
        false,
        false,
        "none",
        &["value", "$ref", "displayName"],
    ),
];

fn attr_json(a: &Attr) -> Value {
    let (name, ty, multi, required, exact, unique, subs) = *a;
    let mut v = json!({
        "name": name, "type": ty, "multiValued": multi, "required": required,
        "caseExact": exact, "mutability": "readWrite", "returned": "default", "uniqueness": unique,
    });
    if !subs.is_empty()
        && let Some(m) = v.as_object_mut()
    {
        let subs: Vec<Value> = subs
            .iter()
            .map(|s| {
                let ty = match *s {
                    "primary" => "boolean",
                    "$ref" => "reference",
                    _ => "string",
                };
                json!({"name": s, "type": ty, "multiValued": false, "required": false,
                       "caseExact": false, "mutability": "readWrite", "returned": "default",
                       "uniqueness": "none"})
            })
            .collect();
        m.insert("subAttributes".into(), Value::Array(subs));
    }
    v
}

fn schema_doc(base_url: &str, id: &str, name: &str, attrs: &[Attr]) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id, "name": name,
        "attributes": attrs.iter().map(attr_json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base_url}/Schemas/{id}")}
    })
}

pub fn schemas(base_url: &str) -> Value {
    list(vec![
        schema_doc(base_url, USER_URN, "User", USER_ATTRS),
        schema_doc(base_url, GROUP_URN, "Group", GROUP_ATTRS),
        schema_doc(base_url, ENTERPRISE_URN, "EnterpriseUser", ENTERPRISE_ATTRS),
    ])
}
