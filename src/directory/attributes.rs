//! The source attribute tables: which Entra attribute names a directory file may carry and which
//! names a mapping may use as a source (`[name]` / `source:`), with their kinds.
//!
//! Names follow Graph / the provisioning schema and are case-sensitive.

/// How an attribute's value is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeKind {
    /// One string (numbers included).
    Text,
    /// "True" / "False".
    Boolean,
    /// Several strings (`proxyAddresses`).
    MultiText,
    /// The objectId of another object (`manager`, `members`), resolved by the engine.
    Reference,
    /// App-role assignments (`appRoleAssignments`), computed from the job's assignments.
    Roles,
}

/// One known source attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceAttribute {
    /// The attribute name, case-sensitive.
    pub name: &'static str,
    /// Its value shape.
    pub kind: AttributeKind,
    /// Whether a scoping filter may test it (§5: not multi-valued, not references, not
    /// `appRoleAssignments`, `userType` or computed values).
    pub scopable: bool,
}

const fn attr(name: &'static str, kind: AttributeKind, scopable: bool) -> SourceAttribute {
    SourceAttribute {
        name,
        kind,
        scopable,
    }
}

use AttributeKind::{Boolean, MultiText, Reference, Roles, Text};

/// Source attributes of a user that a mapping may read (§6.3 list).
pub const USER_SOURCE_ATTRIBUTES: &[SourceAttribute] = &[
    attr("objectId", Text, true),
    attr("userPrincipalName", Text, true),
    attr("originalUserPrincipalName", Text, true),
    attr("IsSoftDeleted", Boolean, false),
    attr("accountEnabled", Boolean, true),
    attr("appRoleAssignments", Roles, false),
    attr("manager", Reference, false),
    attr("mailNickname", Text, true),
    attr("mail", Text, true),
    attr("givenName", Text, true),
    attr("surname", Text, true),
    attr("displayName", Text, true),
    attr("jobTitle", Text, true),
    attr("department", Text, true),
    attr("employeeId", Text, true),
    attr("telephoneNumber", Text, true),
    attr("mobile", Text, true),
    attr("facsimileTelephoneNumber", Text, true),
    attr("streetAddress", Text, true),
    attr("city", Text, true),
    attr("state", Text, true),
    attr("postalCode", Text, true),
    attr("country", Text, true),
    attr("physicalDeliveryOfficeName", Text, true),
    attr("preferredLanguage", Text, true),
    attr("userType", Text, false),
    attr("onPremisesSecurityIdentifier", Text, true),
    attr("passwordProfile.password", Text, false),
    attr("proxyAddresses", MultiText, false),
    attr("extensionAttribute1", Text, true),
    attr("extensionAttribute2", Text, true),
    attr("extensionAttribute3", Text, true),
    attr("extensionAttribute4", Text, true),
    attr("extensionAttribute5", Text, true),
    attr("extensionAttribute6", Text, true),
    attr("extensionAttribute7", Text, true),
    attr("extensionAttribute8", Text, true),
    attr("extensionAttribute9", Text, true),
    attr("extensionAttribute10", Text, true),
    attr("extensionAttribute11", Text, true),
    attr("extensionAttribute12", Text, true),
    attr("extensionAttribute13", Text, true),
    attr("extensionAttribute14", Text, true),
    attr("extensionAttribute15", Text, true),
];

/// Source attributes of a group that a mapping may read.
pub const GROUP_SOURCE_ATTRIBUTES: &[SourceAttribute] = &[
    attr("objectId", Text, true),
    attr("displayName", Text, true),
    attr("mailNickname", Text, true),
    attr("description", Text, true),
    attr("securityEnabled", Boolean, true),
    attr("members", Reference, false),
];

/// Attributes computed by the simulator, never written in a directory file.
pub const COMPUTED_USER_ATTRIBUTES: &[&str] = &[
    "IsSoftDeleted",
    "appRoleAssignments",
    "passwordProfile.password",
];

/// Looks `name` up in `table`, treating `extension_<appId>_<name>` directory extensions as
/// scopable single-valued text.
pub fn find(table: &[SourceAttribute], name: &str) -> Option<SourceAttribute> {
    if is_directory_extension(name) {
        return Some(SourceAttribute {
            name: "extension",
            kind: Text,
            scopable: true,
        });
    }
    table.iter().find(|a| a.name == name).copied()
}

/// `extension_<32 hex digits of the app id>_<name>`, with a name of letters, digits and `_`.
pub fn is_directory_extension(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("extension_") else {
        return false;
    };
    let Some((app_id, attribute)) = rest.split_once('_') else {
        return false;
    };
    app_id.len() == 32
        && app_id.chars().all(|c| c.is_ascii_hexdigit())
        && !attribute.is_empty()
        && attribute
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_extensions() {
        let cases = [
            (
                "extension_0123456789abcdef0123456789ABCDEF_costCenter",
                true,
            ),
            ("extension_0123456789abcdef0123456789abcdef_a_b", true),
            ("extension_0123456789abcdef_costCenter", false),
            ("extension_0123456789abcdef0123456789abcdeg_x", false),
            ("extension_0123456789abcdef0123456789abcdef_", false),
            ("extensionAttribute1", false),
        ];
        for (name, expected) in cases {
            assert_eq!(is_directory_extension(name), expected, "{name}");
        }
    }

    #[test]
    fn lookup() {
        assert_eq!(
            find(USER_SOURCE_ATTRIBUTES, "proxyAddresses").map(|a| a.kind),
            Some(MultiText)
        );
        assert_eq!(find(USER_SOURCE_ATTRIBUTES, "Mail"), None);
        assert_eq!(
            find(GROUP_SOURCE_ATTRIBUTES, "members").map(|a| a.scopable),
            Some(false)
        );
    }
}
