//! The generator: determinism, the tenant's invariants (checked by loading it with the real
//! loader), its realism knobs, both formats, and the round trip through the writer.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::directory::Directory;

fn text(spec: &TenantSpec, format: DirectoryFormat) -> (String, GeneratedTenant) {
    let mut out = Vec::new();
    let tenant = generate(spec, format, &mut out).expect("vec");
    (String::from_utf8(out).expect("utf-8"), tenant)
}

fn load(name: &str, text: &str) -> Directory {
    Directory::parse(name, text).unwrap_or_else(|p| panic!("{p}"))
}

const SPEC: TenantSpec = TenantSpec {
    users: 5_000,
    groups: 60,
    seed: 42,
};

#[test]
fn same_seed_same_bytes_other_seed_other_tenant() {
    for format in [DirectoryFormat::Yaml, DirectoryFormat::JsonLines] {
        let (a, _) = text(&SPEC, format);
        let (b, _) = text(&SPEC, format);
        assert!(a == b, "{format:?} is not deterministic");
        let (c, _) = text(&TenantSpec { seed: 43, ..SPEC }, format);
        assert!(a != c);
    }
}

#[test]
fn the_tenant_loads_and_keeps_its_invariants() {
    let (yaml, tenant) = text(&SPEC, DirectoryFormat::Yaml);
    let dir = load("t.yaml", &yaml);
    let users = dir.users();
    assert_eq!(users.len(), SPEC.users);
    assert_eq!(dir.groups().len(), SPEC.groups);

    let ids: HashSet<&str> = users
        .iter()
        .map(|u| u.object_id.as_str())
        .chain(dir.groups().iter().map(|g| g.object_id.as_str()))
        .collect();
    assert_eq!(ids.len(), SPEC.users + SPEC.groups, "objectIds are unique");
    let upns: HashSet<String> = users.iter().map(|u| u.upn.to_lowercase()).collect();
    assert_eq!(upns.len(), SPEC.users, "UPNs are unique");
    let names: HashSet<&str> = dir
        .groups()
        .iter()
        .map(|g| g.display_name.as_str())
        .collect();
    assert_eq!(names.len(), SPEC.groups, "group names are unique");

    // The managers form a forest of a few trees with bounded fan-out.
    let mut reports: HashMap<&str, usize> = HashMap::new();
    let mut roots = 0;
    for user in users {
        match user.manager.as_deref() {
            Some(m) => *reports.entry(m).or_default() += 1,
            None => roots += 1,
        }
        let mut current = user;
        let mut steps = 0;
        while let Some(m) = current.manager.as_deref().and_then(|m| dir.user(m)) {
            current = m;
            steps += 1;
            assert!(steps < 64, "manager cycle at {}", user.upn);
        }
        assert!(current.manager.is_none(), "dangling manager");
    }
    assert!((1..=5).contains(&roots), "{roots} top managers");
    assert!(reports.values().all(|&r| r <= MAX_REPORTS));
    assert!(
        reports
            .keys()
            .all(|m| dir.user(m).is_some_and(|u| !u.upn.contains("#EXT#"))),
        "guests manage no one"
    );

    let share = |count: usize| count as f64 / SPEC.users as f64;
    let disabled = share(users.iter().filter(|u| !u.account_enabled).count());
    let soft = share(users.iter().filter(|u| u.soft_deleted).count());
    let guests: Vec<&User> = users.iter().filter(|u| u.upn.contains("#EXT#")).collect();
    assert!((0.01..0.03).contains(&disabled), "{disabled}");
    assert!((0.004..0.02).contains(&soft), "{soft}");
    assert!((0.004..0.02).contains(&share(guests.len())));
    for guest in &guests {
        let (local, domain) = guest.upn.split_once("#EXT#@").expect("guest UPN");
        assert_eq!(domain, GUEST_UPN_DOMAIN);
        assert!(local.contains('_'));
        assert_eq!(
            guest.attrs.get("userType"),
            Some(&Value::Str("Guest".to_owned()))
        );
    }
    let with_proxies = users
        .iter()
        .filter(|u| u.attrs.contains_key("proxyAddresses"))
        .count();
    assert!(share(with_proxies) > 0.1 && share(with_proxies) < 0.5);
    for user in users.iter().filter(|u| !u.upn.contains("#EXT#")) {
        let (alias, domain) = user.upn.split_once('@').expect("UPN");
        assert_eq!(domain, TENANT_DOMAIN);
        assert!(
            alias
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.'),
            "{alias}"
        );
        assert_eq!(
            user.attrs.get("mailNickname"),
            Some(&Value::Str(alias.to_owned()))
        );
        assert_eq!(user.attrs.get("mail"), Some(&Value::Str(user.upn.clone())));
        assert!(user.attrs.contains_key("department"));
        assert!(user.attrs.contains_key("jobTitle"));
        assert!(user.attrs.contains_key("employeeId"));
    }
    let given = |name: &str| {
        users
            .iter()
            .any(|u| u.attrs.get("givenName") == Some(&Value::Str(name.to_owned())))
    };
    assert!(given("Zoë") && given("Łukasz") && given("Siobhán"));

    // Groups: one nested group, sizes from a handful to a large share.
    let nested: Vec<&Group> = dir
        .groups()
        .iter()
        .filter(|g| g.members.iter().any(|m| m.kind == MemberKind::Group))
        .collect();
    assert_eq!(nested.len(), 1);
    let sizes: Vec<usize> = dir.groups().iter().map(|g| g.members.len()).collect();
    assert!(sizes.iter().any(|&s| s <= 5), "{sizes:?}");
    assert!(sizes.iter().any(|&s| s >= SPEC.users / 5), "{sizes:?}");
    assert_eq!(
        tenant.largest_group,
        sizes.iter().copied().max().unwrap_or(0)
    );

    // The assignments cover most users and resolve.
    assert!(
        tenant.assigned_users > SPEC.users * 3 / 4,
        "{}",
        tenant.assigned_users
    );
    for (id, name) in &tenant.group_assignments {
        assert_eq!(
            dir.group(id).map(|g| g.display_name.as_str()),
            Some(name.as_str())
        );
    }
    for upn in &tenant.user_assignments {
        assert!(dir.user_by_upn(upn).is_some(), "{upn}");
    }
}

#[test]
fn yaml_and_json_lines_load_to_the_same_directory() {
    let (yaml, _) = text(&SPEC, DirectoryFormat::Yaml);
    let (jsonl, _) = text(&SPEC, DirectoryFormat::JsonLines);
    let a = load("t.yaml", &yaml);
    let b = load("t.jsonl", &jsonl);
    assert!(a.users() == b.users());
    assert!(a.groups() == b.groups());
}

#[test]
fn writing_a_loaded_tenant_gives_the_same_bytes() {
    for (format, name) in [
        (DirectoryFormat::Yaml, "t.yaml"),
        (DirectoryFormat::JsonLines, "t.jsonl"),
    ] {
        let (original, _) = text(&SPEC, format);
        let dir = load(name, &original);
        let mut writer = DirectoryWriter::new(Vec::new(), format, &[]).expect("vec");
        for user in dir.users() {
            writer.user(user).expect("vec");
        }
        for group in dir.groups() {
            writer.group(group).expect("vec");
        }
        let again = String::from_utf8(writer.finish().expect("vec")).expect("utf-8");
        let body: String = original
            .split_inclusive('\n')
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert!(body == again, "{name} does not round-trip");
    }
}

#[test]
fn small_and_empty_tenants() {
    for (users, groups) in [(0, 0), (1, 0), (1, 1), (3, 2), (20, 12)] {
        let spec = TenantSpec {
            users,
            groups,
            seed: 1,
        };
        let (yaml, _) = text(&spec, DirectoryFormat::Yaml);
        let dir = load("t.yaml", &yaml);
        assert_eq!((dir.users().len(), dir.groups().len()), (users, groups));
    }
}

#[test]
fn a_million_users_in_a_thousand_groups_have_a_group_of_fifty_thousand() {
    let spec = TenantSpec {
        users: 1_000_000,
        groups: 1_000,
        seed: 5,
    };
    let mut rng = StdRng::seed_from_u64(1);
    let s = structure(spec.users, &mut rng);
    let largest_office = (0..names::OFFICES.len())
        .map(|g| s.office.iter().filter(|&&o| usize::from(o) == g).count())
        .max()
        .unwrap_or(0);
    assert!(largest_office >= 50_000, "{largest_office}");
    let sizes = rank_sizes(&spec, names::OFFICES.len(), &mut rng);
    assert!(sizes.iter().any(|&s| s <= 5));
    assert!(sizes.iter().any(|&s| s >= 20_000));
}

#[test]
fn names_fold_to_ascii_aliases() {
    for name in names::FIRST_NAMES.iter().chain(LAST_NAMES) {
        let folded = fold(name);
        assert!(
            !folded.is_empty() && folded.chars().all(|c| c.is_ascii_lowercase()),
            "{name} → {folded}"
        );
    }
    assert_eq!(fold("Ødegård"), "odegard");
    assert_eq!(fold("José Núñez"), "josenunez");
    assert_eq!(fold("Łukasz"), "lukasz");
    assert_eq!(fold("Ó Súilleabháin"), "osuilleabhain");
    assert_eq!(fold("Weiß"), "weiss");
    assert_eq!(fold("Þóra"), "thora");
}

#[test]
fn object_ids_are_uuid_shaped_and_distinct() {
    let id = object_id(1, USER_KIND, 0);
    assert_eq!(id.len(), 36);
    assert_eq!(id.get(14..15), Some("4"));
    let ids: HashSet<String> = (0..10_000)
        .flat_map(|i| [object_id(1, USER_KIND, i), object_id(1, GROUP_KIND, i)])
        .collect();
    assert_eq!(ids.len(), 20_000);
}

#[test]
fn the_job_file_names_its_inputs_and_assignments() {
    let (_, tenant) = text(&SPEC, DirectoryFormat::Yaml);
    let job = job_yaml(
        &tenant,
        "t.yaml",
        "../mappings/scim-default.yaml",
        JobScope::Assigned,
    );
    assert!(job.contains("directory: \"t.yaml\"\n"));
    assert!(job.contains("mapping: \"../mappings/scim-default.yaml\"\n"));
    assert!(job.contains("  url: http://127.0.0.1:8080/scim/v2\n  token_env: ENTRA_SIM_TOKEN\n"));
    assert!(job.contains("scope: assigned\nassignments:\n"));
    assert_eq!(
        job.matches("  - principal: ").count(),
        tenant.group_assignments.len() + tenant.user_assignments.len()
    );
    let all = job_yaml(&tenant, "t.yaml", "m.yaml", JobScope::All);
    assert!(all.ends_with("scope: all\n") && !all.contains("assignments"));
}
