//! A synthetic, realistic tenant of any size for scale tests, drawn from a seeded `StdRng`: the same
//! seed and sizes give byte-identical output (for one version of `rand`).
//!
//! Shape: a few top managers over a management tree in which each manager has at most
//! [`MAX_REPORTS`] direct reports; departments mostly follow the manager; names with diacritics
//! (UPNs, mail and mailNickname are their ASCII folding, made unique with a counter); ~2% of users
//! disabled, ~1% soft-deleted, ~1% B2B guests; proxyAddresses on some. Groups: one per office
//! (disjoint, heavy-tailed sizes from 40% of the staff down), then groups whose sizes fall off as a
//! power of their rank with some tiny ones, and the last group nests the one before it.
//!
//! Pure and streaming: entries are written one at a time into an `impl Write`; per user only a
//! few bytes of structure (manager, department, office) are kept, so a million users stay small.

mod names;

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom, index};
use rand::{Rng, SeedableRng};

use super::{DirectoryFormat, DirectoryWriter, Group, MemberKind, MemberRef, User};
use crate::expr::Value;

pub(crate) use names::{DEPARTMENTS, LAST_NAMES};

/// The tenant's verified domain: members' UPNs and mail.
pub const TENANT_DOMAIN: &str = "contoso.com";
/// The initial domain guests' `#EXT#` UPNs live in.
pub const GUEST_UPN_DOMAIN: &str = "contoso.onmicrosoft.com";
/// The most direct reports one manager has.
pub const MAX_REPORTS: usize = 10;
/// The most users one tenant can have (indexes are kept as `u32`).
pub const MAX_USERS: usize = 100_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantSpec {
    /// Number of users.
    pub users: usize,
    /// Number of groups.
    pub groups: usize,
    /// The random seed.
    pub seed: u64,
}

/// What a job file needs to know about a generated tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedTenant {
    /// The spec it was generated from.
    pub spec: TenantSpec,
    /// Assigned groups: (objectId, displayName).
    pub group_assignments: Vec<(String, String)>,
    /// Directly assigned users, by userPrincipalName.
    pub user_assignments: Vec<String>,
    /// Users in scope through the assignments (direct members of an assigned group, or assigned
    /// themselves).
    pub assigned_users: usize,
    /// The size of the largest group.
    pub largest_group: usize,
}

const NONE: u32 = u32::MAX;
const EXECUTIVE: u8 = u8::MAX - 1;
const NO_DEPARTMENT: u8 = u8::MAX;
const REMOTE: u8 = u8::MAX;

/// Per-user structure decided before any user is written: who reports to whom, department,
/// office, guest or not.
struct Structure {
    manager: Vec<u32>,
    depth: Vec<u8>,
    department: Vec<u8>,
    office: Vec<u8>,
    guest: Vec<bool>,
    has_reports: Vec<bool>,
}

/// Generates the tenant into `out` as a directory file of `format`.
pub fn generate<W: Write>(
    spec: &TenantSpec,
    format: DirectoryFormat,
    out: W,
) -> io::Result<GeneratedTenant> {
    generate_with(spec, format, out, &mut || {})
}

/// [`generate`], calling `on_object` after each user and group is written (for progress).
pub fn generate_with<W: Write>(
    spec: &TenantSpec,
    format: DirectoryFormat,
    out: W,
    on_object: &mut dyn FnMut(),
) -> io::Result<GeneratedTenant> {
    if spec.users > MAX_USERS {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("at most {MAX_USERS} users"),
        ));
    }
    let mut structure_rng = StdRng::seed_from_u64(spec.seed ^ 0x5354_5255_4354_5552);
    let mut user_rng = StdRng::seed_from_u64(spec.seed ^ 0x5553_4552_5553_4552);
    let mut group_rng = StdRng::seed_from_u64(spec.seed ^ 0x4752_4f55_5053_4752);
    let structure = structure(spec.users, &mut structure_rng);

    let comment = [
        format!(
            "A synthetic tenant: entra-sim directory generate --users {} --groups {} --seed {}",
            spec.users, spec.groups, spec.seed
        ),
        "Keys are Entra/Graph attribute names; references are objectIds.".to_owned(),
    ];
    let mut writer = DirectoryWriter::new(out, format, &comment)?;
    let direct = direct_assignment_picks(spec, &structure, &mut group_rng);
    let user_assignments = write_users(
        spec,
        &structure,
        &direct,
        &mut user_rng,
        &mut writer,
        on_object,
    )?;
    let groups = write_groups(
        spec,
        &structure,
        &direct,
        &mut group_rng,
        &mut writer,
        on_object,
    )?;
    writer.finish()?;
    Ok(GeneratedTenant {
        spec: *spec,
        group_assignments: groups.assignments,
        user_assignments,
        assigned_users: groups.assigned_users,
        largest_group: groups.largest,
    })
}

/// Writes every user; returns the UPNs of the ones assigned directly (`direct`, sorted).
fn write_users<W: Write>(
    spec: &TenantSpec,
    structure: &Structure,
    direct: &[usize],
    rng: &mut StdRng,
    writer: &mut DirectoryWriter<W>,
    on_object: &mut dyn FnMut(),
) -> io::Result<Vec<String>> {
    let mut users = UserMaker::new(spec.seed);
    let mut upns = Vec::new();
    for i in 0..spec.users {
        let user = users.make(i, structure, rng);
        if direct.binary_search(&i).is_ok() {
            upns.push(user.upn.clone());
        }
        writer.user(&user)?;
        on_object();
    }
    Ok(upns)
}

/// What writing the groups tells the job file.
struct GroupsWritten {
    /// Assigned groups: (objectId, displayName).
    assignments: Vec<(String, String)>,
    /// Users assigned directly or through an assigned group.
    assigned_users: usize,
    /// The size of the largest group.
    largest: usize,
}

/// Writes every group: the office groups first, then the ranked ones, the last nesting the one
/// before it. The office groups and the first ranked one are assigned.
fn write_groups<W: Write>(
    spec: &TenantSpec,
    structure: &Structure,
    direct: &[usize],
    rng: &mut StdRng,
    writer: &mut DirectoryWriter<W>,
    on_object: &mut dyn FnMut(),
) -> io::Result<GroupsWritten> {
    let mut covered = vec![false; spec.users];
    for &i in direct {
        if let Some(c) = covered.get_mut(i) {
            *c = true;
        }
    }
    let mut assignments = Vec::new();
    let mut largest = 0;
    let offices = spec.groups.min(names::OFFICES.len());
    let sizes = rank_sizes(spec, offices, rng);
    for g in 0..spec.groups {
        let (mut group, indices) = if g < offices {
            office_group(spec.seed, g, structure)
        } else {
            let size = sizes.get(g - offices).copied().unwrap_or(1);
            ranked_group(spec.seed, g, size, spec.users, rng)
        };
        if spec.groups >= 2 && g == spec.groups - 1 {
            group.members.push(MemberRef {
                object_id: object_id(spec.seed, GROUP_KIND, g as u64 - 1),
                kind: MemberKind::Group,
            });
        }
        largest = largest.max(group.members.len());
        if g <= offices {
            for i in indices {
                if let Some(c) = covered.get_mut(i) {
                    *c = true;
                }
            }
            assignments.push((group.object_id.clone(), group.display_name.clone()));
        }
        writer.group(&group)?;
        on_object();
    }
    Ok(GroupsWritten {
        assignments,
        assigned_users: covered.iter().filter(|&&c| c).count(),
        largest,
    })
}

/// Which users a job assigns directly: a few remote ones when there are groups to assign (the
/// groups cover the office staff), else the first thousand.
fn direct_assignment_picks(spec: &TenantSpec, s: &Structure, rng: &mut StdRng) -> Vec<usize> {
    if spec.groups == 0 {
        return (0..spec.users.min(1000)).collect();
    }
    let remote: Vec<usize> = (0..spec.users)
        .filter(|&i| s.office.get(i) == Some(&REMOTE))
        .collect();
    let wanted = (spec.users / 100).clamp(1, 1000).min(remote.len());
    let mut picks: Vec<usize> = remote.choose_multiple(rng, wanted).copied().collect();
    picks.sort_unstable();
    picks
}

fn structure(n: usize, rng: &mut StdRng) -> Structure {
    let roots = n.min(1 + (n / 2000).min(4));
    let mut s = Structure {
        manager: Vec::with_capacity(n),
        depth: Vec::with_capacity(n),
        department: Vec::with_capacity(n),
        office: Vec::with_capacity(n),
        guest: Vec::with_capacity(n),
        has_reports: vec![false; n],
    };
    let mut pointer = 0usize;
    let mut quota = 0usize;
    for i in 0..n {
        let guest = i >= roots && rng.random_bool(0.01);
        if quota == 0 && i >= roots {
            pointer += usize::from(i > roots);
            quota = rng.random_range(2..=MAX_REPORTS);
        }
        while pointer < i && s.guest.get(pointer) == Some(&true) {
            pointer += 1;
        }
        let manager = (i >= roots && pointer < i).then_some(pointer);
        let (depth, department) = match manager {
            None => (0, EXECUTIVE),
            Some(m) => {
                quota -= 1;
                if let Some(r) = s.has_reports.get_mut(m) {
                    *r = true;
                }
                let depth = s.depth.get(m).copied().unwrap_or(0).saturating_add(1);
                let inherited = s.department.get(m).copied().unwrap_or(EXECUTIVE);
                let department = if inherited != EXECUTIVE && rng.random_bool(0.92) {
                    inherited
                } else {
                    random_department(rng)
                };
                (depth, department)
            }
        };
        let office = match manager {
            Some(m) if rng.random_bool(0.7) => s.office.get(m).copied().unwrap_or(REMOTE),
            _ => random_office(rng),
        };
        s.manager
            .push(manager.map_or(NONE, |m| u32::try_from(m).unwrap_or(NONE)));
        s.depth.push(depth);
        if guest {
            s.department.push(NO_DEPARTMENT);
            s.office.push(REMOTE);
        } else {
            s.department.push(department);
            s.office.push(office);
        }
        s.guest.push(guest);
    }
    s
}

fn random_department(rng: &mut StdRng) -> u8 {
    u8::try_from(rng.random_range(0..DEPARTMENTS.len())).unwrap_or(0)
}

/// An office by head-count weight, or [`REMOTE`].
fn random_office(rng: &mut StdRng) -> u8 {
    let total: u32 = names::OFFICES.iter().map(|o| o.weight).sum::<u32>() + names::REMOTE_WEIGHT;
    let mut pick = rng.random_range(0..total);
    for (i, office) in names::OFFICES.iter().enumerate() {
        if pick < office.weight {
            return u8::try_from(i).unwrap_or(REMOTE);
        }
        pick -= office.weight;
    }
    REMOTE
}

const USER_KIND: u64 = 1;
const GROUP_KIND: u64 = 2;

/// A UUID-shaped objectId (version 4 layout) unique per (seed, kind, index): the first 48 bits
/// and the last 16 are a bijective mix of the index, the rest a hash of it.
fn object_id(seed: u64, kind: u64, index: u64) -> String {
    let a = mix(mix(seed) ^ (kind << 48 | index));
    let b = mix(a ^ 0x9e37_79b9_7f4a_7c15);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:04x}{:08x}",
        a >> 32,
        (a >> 16) & 0xffff,
        b & 0x0fff,
        0x8000 | ((b >> 12) & 0x3fff),
        a & 0xffff,
        b >> 32,
    )
}

/// splitmix64's finaliser: a bijection on u64.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Makes users one at a time, keeping only the counters that make aliases unique.
struct UserMaker {
    seed: u64,
    first: Vec<String>,
    last: Vec<String>,
    aliases: HashMap<String, u32>,
}

impl UserMaker {
    fn new(seed: u64) -> Self {
        UserMaker {
            seed,
            first: names::FIRST_NAMES.iter().map(|n| fold(n)).collect(),
            last: LAST_NAMES.iter().map(|n| fold(n)).collect(),
            aliases: HashMap::new(),
        }
    }

    fn make(&mut self, i: usize, s: &Structure, rng: &mut StdRng) -> User {
        let id = object_id(self.seed, USER_KIND, i as u64);
        let name = self.name(rng);
        let guest = s.guest.get(i) == Some(&true);
        let mut attrs = BTreeMap::new();
        let upn = if guest {
            guest_attributes(&mut attrs, &name, rng)
        } else {
            member_attributes(&mut attrs, &name, &Place::of(i, s), rng)
        };
        put(&mut attrs, "givenName", name.given.to_owned());
        put(&mut attrs, "surname", name.surname.to_owned());
        if !guest && rng.random_bool(0.3) {
            attrs.insert(
                "proxyAddresses".to_owned(),
                Value::Multi(vec![
                    format!("SMTP:{upn}"),
                    format!("smtp:{}@contoso.mail.onmicrosoft.com", name.alias),
                ]),
            );
        }
        let manager = s
            .manager
            .get(i)
            .filter(|&&m| m != NONE)
            .map(|&m| object_id(self.seed, USER_KIND, u64::from(m)));
        User {
            object_id: id,
            upn,
            attrs,
            manager,
            account_enabled: !rng.random_bool(0.02),
            soft_deleted: rng.random_bool(0.01),
        }
    }

    /// A random name, and its alias made unique with a counter.
    fn name(&mut self, rng: &mut StdRng) -> Name {
        let fi = rng.random_range(0..names::FIRST_NAMES.len());
        let li = rng.random_range(0..LAST_NAMES.len());
        let base = format!(
            "{}.{}",
            self.first.get(fi).map_or("alex", String::as_str),
            self.last.get(li).map_or("smith", String::as_str)
        );
        let count = self.aliases.entry(base.clone()).or_insert(0);
        *count += 1;
        let alias = if *count == 1 {
            base
        } else {
            format!("{base}{count}")
        };
        Name {
            given: names::FIRST_NAMES.get(fi).copied().unwrap_or("Alex"),
            surname: LAST_NAMES.get(li).copied().unwrap_or("Smith"),
            alias,
        }
    }
}

/// A user's name: as displayed, and the ASCII alias its UPN and mail are made of.
struct Name {
    given: &'static str,
    surname: &'static str,
    alias: String,
}

/// Where a member user sits in the tenant: index, depth in the management tree, department,
/// office.
struct Place {
    index: usize,
    depth: u8,
    manages: bool,
    department: u8,
    office: Option<&'static names::Office>,
}

impl Place {
    fn of(i: usize, s: &Structure) -> Self {
        Place {
            index: i,
            depth: s.depth.get(i).copied().unwrap_or(0),
            manages: s.has_reports.get(i) == Some(&true),
            department: s.department.get(i).copied().unwrap_or(NO_DEPARTMENT),
            office: s
                .office
                .get(i)
                .and_then(|&o| names::OFFICES.get(usize::from(o))),
        }
    }
}

fn put(attrs: &mut BTreeMap<String, Value>, key: &str, value: String) {
    attrs.insert(key.to_owned(), Value::Str(value));
}

/// A B2B guest's attributes; returns its `#EXT#` UPN.
fn guest_attributes(attrs: &mut BTreeMap<String, Value>, name: &Name, rng: &mut StdRng) -> String {
    let Name {
        given,
        surname,
        alias,
    } = name;
    let domain = names::GUEST_DOMAINS
        .choose(rng)
        .copied()
        .unwrap_or("fabrikam.com");
    let label = domain.split('.').next().unwrap_or(domain);
    let company = capitalise(label);
    put(attrs, "mailNickname", format!("{alias}_{domain}#EXT#"));
    put(attrs, "mail", format!("{alias}@{domain}"));
    put(
        attrs,
        "displayName",
        format!("{given} {surname} ({company})"),
    );
    put(
        attrs,
        "jobTitle",
        names::GUEST_TITLES
            .choose(rng)
            .copied()
            .unwrap_or("Consultant")
            .to_owned(),
    );
    put(attrs, "userType", "Guest".to_owned());
    format!("{alias}_{domain}#EXT#@{GUEST_UPN_DOMAIN}")
}

/// A member's attributes; returns its UPN in the tenant's domain.
fn member_attributes(
    attrs: &mut BTreeMap<String, Value>,
    name: &Name,
    place: &Place,
    rng: &mut StdRng,
) -> String {
    let upn = format!("{}@{TENANT_DOMAIN}", name.alias);
    put(attrs, "mailNickname", name.alias.clone());
    put(attrs, "mail", upn.clone());
    put(
        attrs,
        "displayName",
        format!("{} {}", name.given, name.surname),
    );
    let dept = DEPARTMENTS.get(usize::from(place.department));
    put(attrs, "jobTitle", job_title(place, dept, rng));
    put(
        attrs,
        "department",
        dept.map_or(names::EXECUTIVE, |d| d.0).to_owned(),
    );
    put(attrs, "employeeId", (100_001 + place.index).to_string());
    phones(attrs, place.office, rng);
    if let Some(o) = place.office {
        office_address(attrs, o, rng);
    }
    put(
        attrs,
        "preferredLanguage",
        place.office.map_or("en-US", |o| o.language).to_owned(),
    );
    put(attrs, "userType", "Member".to_owned());
    if rng.random_bool(0.4) {
        put(
            attrs,
            "extensionAttribute1",
            format!(
                "CC-{}{:03}",
                place.department % 10,
                rng.random_range(0..1000)
            ),
        );
    }
    upn
}

/// A title by rank: the roots' own, then vice presidents, directors and managers of the
/// department, and a department's job for the rest.
fn job_title(place: &Place, dept: Option<&(&str, &[&'static str])>, rng: &mut StdRng) -> String {
    let dept_name = dept.map_or(names::EXECUTIVE, |d| d.0);
    if place.depth == 0 {
        names::ROOT_TITLES
            .get(place.index)
            .copied()
            .unwrap_or("Chief Strategy Officer")
            .to_owned()
    } else if place.manages && place.depth == 1 {
        format!("Vice President, {dept_name}")
    } else if place.manages && place.depth == 2 {
        format!("Director, {dept_name}")
    } else if place.manages {
        format!("{dept_name} Manager")
    } else {
        dept.and_then(|d| d.1.choose(rng))
            .copied()
            .unwrap_or("Analyst")
            .to_owned()
    }
}

/// A desk phone (most office staff) and a mobile (half of everyone), with the office's prefix.
fn phones(attrs: &mut BTreeMap<String, Value>, office: Option<&names::Office>, rng: &mut StdRng) {
    let prefix = office.map_or("+1 206", |o| o.phone_prefix);
    if office.is_some() && rng.random_bool(0.8) {
        put(
            attrs,
            "telephoneNumber",
            format!("{prefix} 555 {:04}", rng.random_range(0..10_000)),
        );
    }
    if rng.random_bool(0.5) {
        put(
            attrs,
            "mobile",
            format!(
                "{prefix} 7{:02} {:04}",
                rng.random_range(0..100),
                rng.random_range(0..10_000)
            ),
        );
    }
}

/// The office's address, and a building in it.
fn office_address(attrs: &mut BTreeMap<String, Value>, o: &names::Office, rng: &mut StdRng) {
    put(attrs, "streetAddress", o.street.to_owned());
    put(attrs, "city", o.city.to_owned());
    if !o.state.is_empty() {
        put(attrs, "state", o.state.to_owned());
    }
    put(attrs, "postalCode", o.postal_code.to_owned());
    put(attrs, "country", o.country.to_owned());
    put(
        attrs,
        "physicalDeliveryOfficeName",
        format!("Building {}", rng.random_range(1..=12)),
    );
}

/// The group listing everyone in office `g`, and its members' indexes.
fn office_group(seed: u64, g: usize, s: &Structure) -> (Group, Vec<usize>) {
    let office = names::OFFICES.get(g);
    let city = office.map_or("Remote", |o| o.city);
    let indices: Vec<usize> = s
        .office
        .iter()
        .enumerate()
        .filter(|&(_, &o)| usize::from(o) == g)
        .map(|(i, _)| i)
        .collect();
    let members = user_refs(seed, &indices);
    let group = group(
        object_id(seed, GROUP_KIND, g as u64),
        format!("Office – {city}"),
        format!("office-{}", fold(city)),
        format!("Everyone based in the {city} office"),
        true,
        members,
    );
    (group, indices)
}

fn user_refs(seed: u64, indices: &[usize]) -> Vec<MemberRef> {
    indices
        .iter()
        .map(|&i| MemberRef {
            object_id: object_id(seed, USER_KIND, i as u64),
            kind: MemberKind::User,
        })
        .collect()
}

/// Sizes of the non-office groups, shuffled: `4% of users / rank^1.1`, jittered, with one in ten
/// tiny (1–5 members) — so with 1,000,000 users the largest has about 40,000 members and the
/// smallest a handful.
fn rank_sizes(spec: &TenantSpec, offices: usize, rng: &mut StdRng) -> Vec<usize> {
    let count = spec.groups - offices;
    let n = spec.users;
    let mut sizes: Vec<usize> = (0..count)
        .map(|r| {
            if rng.random_bool(0.1) {
                return rng.random_range(1..=5).min(n);
            }
            let base = n as f64 * 0.04 / ((r + 1) as f64).powf(1.1);
            let size = (base * rng.random_range(0.6..1.4)).round() as usize;
            size.clamp(1, n.max(1)).min(n)
        })
        .collect();
    sizes.shuffle(rng);
    sizes
}

/// A project, team or distribution group of `size` random users, and their indexes.
fn ranked_group(
    seed: u64,
    g: usize,
    size: usize,
    users: usize,
    rng: &mut StdRng,
) -> (Group, Vec<usize>) {
    let department = DEPARTMENTS.choose(rng).map_or("Company", |d| d.0);
    let (kind, security) = names::GROUP_KINDS
        .choose(rng)
        .copied()
        .unwrap_or(("Team", true));
    let mut picked = index::sample(rng, users, size.min(users)).into_vec();
    picked.sort_unstable();
    let name = format!("{department} {kind} {}", g + 1);
    let nickname = format!("{}-{}-{}", fold(department), fold(kind), g + 1);
    let group = group(
        object_id(seed, GROUP_KIND, g as u64),
        name,
        nickname,
        format!("{kind} for {department}"),
        security,
        user_refs(seed, &picked),
    );
    (group, picked)
}

fn group(
    object_id: String,
    display_name: String,
    nickname: String,
    description: String,
    security: bool,
    members: Vec<MemberRef>,
) -> Group {
    let mut attrs = BTreeMap::new();
    attrs.insert("mailNickname".to_owned(), Value::Str(nickname));
    attrs.insert("description".to_owned(), Value::Str(description));
    attrs.insert("securityEnabled".to_owned(), Value::from_bool(security));
    Group {
        object_id,
        display_name,
        attrs,
        members,
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Folds a name to lower-case ASCII letters the way `NormalizeDiacritics` + `ToLower` would for
/// an alias (`Ødegård` → `odegard`, `Łukasz` → `lukasz`, `Weiß` → `weiss`); other characters
/// (spaces, hyphens, apostrophes) are dropped.
pub(crate) fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let folded = match c {
            'a'..='z' => {
                out.push(c);
                continue;
            }
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'č' => "c",
            'ď' | 'đ' | 'ð' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
            'ğ' => "g",
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
            'ł' => "l",
            'ñ' | 'ń' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
            'œ' => "oe",
            'ř' => "r",
            'ś' | 'š' | 'ş' => "s",
            'ß' => "ss",
            'ť' | 'ţ' => "t",
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
            'ý' | 'ÿ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            'þ' => "th",
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

/// Whether the job assigns users and groups, or syncs everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobScope {
    /// `scope: assigned` with the generated assignments.
    Assigned,
    /// `scope: all`.
    All,
}

/// The companion job file: the directory and mapping paths as they should appear in it
/// (relative to the job file), the built-in target's URL and token variable, and the scope.
pub fn job_yaml(
    tenant: &GeneratedTenant,
    directory: &str,
    mapping: &str,
    scope: JobScope,
) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
    let spec = tenant.spec;
    let mut out = format!(
        "# Generated with: entra-sim directory generate --users {} --groups {} --seed {}\n",
        spec.users, spec.groups, spec.seed
    );
    if scope == JobScope::Assigned {
        out.push_str(&format!(
            "# {} of {} users are in scope through {} group and {} user assignments.\n",
            tenant.assigned_users,
            spec.users,
            tenant.group_assignments.len(),
            tenant.user_assignments.len()
        ));
    }
    out.push_str(&format!(
        "directory: {}\nmapping: {}\ntarget:\n  url: http://127.0.0.1:8080/scim/v2\n  token_env: ENTRA_SIM_TOKEN\n",
        quote(directory),
        quote(mapping)
    ));
    match scope {
        JobScope::All => out.push_str("scope: all\n"),
        JobScope::Assigned => {
            out.push_str("scope: assigned\nassignments:\n");
            for (id, name) in &tenant.group_assignments {
                out.push_str(&format!("  - principal: {id}   # {name}\n"));
            }
            for upn in &tenant.user_assignments {
                out.push_str(&format!("  - principal: {}\n", quote(upn)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
