//! Who is in provisioning scope (§1.5, §4.1, §5): app assignments (direct, or as a direct member of
//! an assigned group — nested groups are not expanded) and their roles, scoping filters with
//! per-clause verdicts, the computed `IsSoftDeleted`, and B2B userPrincipalName rewriting of the
//! attributes fed to mappings. Pure functions of the directory and the job.

mod assignment;
mod filter;
mod source;

pub use assignment::{
    AppAssignment, Assignment, AssignmentIndex, DEFAULT_ROLE, ScopeMode, built_in_roles,
};
pub use filter::{
    ClauseError, ClauseVerdict, FilterVerdict, ScopeEvaluation, ScopingClause, ScopingFilter,
    ScopingOperator, evaluate, in_scope,
};
pub use source::{b2b_upn, is_soft_deleted, user_source_attributes};

#[cfg(test)]
mod tests;
