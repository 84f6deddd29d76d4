//! What the target knows about the SCIM schemas: the URNs, the two resource kinds, which attributes
//! are booleans or compared case-exactly (RFC 7643 §4), and how to tell a schema URN key from a
//! fully qualified attribute key. Kept tiny on purpose: the target validates what a real server
//! must, not the whole schema.

use serde_json::Value;

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The two resource types the target serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    pub fn core_urn(self) -> &'static str {
        match self {
            Kind::User => USER_URN,
            Kind::Group => GROUP_URN,
        }
    }

    /// The endpoint segment under the base URL.
    pub fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The required attribute that is unique server-wide (case-insensitively).
    pub fn unique_attr(self) -> &'static str {
        match self {
            Kind::User => "userName",
            Kind::Group => "displayName",
        }
    }
}

/// Whether string comparison on `owner.attr` is case-exact (RFC 7643: `id`, `externalId` and
/// references are; `userName`, emails, `displayName` and `type` are not).
pub fn case_exact(owner: Option<&str>, attr: &str) -> bool {
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match owner {
        None => eq(attr, "id") || eq(attr, "externalId") || eq(attr, "$ref"),
        Some(o) => {
            eq(attr, "$ref") || ((eq(o, "members") || eq(o, "manager")) && eq(attr, "value"))
        }
    }
}

/// Reads a boolean as Entra sends it: a JSON boolean, or (default mode) the strings
/// "True"/"False" in any case (pitfall 3).
pub fn coerce_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Whether `key` names a schema (`urn:…:2.0:User`) rather than a fully qualified attribute
/// (`urn:…:2.0:User:employeeNumber`). Schema URNs end in a resource-type name, which SCIM writes
/// capitalised; attribute names start lower-case.
pub fn is_schema_key(key: &str) -> bool {
    is_urn(key)
        && key
            .rsplit(':')
            .next()
            .and_then(|last| last.chars().next())
            .is_some_and(|c| c.is_ascii_uppercase())
}

pub fn is_urn(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

pub fn is_enterprise(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(ENTERPRISE_URN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_keys() {
        assert!(is_schema_key(ENTERPRISE_URN));
        assert!(is_schema_key(
            "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
        ));
        assert!(!is_schema_key(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
        ));
        assert!(!is_schema_key("name.givenName"));
    }

    #[test]
    fn booleans() {
        let cases = [
            (json!(true), Some(true)),
            (json!("True"), Some(true)),
            (json!("false"), Some(false)),
            (json!("FALSE"), Some(false)),
            (json!("yes"), None),
            (json!(1), None),
        ];
        for (v, want) in cases {
            assert_eq!(coerce_bool(&v), want, "{v}");
        }
    }

    #[test]
    fn case_exactness() {
        assert!(case_exact(None, "externalId"));
        assert!(!case_exact(None, "userName"));
        assert!(case_exact(Some("members"), "value"));
        assert!(!case_exact(Some("emails"), "value"));
    }
}
