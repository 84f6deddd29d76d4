//! Request paths and query strings, relative to the Tenant URL base: matching filters
//! (`/Users?filter=userName+eq+%22…%22`), get-by-id reads, and the Test Connection probes (spec §2.1,
//! §2.2, §2.4). Group reads always exclude members (spec §12 item 9).
//!
//! Filter values are form-encoded as in the OBS request logs: space `+`, `"` `%22`, and every byte
//! outside `A-Z a-z 0-9 * - . _` percent-encoded (the WHATWG form-urlencoded set), so `@` → `%40`.

use crate::scim::path::{TargetPath, filter_literal};

/// Which SCIM resource collection a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

impl ResourceKind {
    /// The collection path: `/Users` or `/Groups` (the POST target).
    pub fn collection_path(self) -> &'static str {
        match self {
            Self::User => "/Users",
            Self::Group => "/Groups",
        }
    }

    /// The query prefix every read of this kind carries.
    fn read_query_prefix(self) -> &'static str {
        match self {
            Self::User => "",
            Self::Group => "excludedAttributes=members&",
        }
    }
}

/// `/Users/{id}` or `/Groups/{id}`: the PATCH and DELETE target for a connected object.
pub fn resource_path(kind: ResourceKind, id: &str) -> String {
    format!("{}/{}", kind.collection_path(), encode_segment(id))
}

/// The GET-by-id path: `/Users/{id}`, or `/Groups/{id}?excludedAttributes=members`.
pub fn get_by_id_path(kind: ResourceKind, id: &str) -> String {
    match kind {
        ResourceKind::User => resource_path(kind, id),
        ResourceKind::Group => format!("{}?excludedAttributes=members", resource_path(kind, id)),
    }
}

/// The matching query for one matching attribute and the source object's value, sent as stored
/// (no case folding): `/Users?filter=userName+eq+%22value%22`.
pub fn match_query(kind: ResourceKind, path: &TargetPath, value: &str) -> String {
    let filter = format!("{path} eq {}", filter_literal(value));
    format!(
        "{}?{}filter={}",
        kind.collection_path(),
        kind.read_query_prefix(),
        form_encode(&filter)
    )
}

/// A filter query on one attribute by name, as Microsoft's validators send it:
/// `/Users?filter=userName+eq+%22value%22` (groups without members, as [`match_query`]).
pub fn eq_query(kind: ResourceKind, attribute: &str, value: &str) -> String {
    let filter = format!("{attribute} eq {}", filter_literal(value));
    format!(
        "{}?{}filter={}",
        kind.collection_path(),
        kind.read_query_prefix(),
        form_encode(&filter)
    )
}

/// The Test Connection probes (spec §2.2): a user query on the precedence-1 matching attribute with
/// a GUID no user has, then, when groups are provisioned, a group query on the group matching
/// attribute (`displayName` by default). The GUID comes in as an argument: no randomness here.
pub fn test_connection_probes(
    user_match: &TargetPath,
    group_match: Option<&TargetPath>,
    guid: &str,
) -> Vec<String> {
    let mut probes = vec![match_query(ResourceKind::User, user_match, guid)];
    probes.extend(group_match.map(|path| match_query(ResourceKind::Group, path, guid)));
    probes
}

fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte))
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// An id as one path segment: RFC 3986 unreserved characters kept, everything else percent-encoded.
pub fn encode_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> TargetPath {
        TargetPath::parse(text).unwrap_or_else(|err| unreachable!("{err}"))
    }

    #[test]
    fn matching_queries() {
        let cases: &[(ResourceKind, &str, &str, &str)] = &[
            (
                ResourceKind::User,
                "userName",
                "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                "/Users?filter=userName+eq+%22Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee%22",
            ),
            (
                ResourceKind::User,
                "externalId",
                "johnwong",
                "/Users?filter=externalId+eq+%22johnwong%22",
            ),
            (
                ResourceKind::User,
                "userName",
                "dale.mohr@romaguera.uk",
                "/Users?filter=userName+eq+%22dale.mohr%40romaguera.uk%22",
            ),
            (
                ResourceKind::User,
                "emails[type eq \"work\"].value",
                "user@contoso.com",
                "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22user%40contoso.com%22",
            ),
            (
                ResourceKind::Group,
                "displayName",
                "displayName",
                "/Groups?excludedAttributes=members&filter=displayName+eq+%22displayName%22",
            ),
            (
                ResourceKind::Group,
                "displayName",
                "R&D \"core\" +1 ü",
                "/Groups?excludedAttributes=members&filter=displayName+eq+%22R%26D+%5C%22core%5C%22+%2B1+%C3%BC%22",
            ),
            (
                ResourceKind::User,
                "userName",
                "O'Malley",
                "/Users?filter=userName+eq+%22O%27Malley%22",
            ),
        ];
        for (kind, attr, value, want) in cases {
            assert_eq!(
                match_query(*kind, &path(attr), value),
                *want,
                "{attr} {value}"
            );
        }
    }

    #[test]
    fn id_paths() {
        assert_eq!(ResourceKind::User.collection_path(), "/Users");
        assert_eq!(ResourceKind::Group.collection_path(), "/Groups");
        assert_eq!(
            get_by_id_path(ResourceKind::User, "5d48a0a8e9f04aa38008"),
            "/Users/5d48a0a8e9f04aa38008"
        );
        assert_eq!(
            get_by_id_path(ResourceKind::Group, "40734ae655284ad3abcc"),
            "/Groups/40734ae655284ad3abcc?excludedAttributes=members"
        );
        assert_eq!(
            resource_path(ResourceKind::Group, "927fa2c08dcb4a7fae9e"),
            "/Groups/927fa2c08dcb4a7fae9e"
        );
        assert_eq!(
            resource_path(ResourceKind::User, "a b/c?d"),
            "/Users/a%20b%2Fc%3Fd"
        );
    }

    #[test]
    fn test_connection_probes_with_and_without_groups() {
        let guid = "8f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8";
        assert_eq!(
            test_connection_probes(&path("userName"), Some(&path("displayName")), guid),
            vec![
                "/Users?filter=userName+eq+%228f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8%22".to_owned(),
                "/Groups?excludedAttributes=members&filter=displayName+eq+%228f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8%22".to_owned(),
            ]
        );
        assert_eq!(
            test_connection_probes(&path("externalId"), None, guid),
            vec![
                "/Users?filter=externalId+eq+%228f1c2a3b-4d5e-6f70-8192-a3b4c5d6e7f8%22".to_owned()
            ]
        );
    }
}
