//! From source objects to what the mappings want in the target (spec §1.5, §4.1, §5, §6): compile a
//! mapping once (target paths parsed, expressions parsed), then, per user or group, evaluate scope,
//! `IsSoftDeleted`, every attribute mapping and the matching values, and fingerprint the inputs so
//! an incremental cycle can tell what changed.

use std::collections::{BTreeMap, HashMap};

use super::cycle::SourceObject;
use super::flows::{ObjectSpec, UniqueValue};
use super::{ObjectKey, ObjectKind};
use crate::directory::{Directory, Group, MemberKind, User};
use crate::expr::{self, EvalContext, Expr, ExprKind, Function, Value};
use crate::mapping::{
    AttributeMapping, ExprSource, FlowType, Mapping, MappingSource, ObjectMapping, TargetActions,
};
use crate::provlog::{SkipReason, Status, Step, StepName, StepType};
use crate::scim::{RoleFunction, TargetPath};
use crate::scope::{self, AssignmentIndex, ScopeMode, ScopingFilter};
use crate::yaml::{Location, Problem, Problems};

/// Where a compiled attribute mapping takes its value from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A source attribute.
    Direct(String),
    /// A literal.
    Constant(String),
    /// An expression, parsed once.
    Expression(Box<Expr>),
    /// Mapping type None: only the default, on create.
    None,
    /// The `manager` reference (exported after every user has its target id).
    Manager,
    /// The `members` reference of groups.
    Members,
}

/// One attribute mapping, ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledAttribute {
    /// The target path.
    pub target: TargetPath,
    /// The value's source.
    pub source: Source,
    /// Default value if null (creation only).
    pub default: Option<String>,
    /// Matching precedence.
    pub matching: Option<u32>,
    /// Applied only during object creation.
    pub on_create_only: bool,
    /// Case-only differences count.
    pub case_exact: bool,
}

/// One object mapping, ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledObject {
    /// Create / update / delete.
    pub actions: TargetActions,
    /// Scoping filters (ORed; clauses ANDed).
    pub scoping: Vec<ScopingFilter>,
    /// Attribute mappings in file order.
    pub attributes: Vec<CompiledAttribute>,
    /// A `manager` reference is mapped (users).
    pub links_manager: bool,
    /// A `members` reference is mapped (groups).
    pub links_members: bool,
}

/// A whole mapping file, ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledMapping {
    /// The users object mapping.
    pub users: CompiledObject,
    /// The groups object mapping, when enabled.
    pub groups: Option<CompiledObject>,
    /// Changes when any mapping or scoping filter changes (forces an initial cycle).
    pub fingerprint: String,
}

/// Parses every target path and expression of `mapping`, reporting every problem with its
/// location: target paths that do not parse, two mappings to the same target, expressions that
/// do not parse (regexes included) or read unknown source attributes. A disabled groups mapping is
/// checked too, but not compiled into the result.
pub fn compile(mapping: &Mapping) -> Result<CompiledMapping, Problems> {
    let mut problems = Vec::new();
    let users = compile_object(&mapping.file, &mapping.users, &mut problems);
    let groups = mapping
        .groups
        .as_ref()
        .map(|g| (g.enabled, compile_object(&mapping.file, g, &mut problems)));
    if problems.is_empty() {
        Ok(CompiledMapping {
            users,
            groups: groups.and_then(|(enabled, g)| enabled.then_some(g)),
            fingerprint: mapping.fingerprint(),
        })
    } else {
        problems.sort_by_key(|p| p.location);
        Err(Problems(problems))
    }
}

fn compile_object(
    file: &str,
    mapping: &ObjectMapping,
    problems: &mut Vec<Problem>,
) -> CompiledObject {
    let mut report = Report { file, problems };
    let mut attributes = Vec::new();
    let mut targets: HashMap<TargetPath, &AttributeMapping> = HashMap::new();
    for attr in &mapping.attributes {
        let Some(target) = target_path(attr, &mut report) else {
            continue;
        };
        if let Some(first) = targets.get(&target) {
            report.already_mapped(attr, first);
        } else {
            targets.insert(target.clone(), attr);
        }
        let Some(source) = compile_source(mapping, attr, &mut report) else {
            continue;
        };
        attributes.push(CompiledAttribute {
            target,
            source,
            default: attr.default.clone(),
            matching: attr.matching,
            on_create_only: attr.apply == FlowType::ObjectAddOnly,
            case_exact: attr.case_exact,
        });
    }
    CompiledObject {
        actions: mapping.actions,
        scoping: mapping.scoping.clone(),
        links_manager: attributes
            .iter()
            .any(|a| matches!(a.source, Source::Manager)),
        links_members: attributes
            .iter()
            .any(|a| matches!(a.source, Source::Members)),
        attributes,
    }
}

/// The problems found compiling one mapping file.
struct Report<'p> {
    file: &'p str,
    problems: &'p mut Vec<Problem>,
}

impl Report<'_> {
    fn push(&mut self, location: Location, field: String, message: String) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            location,
            field,
            message,
        });
    }

    /// `attr` maps to the target `first` maps already.
    fn already_mapped(&mut self, attr: &AttributeMapping, first: &AttributeMapping) {
        let spelt = if first.target == attr.target {
            String::new()
        } else {
            format!(" (as \"{}\")", first.target)
        };
        self.push(
            attr.target_location,
            format!("{}.target", attr.field),
            format!(
                "target \"{}\" is already mapped by {}{spelt}",
                attr.target, first.field
            ),
        );
    }
}

/// The parsed target path of `attr`; `None` (reported) when it does not parse.
fn target_path(attr: &AttributeMapping, report: &mut Report<'_>) -> Option<TargetPath> {
    match TargetPath::parse(&attr.target) {
        Ok(path) => Some(path),
        Err(e) => {
            report.push(
                shifted(
                    attr.target_location,
                    &attr.target,
                    e.column.saturating_sub(1),
                ),
                format!("{}.target", attr.field),
                format!(
                    "invalid SCIM path `{}`: expected {}",
                    attr.target, e.expected
                ),
            );
            None
        }
    }
}

/// Where `attr` takes its value from; `None` (reported) when its expression does not parse.
fn compile_source(
    mapping: &ObjectMapping,
    attr: &AttributeMapping,
    report: &mut Report<'_>,
) -> Option<Source> {
    Some(match &attr.source {
        MappingSource::Direct(name) if name == "manager" => Source::Manager,
        MappingSource::Direct(name) if name == "members" => Source::Members,
        MappingSource::Direct(name) => Source::Direct(name.clone()),
        MappingSource::Constant(value) => Source::Constant(value.clone()),
        MappingSource::None => Source::None,
        MappingSource::Expression(text) => match expr::parse(&text.text) {
            Ok(parsed) => {
                check_expression(mapping, attr, text, &parsed, report);
                Source::Expression(Box::new(parsed))
            }
            Err(e) => {
                report.push(
                    expression_location(text, e.span.start),
                    text.field.clone(),
                    e.render(&text.text),
                );
                return None;
            }
        },
    })
}

/// Reports the source attributes `parsed` reads that the object type lacks, and a
/// SelectUniqueValue on a matching attribute.
fn check_expression(
    mapping: &ObjectMapping,
    attr: &AttributeMapping,
    text: &ExprSource,
    parsed: &Expr,
    report: &mut Report<'_>,
) {
    parsed.visit(&mut |node| {
        if let ExprKind::Attribute(name) = &node.kind
            && let Err(message) = mapping.object_type.check_source_attribute(name)
        {
            report.push(
                expression_location(text, node.span.start),
                text.field.clone(),
                message,
            );
        }
    });
    if let (ExprKind::Call(call), Some(precedence)) = (&parsed.kind, attr.matching)
        && call.function == Function::SelectUniqueValue
    {
        // Microsoft's function reference: SelectUniqueValue "cannot be applied to attributes
        // that have a matching precedence".
        report.push(
            attr.location,
            format!("{}.matching", attr.field),
            format!(
                "SelectUniqueValue cannot be used on a matching attribute (matching: {precedence}); match on another attribute"
            ),
        );
    }
}

/// Where byte `offset` of an expression is in the mapping file (the start of a multi-line one).
fn expression_location(text: &ExprSource, offset: usize) -> Location {
    let chars = text.text.get(..offset).map_or(0, |s| s.chars().count());
    shifted(text.location, &text.text, chars)
}

/// `start` moved right by `chars` characters of the single-line `text` written there.
fn shifted(start: Location, text: &str, chars: usize) -> Location {
    if text.contains('\n') {
        return start;
    }
    Location {
        line: start.line,
        column: start.column + chars,
    }
}

/// What building a source object needs besides the object itself.
pub struct Sources<'a> {
    /// The tenant.
    pub directory: &'a Directory,
    /// Who is assigned.
    pub assignments: &'a AssignmentIndex,
    /// Assigned-only or sync-all.
    pub scope: ScopeMode,
}

fn import_step(kind: ObjectKind, name: &str, attrs: &BTreeMap<String, Value>) -> Step {
    let mut step = Step::new(
        StepName::EntryImport,
        StepType::Import,
        Status::Success,
        format!(
            "Retrieved {} '{name}' from Azure Active Directory",
            kind.as_str()
        ),
    );
    for (attr, value) in attrs.iter().filter(|(_, v)| **v != Value::Null) {
        step = step.detail(attr, super::wire::display_value(value));
    }
    step
}

fn scoping_step(
    kind: ObjectKind,
    name: &str,
    assigned: bool,
    evaluation: &scope::ScopeEvaluation,
    in_scope: bool,
) -> Step {
    let verdict = if in_scope { "in scope" } else { "out of scope" };
    let mut step = Step::new(
        StepName::EntrySynchronizationScoping,
        StepType::Scoping,
        if in_scope {
            Status::Success
        } else {
            Status::Skipped
        },
        format!(
            "Determine if {} '{name}' is in scope: {verdict}",
            kind.as_str()
        ),
    )
    .detail("Assigned to application", assigned)
    .detail("ScopeEvaluationResult", verdict);
    for filter in &evaluation.filters {
        for clause in &filter.clauses {
            step = step.detail(&clause.to_string(), clause.result);
        }
    }
    step
}

/// Evaluates `compiled` for one object whose source attributes are `attrs`.
fn evaluate_spec(
    compiled: &CompiledObject,
    attrs: &BTreeMap<String, Value>,
    active: bool,
    ctx: &mut EvalContext<'_>,
) -> Result<ObjectSpec, String> {
    let mut spec = ObjectSpec {
        active,
        can_create: compiled.actions.create,
        can_update: compiled.actions.update,
        ..ObjectSpec::default()
    };
    let mut matching = Vec::new();
    for attr in &compiled.attributes {
        if let Source::Manager = attr.source {
            spec.manager = Some(attr.target.clone());
            continue;
        }
        let Some(outcome) = evaluate_attribute(attr, attrs, ctx)? else {
            continue;
        };
        if let Some(precedence) = attr.matching {
            matching.push((
                precedence,
                attr.target.clone(),
                matching_text(&outcome.value),
            ));
        }
        add_attribute(&mut spec, attr, outcome);
    }
    matching.sort_by_key(|(precedence, _, _)| *precedence);
    spec.matching = matching
        .into_iter()
        .map(|(_, path, value)| (path, value))
        .collect();
    Ok(spec)
}

/// What `attr` evaluates to for an object with `attrs`; `None` for the references (exported on
/// their own) and for an attribute `IgnoreFlowIfNullOrEmpty` drops.
fn evaluate_attribute(
    attr: &CompiledAttribute,
    attrs: &BTreeMap<String, Value>,
    ctx: &mut EvalContext<'_>,
) -> Result<Option<expr::Outcome>, String> {
    let outcome = match &attr.source {
        Source::Manager | Source::Members => return Ok(None),
        Source::Direct(name) => plain(expr::lookup(attrs, name).cloned().unwrap_or(Value::Null)),
        Source::Constant(value) => plain(Value::Str(value.clone())),
        Source::None => plain(Value::Null),
        Source::Expression(parsed) => parsed
            .evaluate(attrs, ctx)
            .map_err(|e| format!("{}: {}", attr.target, e))?,
    };
    Ok((!outcome.ignore_flow).then_some(outcome))
}

/// The outcome of a mapping that is not an expression: the value, nothing else.
fn plain(value: Value) -> expr::Outcome {
    expr::Outcome {
        value,
        redacted: false,
        ignore_flow: false,
        role_function: None,
        unique: None,
    }
}

/// A matching attribute's value to look the object up by; empty or not text is none.
fn matching_text(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Adds one evaluated attribute to what is sent on create and on update.
fn add_attribute(spec: &mut ObjectSpec, attr: &CompiledAttribute, outcome: expr::Outcome) {
    let expr::Outcome {
        value,
        redacted,
        role_function,
        unique,
        ..
    } = outcome;
    if let Some(expr::RoleFunction::Assertive) = role_function {
        spec.roles = RoleFunction::AssertiveAppRoleAssignmentsComplex;
    }
    if redacted {
        spec.redacted.push(attr.target.clone());
    }
    if attr.case_exact {
        spec.case_exact.push(attr.target.clone());
    }
    let created = match (&value, &attr.default) {
        (Value::Null, Some(default)) => Value::Str(default.clone()),
        _ => value.clone(),
    };
    // SelectUniqueValue is for creation only (Microsoft's function reference: "only meant to
    // be used for entry creations"): its value is picked once, against the target, and a
    // connected object's update never evaluates it again, whatever `apply` says.
    let create_only = attr.on_create_only || unique.is_some();
    if created != Value::Null {
        if let Some(candidates) = unique {
            spec.unique.push(UniqueValue {
                index: spec.create.len(),
                candidates,
            });
        }
        spec.create.push((attr.target.clone(), created, redacted));
    }
    if !create_only && value != Value::Null && !matches!(attr.source, Source::None) {
        spec.update.push((attr.target.clone(), value, redacted));
    }
}

/// Streams bytes into an FNV-1a hash (stable across Rust releases, unlike `DefaultHasher`).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0100_0000_01b3);
        self
    }

    fn value(&mut self, value: &Value) -> &mut Self {
        match value {
            Value::Null => self.bytes(b"\0null"),
            Value::Str(s) => self.bytes(b"s").bytes(s.as_bytes()),
            Value::Multi(items) => {
                self.bytes(b"m");
                for item in items {
                    self.bytes(item.as_bytes());
                }
                self
            }
            Value::Roles(roles) => {
                self.bytes(b"r");
                for r in roles {
                    self.bytes(r.id.as_bytes())
                        .bytes(r.value.as_bytes())
                        .bytes(r.display_name.as_bytes());
                }
                self
            }
        }
    }

    fn attrs(&mut self, attrs: &BTreeMap<String, Value>) -> &mut Self {
        for (name, value) in attrs {
            self.bytes(name.as_bytes()).value(value);
        }
        self
    }

    fn finish(&self) -> String {
        format!("{:016x}", self.0)
    }
}

fn out_of_scope_reason(assigned: bool, filters_pass: bool) -> Option<SkipReason> {
    if !assigned {
        Some(SkipReason::NotEffectivelyEntitled)
    } else if !filters_pass {
        Some(SkipReason::ScopingFilterNotMatched)
    } else {
        None
    }
}

/// A user as a cycle first sees it: identity, scope and fingerprint, cheap enough for a million
/// users. [`details`] adds the log steps and the mapped state for the objects that need work.
pub fn user_glance(user: &User, compiled: &CompiledObject, sources: &Sources<'_>) -> SourceObject {
    let assignment = sources.assignments.user(&user.object_id, sources.scope);
    let filters_pass = scope::in_scope(&compiled.scoping, &user.attrs);
    let in_scope = assignment.assigned && filters_pass;
    let soft_deleted = scope::is_soft_deleted(user, in_scope);
    let manager = compiled
        .links_manager
        .then(|| user.manager.clone())
        .flatten();
    let mut hash = Fnv::new();
    hash.bytes(b"user")
        .bytes(if in_scope { b"in" } else { b"out" })
        .bytes(if soft_deleted { b"soft" } else { b"live" })
        .bytes(manager.as_deref().unwrap_or_default().as_bytes())
        .value(&Value::Roles(assignment.roles))
        .attrs(&user.attrs);
    SourceObject {
        key: ObjectKey::user(&user.object_id),
        name: user.upn.clone(),
        fingerprint: hash.finish(),
        in_scope,
        out_of_scope_reason: out_of_scope_reason(assignment.assigned, filters_pass),
        spec: ObjectSpec::default(),
        manager,
        members: Vec::new(),
        steps: Vec::new(),
        error: None,
    }
}

/// A group as a cycle first sees it (see [`user_glance`]).
pub fn group_glance(
    group: &Group,
    compiled: &CompiledObject,
    sources: &Sources<'_>,
) -> SourceObject {
    let assignment = sources.assignments.group(&group.object_id, sources.scope);
    let filters_pass = scope::in_scope(&compiled.scoping, &group.attrs);
    let in_scope = assignment.assigned && filters_pass;
    let members: Vec<ObjectKey> = if compiled.links_members {
        group
            .members
            .iter()
            .map(|m| match m.kind {
                MemberKind::User => ObjectKey::user(&m.object_id),
                MemberKind::Group => ObjectKey::group(&m.object_id),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut hash = Fnv::new();
    hash.bytes(b"group")
        .bytes(if in_scope { b"in" } else { b"out" });
    for m in &members {
        hash.bytes(m.object_id.as_bytes());
    }
    hash.attrs(&group.attrs);
    SourceObject {
        key: ObjectKey::group(&group.object_id),
        name: group.display_name.clone(),
        fingerprint: hash.finish(),
        in_scope,
        out_of_scope_reason: out_of_scope_reason(assignment.assigned, filters_pass),
        spec: ObjectSpec::default(),
        manager: None,
        members,
        steps: Vec::new(),
        error: None,
    }
}

/// What [`details`] adds to a glanced object: its log steps and mapped state.
#[derive(Debug, Default)]
pub struct Details {
    /// The import and scoping steps.
    pub steps: Vec<Step>,
    /// What the mappings want in the target (objects in scope).
    pub spec: ObjectSpec,
    /// Why the mappings could not be evaluated.
    pub error: Option<String>,
}

/// The import and scoping steps and, for an object in scope, the mapped state — computed when an
/// object's flow starts, so a cycle holds them only for the objects in flight.
pub fn details(
    object: &SourceObject,
    compiled: &CompiledMapping,
    sources: &Sources<'_>,
    ctx: &mut EvalContext<'_>,
) -> Details {
    let mut out = Details::default();
    let mut evaluated =
        |mapping: &CompiledObject, attrs: &BTreeMap<String, Value>, active| match evaluate_spec(
            mapping, attrs, active, ctx,
        ) {
            Ok(spec) => (spec, None),
            Err(e) => (ObjectSpec::default(), Some(e)),
        };
    match object.key.kind {
        ObjectKind::User => {
            let Some(user) = sources.directory.user(&object.key.object_id) else {
                return out;
            };
            let assignment = sources.assignments.user(&user.object_id, sources.scope);
            let evaluation = scope::evaluate(&compiled.users.scoping, &user.attrs);
            let soft_deleted = scope::is_soft_deleted(user, object.in_scope);
            let attrs = scope::user_source_attributes(user, &assignment.roles, soft_deleted);
            out.steps = vec![
                import_step(ObjectKind::User, &user.upn, &attrs),
                scoping_step(
                    ObjectKind::User,
                    &user.upn,
                    assignment.assigned,
                    &evaluation,
                    object.in_scope,
                ),
            ];
            if object.in_scope {
                (out.spec, out.error) = evaluated(&compiled.users, &attrs, !soft_deleted);
            }
        }
        ObjectKind::Group => {
            let (Some(group), Some(mapping)) = (
                sources.directory.group(&object.key.object_id),
                &compiled.groups,
            ) else {
                return out;
            };
            let assignment = sources.assignments.group(&group.object_id, sources.scope);
            let evaluation = scope::evaluate(&mapping.scoping, &group.attrs);
            out.steps = vec![
                import_step(ObjectKind::Group, &group.display_name, &group.attrs),
                scoping_step(
                    ObjectKind::Group,
                    &group.display_name,
                    assignment.assigned,
                    &evaluation,
                    object.in_scope,
                ),
            ];
            if object.in_scope {
                (out.spec, out.error) = evaluated(mapping, &group.attrs, true);
            }
        }
    }
    out
}

/// Adds the [`details`] to an object.
fn detail(
    object: &mut SourceObject,
    compiled: &CompiledMapping,
    sources: &Sources<'_>,
    ctx: &mut EvalContext<'_>,
) {
    let d = details(object, compiled, sources, ctx);
    object.steps = d.steps;
    object.spec = d.spec;
    object.error = d.error;
}

/// A user with every detail (for on-demand provisioning and drift).
pub fn user_object(
    user: &User,
    compiled: &CompiledMapping,
    sources: &Sources<'_>,
    ctx: &mut EvalContext<'_>,
) -> SourceObject {
    let mut object = user_glance(user, &compiled.users, sources);
    detail(&mut object, compiled, sources, ctx);
    object
}

/// A group with every detail; `None` when groups are not provisioned.
pub fn group_object(
    group: &Group,
    compiled: &CompiledMapping,
    sources: &Sources<'_>,
    ctx: &mut EvalContext<'_>,
) -> Option<SourceObject> {
    let mut object = group_glance(group, compiled.groups.as_ref()?, sources);
    detail(&mut object, compiled, sources, ctx);
    Some(object)
}

/// Every user, then every group (when the groups mapping is enabled), as a cycle first sees them.
pub fn source_objects(compiled: &CompiledMapping, sources: &Sources<'_>) -> Vec<SourceObject> {
    let mut out: Vec<SourceObject> = sources
        .directory
        .users()
        .iter()
        .map(|u| user_glance(u, &compiled.users, sources))
        .collect();
    if let Some(groups) = &compiled.groups {
        out.extend(
            sources
                .directory
                .groups()
                .iter()
                .map(|g| group_glance(g, groups, sources)),
        );
    }
    out
}

/// [`source_objects`] with every detail (drift reads every object anyway).
pub fn detailed_objects(
    compiled: &CompiledMapping,
    sources: &Sources<'_>,
    ctx: &mut EvalContext<'_>,
) -> Vec<SourceObject> {
    let mut objects = source_objects(compiled, sources);
    for object in &mut objects {
        detail(object, compiled, sources, ctx);
    }
    objects
}
