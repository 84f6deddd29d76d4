//! The source attributes the engine feeds to mappings for a user: the directory attributes with
//! the B2B userPrincipalName rewrite, plus the computed `IsSoftDeleted` (§4.1) and
//! `appRoleAssignments`.

use std::collections::BTreeMap;

use crate::directory::User;
use crate::expr::{AppRole, Value};

/// §4.1: true when the user is out of scope (unassigned or failing the scoping filters),
/// soft-deleted in Entra, or blocked from sign-in.
pub fn is_soft_deleted(user: &User, in_scope: bool) -> bool {
    !in_scope || user.soft_deleted || !user.account_enabled
}

/// The B2B form `alias_theirdomain#EXT#@yourdomain` rewritten to `alias@theirdomain`; `None` for
/// any other UPN. The alias may contain `_`; a domain cannot, so the last `_` splits them.
pub fn b2b_upn(upn: &str) -> Option<String> {
    let marker = upn.to_ascii_uppercase().find("#EXT#@")?;
    let local = upn.get(..marker)?;
    let (alias, domain) = local.rsplit_once('_')?;
    if alias.is_empty() || domain.is_empty() {
        return None;
    }
    Some(format!("{alias}@{domain}"))
}

/// The attribute map a user's mappings read. `userPrincipalName` is B2B-rewritten;
/// `originalUserPrincipalName` keeps the raw value (set at load). Scoping filters are evaluated on
/// the directory's `user.attrs` instead, i.e. on the raw values.
pub fn user_source_attributes(
    user: &User,
    roles: &[AppRole],
    is_soft_deleted: bool,
) -> BTreeMap<String, Value> {
    let mut attrs = user.attrs.clone();
    if let Some(upn) = b2b_upn(&user.upn) {
        attrs.insert("userPrincipalName".to_owned(), Value::Str(upn));
    }
    let flag = if is_soft_deleted { "True" } else { "False" };
    attrs.insert("IsSoftDeleted".to_owned(), Value::Str(flag.to_owned()));
    attrs.insert(
        "appRoleAssignments".to_owned(),
        Value::Roles(roles.to_vec()),
    );
    attrs
}
