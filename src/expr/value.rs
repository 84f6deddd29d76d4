//! Attribute values as Entra's provisioning engine sees them: absent (null), one string, several
//! strings, or a list of app-role assignments. Booleans are the strings "True"/"False".

/// One app-role assignment of a user (the `appRoleAssignments` source attribute).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct AppRole {
    /// The app role's id (a GUID).
    pub id: String,
    /// The role's `value` claim, e.g. `Admin`.
    pub value: String,
    /// The role's display name.
    pub display_name: String,
}

/// A source attribute value or an expression result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// The attribute is absent (Entra's NULL). Never equal to `Str("")`.
    #[default]
    Null,
    /// A single string value. Numbers and booleans are strings too ("True"/"False").
    Str(String),
    /// A multi-valued attribute (e.g. `proxyAddresses`), or the result of `Split`.
    Multi(Vec<String>),
    /// App-role assignments (`appRoleAssignments`), or the result of a role function.
    Roles(Vec<AppRole>),
}

impl Value {
    /// `"True"` or `"False"`, the language's booleans.
    pub fn from_bool(b: bool) -> Value {
        Value::Str(if b { "True" } else { "False" }.to_owned())
    }

    /// Absent: `Null`, or a multi-valued / role list with no entries.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Str(_) => false,
            Value::Multi(v) => v.is_empty(),
            Value::Roles(r) => r.is_empty(),
        }
    }

    /// Absent or the empty string.
    pub fn is_null_or_empty(&self) -> bool {
        self.is_null() || matches!(self, Value::Str(s) if s.is_empty())
    }

    /// The single string this value holds: `Str`, or a one-element `Multi`.
    pub fn as_single(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Multi(v) if v.len() == 1 => v.first().map(String::as_str),
            _ => None,
        }
    }

    /// Every string the value holds: none for `Null`, one for `Str`, all for `Multi`, each role's
    /// `value` for `Roles`. This is Graph parseExpression's `evaluationResult`.
    pub fn to_strings(&self) -> Vec<String> {
        match self {
            Value::Null => Vec::new(),
            Value::Str(s) => vec![s.clone()],
            Value::Multi(v) => v.clone(),
            Value::Roles(r) => r.iter().map(|role| role.value.clone()).collect(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::Multi(v)
    }
}
