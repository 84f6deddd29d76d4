//! The JSON Schemas in `schemas/` against the loaders: each is a valid draft 2020-12 schema, every
//! shipped job, directory and mapping file validates against its schema, the keys and names each
//! schema lists are exactly the ones the loaders accept, and on a table of snippets schema and
//! loader agree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use entra_sim::directory::Directory;
use entra_sim::directory::attributes::{
    COMPUTED_USER_ATTRIBUTES, GROUP_SOURCE_ATTRIBUTES, USER_SOURCE_ATTRIBUTES,
};
use entra_sim::mapping::Mapping;
use entra_sim::scope::ScopingOperator;
use serde_json::Value;

use crate::fixture::Fixture;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema(name: &str) -> Value {
    let path = root().join("schemas").join(format!("{name}.schema.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema(name)).unwrap()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

/// The schema's errors for `text`, one line each.
fn schema_errors(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let instance = yaml(text);
    validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn schemas_are_draft_2020_12() {
    for name in ["job", "directory", "mapping"] {
        let schema = schema(name);
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn every_shipped_file_validates_against_its_schema() {
    let mut checked = 0;
    for (dir, name) in [
        ("jobs", "job"),
        ("directory-samples", "directory"),
        ("mappings", "mapping"),
    ] {
        let validator = validator(name);
        for path in yaml_files(dir) {
            let text = std::fs::read_to_string(&path).unwrap();
            let errors = schema_errors(&validator, &text);
            assert!(
                errors.is_empty(),
                "{}:\n{}",
                path.display(),
                errors.join("\n")
            );
            assert_eq!(
                text.lines().next(),
                Some(
                    format!("# yaml-language-server: $schema=../schemas/{name}.schema.json")
                        .as_str()
                ),
                "{} names its schema on its first line",
                path.display()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 11);
}

/// The keys serde accepts where `text` has the unknown key `zz`, from its "expected one of" list.
fn keys_serde_accepts(message: &str) -> BTreeSet<String> {
    let list = message
        .split_once("expected one of ")
        .or_else(|| message.split_once("expected "))
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no key list in {message}"));
    list.split(", ")
        .flat_map(|k| k.split(" or "))
        .map(|k| k.trim_matches('`').to_owned())
        .collect()
}

/// The property names the schema lists at a JSON pointer.
fn schema_keys(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(pointer)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no properties at {pointer}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn mapping_schema_keys_are_the_loaders_keys() {
    let schema = schema("mapping");
    let head =
        "users:\n  attributes:\n    - {target: userName, source: userPrincipalName, matching: 1}\n";
    let cases = [
        ("users: {attributes: []}\nzz: 1\n", "/properties"),
        (
            "users: {attributes: [], zz: 1}\n",
            "/$defs/user_mapping/properties",
        ),
        (
            "users: {attributes: [], zz: 1}\n",
            "/$defs/group_mapping/properties",
        ),
        (
            "users: {attributes: [], scoping: [{clauses: [], zz: 1}]}\n",
            "/$defs/user_mapping/properties/scoping/items/properties",
        ),
        (
            "users: {attributes: [], scoping: [{clauses: [{attribute: a, operator: b, zz: 1}]}]}\n",
            "/$defs/user_clause/properties",
        ),
        (
            "users: {attributes: [], scoping: [{clauses: [{attribute: a, operator: b, zz: 1}]}]}\n",
            "/$defs/group_clause/properties",
        ),
        (
            "users: {attributes: [{target: a, zz: 1}]}\n",
            "/$defs/attribute/properties",
        ),
    ];
    for (text, pointer) in cases {
        let problems = Mapping::parse("m.yaml", text).unwrap_err();
        let accepted = keys_serde_accepts(&problems.0[0].message);
        assert_eq!(accepted, schema_keys(&schema, pointer), "{pointer}");
    }
    assert!(Mapping::parse("m.yaml", head).is_ok());
}

#[test]
fn job_schema_keys_are_the_loaders_keys() {
    let schema = schema("job");
    let fixture = Fixture::new();
    let target = "target: {url: http://h, token_env: T}\n";
    let cases = [
        (
            format!("directory: d\nmapping: m\n{target}zz: 1\n"),
            "/properties",
        ),
        (
            "directory: d\nmapping: m\ntarget: {url: http://h, zz: 1}\n".to_owned(),
            "/properties/target/properties",
        ),
        (
            "directory: d\nmapping: m\ntarget: {url: http://h, oauth: {token_url: http://h, client_id: c, zz: 1}}\n".to_owned(),
            "/properties/target/properties/oauth/properties",
        ),
        (
            format!(
                "directory: d\nmapping: m\n{target}app_roles: [{{id: a, value: b, display_name: c, zz: 1}}]\n"
            ),
            "/properties/app_roles/items/properties",
        ),
        (
            format!("directory: d\nmapping: m\n{target}assignments: [{{principal: a, zz: 1}}]\n"),
            "/properties/assignments/items/properties",
        ),
        (
            format!("directory: d\nmapping: m\n{target}settings: {{zz: 1}}\n"),
            "/properties/settings/properties",
        ),
        (
            format!("directory: d\nmapping: m\n{target}service_principal: {{zz: 1}}\n"),
            "/properties/service_principal/properties",
        ),
        (
            "directory: d\nmapping: m\ntarget: {url: http://h, entra_jwt: {tenant_id: t, zz: 1}}\n"
                .to_owned(),
            "/properties/target/properties/entra_jwt/properties",
        ),
    ];
    for (text, pointer) in cases {
        let path = fixture.write("job.yaml", &text);
        let check = entra_sim::config::check_job(&path).unwrap();
        let accepted = keys_serde_accepts(&check.problems.0[0].message);
        assert_eq!(accepted, schema_keys(&schema, pointer), "{pointer}");
    }
}

#[test]
fn directory_schema_keys_are_the_loaders_keys() {
    let schema = schema("directory");
    let problems = Directory::parse("d.yaml", "zz: 1\n").unwrap_err();
    assert_eq!(
        keys_serde_accepts(&problems.0[0].message),
        schema_keys(&schema, "/properties")
    );
    let mut user_keys: BTreeSet<String> = USER_SOURCE_ATTRIBUTES
        .iter()
        .map(|a| a.name.to_owned())
        .filter(|n| !COMPUTED_USER_ATTRIBUTES.contains(&n.as_str()))
        .collect();
    user_keys.insert("softDeleted".to_owned());
    assert_eq!(user_keys, schema_keys(&schema, "/$defs/user/properties"));
    // Every listed key loads (objectId and userPrincipalName are in every entry).
    for key in &user_keys {
        if key == "objectId" || key == "userPrincipalName" {
            continue;
        }
        let value = match key.as_str() {
            "accountEnabled" | "softDeleted" => "true",
            "proxyAddresses" => "[a]",
            "manager" => "u1",
            _ => "x",
        };
        let text = format!(
            "users:\n  - {{objectId: u1, userPrincipalName: a@b}}\n  - {{objectId: u2, userPrincipalName: c@d, {key}: {value}}}\n"
        );
        assert!(Directory::parse("d.yaml", &text).is_ok(), "{key}: {text}");
    }
    let group_keys: BTreeSet<String> = [
        "objectId",
        "displayName",
        "mailNickname",
        "description",
        "securityEnabled",
        "members",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(group_keys, schema_keys(&schema, "/$defs/group/properties"));
    let unknown = Directory::parse(
        "d.yaml",
        "groups:\n  - {objectId: g, displayName: G, owners: [x]}\n",
    )
    .unwrap_err();
    assert!(unknown.0[0].message.starts_with("unknown field \"owners\""));
}

fn enum_names(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no enum at {pointer}"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn mapping_schema_names_are_the_attribute_and_operator_tables() {
    let schema = schema("mapping");
    let names = |table: &[entra_sim::directory::attributes::SourceAttribute], scopable: bool| {
        table
            .iter()
            .filter(|a| a.scopable || !scopable)
            .map(|a| a.name.to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        enum_names(&schema, "/$defs/user_source/anyOf/0/enum"),
        names(USER_SOURCE_ATTRIBUTES, false)
    );
    assert_eq!(
        enum_names(&schema, "/$defs/group_source/anyOf/0/enum"),
        names(GROUP_SOURCE_ATTRIBUTES, false)
    );
    assert_eq!(
        enum_names(
            &schema,
            "/$defs/user_clause/properties/attribute/anyOf/0/enum"
        ),
        names(USER_SOURCE_ATTRIBUTES, true)
    );
    assert_eq!(
        enum_names(
            &schema,
            "/$defs/group_clause/properties/attribute/anyOf/0/enum"
        ),
        names(GROUP_SOURCE_ATTRIBUTES, true)
    );
    let operators: BTreeSet<String> = ScopingOperator::ALL
        .iter()
        .map(|o| o.name().to_owned())
        .collect();
    assert_eq!(
        enum_names(&schema, "/$defs/user_clause/properties/operator/enum"),
        operators
    );
    let unary: BTreeSet<String> = ScopingOperator::ALL
        .iter()
        .filter(|o| !o.takes_value())
        .map(|o| o.name().to_owned())
        .collect();
    assert_eq!(
        enum_names(&schema, "/$defs/user_clause/if/properties/operator/enum"),
        unary
    );
}

/// Snippets on which the mapping schema and loader must agree. (Target paths, expressions,
/// duplicate precedences and regexes are beyond a schema; those are `validate`'s.)
#[test]
fn mapping_schema_and_loader_agree() {
    let validator = validator("mapping");
    let attrs = |extra: &str| {
        format!(
            "users:\n  attributes:\n    - {{target: userName, source: userPrincipalName, matching: 1}}\n{extra}"
        )
    };
    let cases = [
        attrs(""),
        attrs("    - {target: title, source: jobTitle}\n"),
        attrs("    - {target: title, source: jobtitle}\n"),
        attrs("    - {target: title, source: members}\n"),
        attrs("    - {target: title, source: extension_0123456789abcdef0123456789abcdef_cost}\n"),
        attrs("    - {target: title, constant: 7}\n"),
        attrs("    - {target: title, constant: [a]}\n"),
        attrs("    - {target: title, constant: true, source: ~}\n"),
        attrs("    - {target: title, source: mail, constant: x}\n"),
        attrs("    - {target: title}\n"),
        attrs("    - {target: title, none: true}\n"),
        attrs("    - {target: title, none: true, default: x}\n"),
        attrs("    - {target: title, none: false, default: x}\n"),
        attrs("    - {target: title, source: mail, matching: 0}\n"),
        attrs(
            "    - {target: title, source: mail, matching: 2, apply: on_create, case_exact: true}\n",
        ),
        attrs("    - {target: title, source: mail, apply: sometimes}\n"),
        attrs("    - {target: '', source: mail}\n"),
        attrs("    - {target: title, expression: '[mail]', default: ~}\n"),
        format!("{}  enabled: false\n", attrs("")),
        format!("{}  actions: [create, disable]\n", attrs("")),
        format!("{}  actions: [create]\n", attrs("")),
        format!("{}  scoping: []\n", attrs("")),
        format!("{}  scoping: [{{clauses: []}}]\n", attrs("")),
        format!(
            "{}  scoping: [{{name: x, clauses: [{{attribute: department, operator: EQUALS, value: 1}}]}}]\n",
            attrs("")
        ),
        format!(
            "{}  scoping: [{{clauses: [{{attribute: department, operator: EQUALS}}]}}]\n",
            attrs("")
        ),
        format!(
            "{}  scoping: [{{clauses: [{{attribute: department, operator: IS NULL}}]}}]\n",
            attrs("")
        ),
        format!(
            "{}  scoping: [{{clauses: [{{attribute: department, operator: IS NULL, value: x}}]}}]\n",
            attrs("")
        ),
        format!(
            "{}  scoping: [{{clauses: [{{attribute: department, operator: STARTS_WITH, value: x}}]}}]\n",
            attrs("")
        ),
        format!(
            "{}  scoping: [{{clauses: [{{attribute: proxyAddresses, operator: IS NULL}}]}}]\n",
            attrs("")
        ),
        format!("{}groups: ~\n", attrs("")),
        format!(
            "{}groups:\n  enabled: false\n  attributes:\n    - {{target: displayName, source: displayName, matching: 1}}\n",
            attrs("")
        ),
        format!(
            "{}groups:\n  attributes:\n    - {{target: displayName, source: mail, matching: 1}}\n",
            attrs("")
        ),
        "users:\n  attributes: []\n  zz: 1\n".to_owned(),
        "groups:\n  attributes: []\n".to_owned(),
    ];
    for text in cases {
        let loader = Mapping::check("m.yaml", &text).problems;
        let schema = schema_errors(&validator, &text);
        let loader_ok = loader.0.iter().all(|p| p.message.contains("`matching`"));
        assert_eq!(
            loader_ok,
            schema.is_empty(),
            "{text}\nloader: {loader}\nschema: {schema:?}"
        );
    }
}

#[test]
fn directory_schema_and_loader_agree() {
    let validator = validator("directory");
    let user =
        |extra: &str| format!("users:\n  - {{objectId: u1, userPrincipalName: a@b{extra}}}\n");
    let cases = [
        user(""),
        user(", employeeId: 1001"),
        user(", employeeId: ~"),
        user(", employeeId: [1]"),
        user(", mial: x"),
        user(", IsSoftDeleted: true"),
        user(", accountEnabled: yes"),
        user(", accountEnabled: false, softDeleted: true"),
        user(", accountEnabled: ~"),
        user(", proxyAddresses: [a, 2]"),
        user(", proxyAddresses: a"),
        user(", extension_0123456789abcdef0123456789abcdef_cost: x"),
        user(", extension_0123_cost: x"),
        "users:\n  - {objectId: u1}\n".to_owned(),
        "users:\n  - {objectId: u1, userPrincipalName: ab}\n".to_owned(),
        "users:\n  - {objectId: '', userPrincipalName: a@b}\n".to_owned(),
        "users:\n  - {objectId: 7, userPrincipalName: a@b}\n".to_owned(),
        "groups:\n  - {objectId: g, displayName: G, securityEnabled: false, members: []}\n"
            .to_owned(),
        "groups:\n  - {objectId: g, displayName: G, mail: x}\n".to_owned(),
        "groups:\n  - {objectId: g}\n".to_owned(),
        "users: []\ngroups: []\n".to_owned(),
        "{}\n".to_owned(),
        "people: []\n".to_owned(),
    ];
    for text in cases {
        let loader = Directory::check("d.yaml", &text).problems;
        let schema = schema_errors(&validator, &text);
        assert_eq!(
            loader.0.is_empty(),
            schema.is_empty(),
            "{text}\nloader: {loader}\nschema: {schema:?}"
        );
    }
}

#[test]
fn job_schema_and_loader_agree() {
    let validator = validator("job");
    let fixture = Fixture::new();
    let head = format!(
        "directory: {}\nmapping: {}\n",
        root().join("directory-samples/contoso.yaml").display(),
        root().join("mappings/unifi.yaml").display()
    );
    let target = "target:\n  url: http://127.0.0.1:8080/scim/v2\n  token_env: T\n";
    let oauth = "target:\n  url: http://h\n  oauth:\n    token_url: https://idp.example/oauth2/token\n    client_id: entra\n    client_secret_env: S\n";
    let cases = [
        format!("{head}{target}"),
        format!("{head}target:\n  url: http://h\n"),
        format!("{head}target:\n  url: http://h\n  token_env: T\n  token_file: f\n"),
        format!("{head}target:\n  url: http://h\n  token_env: ~\n  token_file: f\n"),
        format!("{head}target:\n  url: ftp://h\n  token_env: T\n"),
        format!("{head}target:\n  url: HTTPS://h/scim?aadOptscim062020\n  token_env: T\n"),
        format!("{head}target:\n  url: https://h/#x\n  token_env: T\n"),
        format!("{head}{oauth}"),
        format!("{head}{oauth}    scope: scim\n    auth_method: client_secret_basic\n"),
        format!("{head}{oauth}    auth_method: private_key_jwt\n"),
        format!("{head}{oauth}    scope: ' '\n"),
        format!("{head}{oauth}    client_secret_file: f\n"),
        format!("{head}{oauth}  token_env: T\n"),
        format!("{head}target:\n  url: http://h\n  token_env: T\n  oauth: ~\n"),
        format!(
            "{head}target:\n  url: http://h\n  oauth: {{token_url: http://i/t, client_id: c}}\n"
        ),
        format!(
            "{head}target:\n  url: http://h\n  oauth: {{token_url: ftp://i/t, client_id: c, client_secret_env: S}}\n"
        ),
        format!(
            "{head}target:\n  url: http://h\n  oauth: {{token_url: 'http://i/t#f', client_id: c, client_secret_env: S}}\n"
        ),
        format!(
            "{head}target:\n  url: http://h\n  oauth: {{token_url: http://i/t, client_id: ' ', client_secret_env: S}}\n"
        ),
        format!("{head}{target}scope: all\n"),
        format!("{head}{target}scope: everyone\n"),
        format!("{head}{target}app_roles: [{{id: a, value: b, display_name: ' '}}]\n"),
        format!("{head}{target}app_roles: [{{id: a, value: b}}]\n"),
        format!("{head}{target}assignments: [{{principal: App Users, role: ~}}]\n"),
        format!("{head}{target}settings: {{concurrency: 0}}\n"),
        format!(
            "{head}{target}settings: {{concurrency: ~, member_batch_size: 5, deletion_threshold: 10}}\n"
        ),
        format!("{head}{target}settings: {{request_timeout_secs: -1}}\n"),
        format!("{head}{target}settings: {{primary_email_types: [work, '']}}\n"),
        format!(
            "{head}{target}settings: {{send_empty_roles: false, state_dir: x, skip_out_of_scope_deletions: true}}\n"
        ),
        format!("{head}{target}extra: 1\n"),
        format!("{head}{target}tenant_id: 72F988BF-86f1-41af-91ab-2d7cd011db47\n"),
        format!("{head}{target}tenant_id: contoso\n"),
        format!("{head}{target}tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db4\n"),
        format!(
            "{head}{target}service_principal: {{id: 3e916d82-dd59-4944-824d-93092908fd8d, display_name: Contoso SCIM}}\n"
        ),
        format!("{head}{target}service_principal: {{id: 3e916d82}}\n"),
        format!("{head}{target}service_principal: {{display_name: ' '}}\n"),
        format!(
            "{head}target:\n  url: http://h\n  entra_jwt: {{tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47}}\n"
        ),
        format!(
            "{head}target:\n  url: http://h\n  entra_jwt: {{tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47, app_id: 3e916d82-dd59-4944-824d-93092908fd8d, claims: {{aud: x, exp: 1, tid: ~}}}}\n"
        ),
        format!(
            "{head}target:\n  url: http://h\n  token_env: T\n  entra_jwt: {{tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47}}\n"
        ),
        format!("{head}target:\n  url: http://h\n  entra_jwt: {{tenant_id: contoso}}\n"),
        format!(
            "{head}target:\n  url: http://h\n  entra_jwt: {{app_id: 3e916d82-dd59-4944-824d-93092908fd8d}}\n"
        ),
        format!(
            "{head}target:\n  url: http://h\n  entra_jwt: {{tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47, claims: {{' ': 1}}}}\n"
        ),
        target.to_owned(),
    ];
    for text in cases {
        let path = fixture.write("job.yaml", &text);
        let check = entra_sim::config::check_job(&path).unwrap();
        let file = path.display().to_string();
        let loader: Vec<String> = check
            .problems
            .0
            .iter()
            .filter(|p| p.file == file)
            .map(ToString::to_string)
            .collect();
        let schema = schema_errors(&validator, &text);
        assert_eq!(
            loader.is_empty(),
            schema.is_empty(),
            "{text}\nloader: {loader:?}\nschema: {schema:?}"
        );
    }
    assert!(Path::new(&root().join("schemas")).is_dir());
}
