//! The built-in target schema: RFC 7643 core User and Group plus the enterprise extension, reduced
//! to what decides the wire shape — an attribute's type (booleans become JSON booleans, references
//! are linked later) and whether it is multi-valued. Attributes not listed (custom extensions,
//! vendor additions) are single-valued strings, as spec §2.7 says custom extension attributes are.

/// Schema URN of the core User resource.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Schema URN of the enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Schema URN of the core Group resource.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The Microsoft group schema URN Entra adds on group creation.
pub const MS_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
/// Schema URN of PATCH request bodies.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The `type` Entra gives app roles (spec §6.6).
pub const APP_ROLE_TYPE: &str = "WindowsAzureActiveDirectoryRole";

/// Attribute types of the target schema that change the wire shape (Graph `attributeDefinition.type`
/// has `Integer`/`DateTime`/`Binary` too; on the wire those are strings like `String`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// A string (also the fallback for anything unknown).
    String,
    /// A boolean: a JSON boolean in POST, per-mode in PATCH.
    Boolean,
    /// A reference to another resource (`manager`, `members`, `groups`): linked after creation.
    Reference,
    /// A complex attribute addressed without a sub-attribute.
    Complex,
}

/// One attribute of the built-in table.
struct AttrDef {
    name: &'static str,
    ty: AttrType,
    multi_valued: bool,
    subs: &'static [(&'static str, AttrType)],
}

const MULTI_SUBS: &[(&str, AttrType)] = &[
    ("value", AttrType::String),
    ("display", AttrType::String),
    ("type", AttrType::String),
    ("primary", AttrType::Boolean),
    ("$ref", AttrType::Reference),
];
const NAME_SUBS: &[(&str, AttrType)] = &[
    ("formatted", AttrType::String),
    ("familyName", AttrType::String),
    ("givenName", AttrType::String),
    ("middleName", AttrType::String),
    ("honorificPrefix", AttrType::String),
    ("honorificSuffix", AttrType::String),
];
const ADDRESS_SUBS: &[(&str, AttrType)] = &[
    ("formatted", AttrType::String),
    ("streetAddress", AttrType::String),
    ("locality", AttrType::String),
    ("region", AttrType::String),
    ("postalCode", AttrType::String),
    ("country", AttrType::String),
    ("type", AttrType::String),
    ("primary", AttrType::Boolean),
];
const REF_SUBS: &[(&str, AttrType)] = &[
    ("value", AttrType::String),
    ("$ref", AttrType::Reference),
    ("display", AttrType::String),
    ("displayName", AttrType::String),
    ("type", AttrType::String),
];

const fn single(name: &'static str, ty: AttrType) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi_valued: false,
        subs: &[],
    }
}
const fn multi(
    name: &'static str,
    ty: AttrType,
    subs: &'static [(&'static str, AttrType)],
) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi_valued: true,
        subs,
    }
}

/// Core User and Group attributes (RFC 7643 §4.1, §4.2) plus `externalId`/`id` (§3.1).
const CORE: &[AttrDef] = &[
    single("id", AttrType::String),
    single("externalId", AttrType::String),
    single("userName", AttrType::String),
    AttrDef {
        name: "name",
        ty: AttrType::Complex,
        multi_valued: false,
        subs: NAME_SUBS,
    },
    single("displayName", AttrType::String),
    single("nickName", AttrType::String),
    single("profileUrl", AttrType::String),
    single("title", AttrType::String),
    single("userType", AttrType::String),
    single("preferredLanguage", AttrType::String),
    single("locale", AttrType::String),
    single("timezone", AttrType::String),
    single("active", AttrType::Boolean),
    single("password", AttrType::String),
    multi("emails", AttrType::Complex, MULTI_SUBS),
    multi("phoneNumbers", AttrType::Complex, MULTI_SUBS),
    multi("ims", AttrType::Complex, MULTI_SUBS),
    multi("photos", AttrType::Complex, MULTI_SUBS),
    multi("addresses", AttrType::Complex, ADDRESS_SUBS),
    multi("groups", AttrType::Reference, REF_SUBS),
    multi("entitlements", AttrType::Complex, MULTI_SUBS),
    multi("roles", AttrType::Complex, MULTI_SUBS),
    multi("x509Certificates", AttrType::Complex, MULTI_SUBS),
    multi("members", AttrType::Reference, REF_SUBS),
];

/// Enterprise User extension attributes (RFC 7643 §4.3).
const ENTERPRISE: &[AttrDef] = &[
    single("employeeNumber", AttrType::String),
    single("costCenter", AttrType::String),
    single("organization", AttrType::String),
    single("division", AttrType::String),
    single("department", AttrType::String),
    AttrDef {
        name: "manager",
        ty: AttrType::Reference,
        multi_valued: false,
        subs: REF_SUBS,
    },
];

/// What the schema says about the attribute a path addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrShape {
    /// Type of the addressed leaf (the sub-attribute if the path names one).
    pub ty: AttrType,
    /// True when the path addresses a whole multi-valued attribute (no filter, no sub-attribute).
    pub multi_valued: bool,
}

/// Looks up the shape of `attr` (and `sub`, if given) in `schema` (None = core).
pub(crate) fn shape(
    schema: Option<&str>,
    attr: &str,
    sub: Option<&str>,
    filtered: bool,
) -> AttrShape {
    let table = match schema {
        None => CORE,
        Some(urn) if urn.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) => ENTERPRISE,
        Some(_) => &[],
    };
    let Some(def) = table.iter().find(|def| def.name.eq_ignore_ascii_case(attr)) else {
        return AttrShape {
            ty: AttrType::String,
            multi_valued: false,
        };
    };
    match sub {
        Some(sub) => {
            let ty = def
                .subs
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(sub))
                .map_or(AttrType::String, |(_, ty)| *ty);
            AttrShape {
                ty,
                multi_valued: false,
            }
        }
        None => AttrShape {
            ty: def.ty,
            multi_valued: def.multi_valued && !filtered,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_from_the_table() {
        type Case<'a> = (
            Option<&'a str>,
            &'a str,
            Option<&'a str>,
            bool,
            AttrType,
            bool,
        );
        let cases: &[Case<'_>] = &[
            (None, "active", None, false, AttrType::Boolean, false),
            (None, "ACTIVE", None, false, AttrType::Boolean, false),
            (
                None,
                "emails",
                Some("primary"),
                true,
                AttrType::Boolean,
                false,
            ),
            (None, "emails", Some("value"), true, AttrType::String, false),
            (None, "emails", None, false, AttrType::Complex, true),
            (None, "roles", None, true, AttrType::Complex, false),
            (None, "members", None, false, AttrType::Reference, true),
            (
                None,
                "name",
                Some("givenName"),
                false,
                AttrType::String,
                false,
            ),
            (
                Some(ENTERPRISE_USER_SCHEMA),
                "manager",
                None,
                false,
                AttrType::Reference,
                false,
            ),
            (
                Some(ENTERPRISE_USER_SCHEMA),
                "employeeNumber",
                None,
                false,
                AttrType::String,
                false,
            ),
            (
                Some("urn:ietf:params:scim:schemas:extension:x:2.0:User"),
                "active",
                None,
                false,
                AttrType::String,
                false,
            ),
            (None, "unknownThing", None, false, AttrType::String, false),
        ];
        for (schema, attr, sub, filtered, ty, multi) in cases {
            assert_eq!(
                shape(*schema, attr, *sub, *filtered),
                AttrShape {
                    ty: *ty,
                    multi_valued: *multi
                },
                "{schema:?} {attr} {sub:?}"
            );
        }
    }
}
