//! A scenario's scratch job, as a user would write it: a directory of typed users and groups
//! (every name carrying the run prefix and the scenario's tag), the assignments, the mapping
//! under test and a job file pointing at the Tenant URL, all in a temporary directory.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::directory::{DirectoryFormat, DirectoryWriter, Group, MemberKind, MemberRef, User};
use crate::expr::Value;

/// The attribute mapping the engine scenarios provision with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingUnderTest {
    /// What to call it in messages (a file name).
    pub name: String,
    /// The mapping file's text.
    pub yaml: String,
}

impl Default for MappingUnderTest {
    /// Entra's default SCIM mapping (users with a manager, and groups), built into the binary so
    /// `conformance` works from any directory.
    fn default() -> Self {
        Self {
            name: "mappings/scim-default.yaml".into(),
            yaml: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/mappings/scim-default.yaml"
            ))
            .into(),
        }
    }
}

/// The files of a scratch job, relative to its directory.
const JOB_FILE: &str = "job.yaml";
const DIRECTORY_FILE: &str = "directory.yaml";
const MAPPING_FILE: &str = "mapping.yaml";
/// The job's state directory, inside the scratch directory.
pub const STATE_DIR: &str = "state";
/// The token variable the scratch job names. It is never read: the scenario sends through the
/// conformance run's own transport, which holds the real credential.
const UNREAD_TOKEN_ENV: &str = "ENTRA_SIM_CONFORMANCE_UNUSED_TOKEN";

/// The source tenant of a scenario: users and groups by tag, and which are assigned to the app.
#[derive(Debug, Clone)]
pub struct ScratchDirectory {
    /// The prefix of every name (run prefix and the scenario's tag).
    prefix: String,
    users: Vec<(String, User)>,
    groups: Vec<(String, Group)>,
    /// Tags of the assigned users and groups, in assignment order.
    assigned: Vec<String>,
    /// The objects removed (hard-deleted), still known by tag: the entries of their deletion
    /// name them.
    removed: Vec<(String, MemberRef)>,
    /// Counter for objectIds (unique within the scenario; the prefix makes them unique per run).
    next_id: u32,
}

impl ScratchDirectory {
    /// An empty tenant whose names all start with `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
            users: Vec::new(),
            groups: Vec::new(),
            assigned: Vec::new(),
            removed: Vec::new(),
            next_id: 0,
        }
    }

    /// The userPrincipalName a user tagged `tag` has.
    pub fn user_name(&self, tag: &str) -> String {
        format!("{}-{tag}@example.invalid", self.prefix)
    }

    /// The displayName a group tagged `tag` has.
    pub fn group_name(&self, tag: &str) -> String {
        format!("{} {tag}", self.prefix)
    }

    /// Adds a user tagged `tag`, with a value for every common source attribute (so that a
    /// vendor's mapping finds values to send), enabled and not yet assigned; change it with
    /// [`ScratchDirectory::user_mut`].
    pub fn add_user(&mut self, tag: &str) {
        let object_id = self.object_id_for();
        let upn = self.user_name(tag);
        let user = User {
            attrs: user_attributes(&self.prefix, tag, &upn),
            object_id,
            upn,
            manager: None,
            account_enabled: true,
            soft_deleted: false,
        };
        self.users.push((tag.to_string(), user));
    }

    /// Adds a group tagged `tag` with the users and groups tagged in `members`, not yet assigned;
    /// change it with [`ScratchDirectory::group_mut`].
    pub fn add_group(&mut self, tag: &str, members: &[&str]) {
        let object_id = self.object_id_for();
        let display_name = self.group_name(tag);
        let mut attrs = BTreeMap::new();
        let nickname = format!("{}-{tag}", self.prefix);
        attrs.insert("mailNickname".into(), Value::Str(nickname));
        let description = format!("entra-sim conformance group {tag}");
        attrs.insert("description".into(), Value::Str(description));
        let members = members.iter().filter_map(|m| self.member(m)).collect();
        let group = Group {
            object_id,
            display_name,
            attrs,
            members,
        };
        self.groups.push((tag.to_string(), group));
    }

    /// The group tagged `tag`, to change as a user would edit the tenant.
    pub fn group_mut(&mut self, tag: &str) -> Option<&mut Group> {
        self.groups
            .iter_mut()
            .find(|(t, _)| t == tag)
            .map(|(_, g)| g)
    }

    fn object_id_for(&mut self) -> String {
        self.next_id += 1;
        // A GUID's shape, unique per scenario; the prefix is in every name, not in ids.
        format!("00000000-0000-4000-8000-{:012x}", self.next_id)
    }

    /// The user tagged `tag`, to change as a user would edit the tenant.
    pub fn user_mut(&mut self, tag: &str) -> Option<&mut User> {
        self.users
            .iter_mut()
            .find(|(t, _)| t == tag)
            .map(|(_, u)| u)
    }

    /// The objectId of the user or group tagged `tag` (also once removed).
    pub fn object_id(&self, tag: &str) -> Option<&str> {
        self.member_ref(tag).map(|(id, _)| id)
    }

    /// A member reference to the user or group tagged `tag` (also once removed).
    pub fn member(&self, tag: &str) -> Option<MemberRef> {
        self.member_ref(tag).map(|(id, kind)| MemberRef {
            object_id: id.to_string(),
            kind,
        })
    }

    fn member_ref(&self, tag: &str) -> Option<(&str, MemberKind)> {
        let user = self.users.iter().find(|(t, _)| t == tag);
        let group = self.groups.iter().find(|(t, _)| t == tag);
        let removed = self.removed.iter().find(|(t, _)| t == tag);
        user.map(|(_, u)| (u.object_id.as_str(), MemberKind::User))
            .or_else(|| group.map(|(_, g)| (g.object_id.as_str(), MemberKind::Group)))
            .or_else(|| removed.map(|(_, m)| (m.object_id.as_str(), m.kind)))
    }

    /// Sets (or with `None` removes) the manager of the user tagged `tag`.
    pub fn set_manager(&mut self, tag: &str, manager: Option<&str>) {
        let manager_id = manager.and_then(|m| self.object_id(m)).map(str::to_string);
        if let Some(user) = self.user_mut(tag) {
            user.manager = manager_id;
        }
    }

    /// Assigns the user or group tagged `tag` to the app.
    pub fn assign(&mut self, tag: &str) {
        if !self.assigned.iter().any(|t| t == tag) {
            self.assigned.push(tag.to_string());
        }
    }

    /// Removes the assignment of the user or group tagged `tag`.
    pub fn unassign(&mut self, tag: &str) {
        self.assigned.retain(|t| t != tag);
    }

    /// Removes the user or group tagged `tag` from the tenant (a hard delete), with its
    /// assignment, group memberships and manager links, as Entra does.
    pub fn remove(&mut self, tag: &str) {
        let Some(member) = self.member(tag) else {
            return;
        };
        let id = member.object_id.clone();
        self.removed.push((tag.to_string(), member));
        self.users.retain(|(t, _)| t != tag);
        self.groups.retain(|(t, _)| t != tag);
        self.unassign(tag);
        for (_, user) in &mut self.users {
            if user.manager.as_deref() == Some(&id) {
                user.manager = None;
            }
        }
        for (_, group) in &mut self.groups {
            group.members.retain(|m| m.object_id != id);
        }
    }

    /// Writes the directory file.
    fn write_directory(&self, path: &Path) -> io::Result<()> {
        let file = std::fs::File::create(path)?;
        let comment = [format!(
            "entra-sim conformance scratch tenant {}",
            self.prefix
        )];
        let mut writer =
            DirectoryWriter::new(io::BufWriter::new(file), DirectoryFormat::Yaml, &comment)?;
        for (_, user) in &self.users {
            writer.user(user)?;
        }
        for (_, group) in &self.groups {
            writer.group(group)?;
        }
        writer.finish()?;
        Ok(())
    }

    fn assignments(&self) -> Vec<RawAssignment> {
        self.assigned
            .iter()
            .filter_map(|tag| self.object_id(tag))
            .map(|id| RawAssignment {
                principal: id.to_string(),
            })
            .collect()
    }
}

/// Every common source attribute of a user, with values derived from its name.
fn user_attributes(prefix: &str, tag: &str, upn: &str) -> BTreeMap<String, Value> {
    let nickname = format!("{prefix}-{tag}");
    let text = [
        ("mailNickname", nickname.clone()),
        ("mail", upn.to_string()),
        ("givenName", format!("Conformance {tag}")),
        ("surname", prefix.to_string()),
        ("displayName", format!("Conformance {tag} {prefix}")),
        ("jobTitle", "Tester".into()),
        ("department", "Quality".into()),
        ("employeeId", format!("{prefix}-{tag}-1")),
        ("telephoneNumber", "+1 425 555 0100".into()),
        ("mobile", "+1 206 555 0100".into()),
        ("facsimileTelephoneNumber", "+1 425 555 0199".into()),
        ("streetAddress", "1 Conformance Way".into()),
        ("city", "Redmond".into()),
        ("state", "WA".into()),
        ("postalCode", "98052".into()),
        ("country", "US".into()),
        ("physicalDeliveryOfficeName", "Building 1".into()),
        ("preferredLanguage", "en-US".into()),
        ("userType", "Member".into()),
    ];
    let mut attrs: BTreeMap<String, Value> = text
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::Str(v)))
        .collect();
    for n in 1..=15 {
        let value = Value::Str(format!("{nickname}-ext{n}"));
        attrs.insert(format!("extensionAttribute{n}"), value);
    }
    attrs.insert(
        "proxyAddresses".into(),
        Value::Multi(vec![format!("SMTP:{upn}")]),
    );
    attrs
}

/// The job file, serialized as JSON (which YAML reads as it is).
#[derive(Serialize)]
struct RawJob<'a> {
    directory: &'a str,
    mapping: &'a str,
    target: RawTarget<'a>,
    scope: &'a str,
    assignments: Vec<RawAssignment>,
    settings: RawSettings<'a>,
}

#[derive(Serialize)]
struct RawTarget<'a> {
    url: &'a str,
    token_env: &'a str,
}

#[derive(Serialize)]
struct RawAssignment {
    principal: String,
}

#[derive(Serialize)]
struct RawSettings<'a> {
    state_dir: &'a str,
    /// One request at a time: a scenario's few objects need no more, and the requests of a
    /// failure read in order.
    concurrency: u32,
}

/// A scratch job in a temporary directory (removed when dropped).
#[derive(Debug)]
pub struct ScratchJob {
    dir: tempfile::TempDir,
}

impl ScratchJob {
    /// A new temporary directory holding `mapping`.
    pub fn new(mapping: &MappingUnderTest) -> io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("entra-sim-conformance-")
            .tempdir()?;
        std::fs::write(dir.path().join(MAPPING_FILE), &mapping.yaml)?;
        Ok(Self { dir })
    }

    /// The job file's path.
    pub fn job_path(&self) -> PathBuf {
        self.dir.path().join(JOB_FILE)
    }

    /// The state directory's path.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join(STATE_DIR)
    }

    /// Writes the directory and a job file for `tenant_url` assigning what `directory` assigns.
    pub fn write(&self, directory: &ScratchDirectory, tenant_url: &str) -> io::Result<()> {
        directory.write_directory(&self.dir.path().join(DIRECTORY_FILE))?;
        let job = RawJob {
            directory: DIRECTORY_FILE,
            mapping: MAPPING_FILE,
            target: RawTarget {
                url: tenant_url,
                token_env: UNREAD_TOKEN_ENV,
            },
            scope: "assigned",
            assignments: directory.assignments(),
            settings: RawSettings {
                state_dir: STATE_DIR,
                concurrency: 1,
            },
        };
        let text = serde_json::to_string_pretty(&job).map_err(io::Error::other)?;
        std::fs::write(self.job_path(), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the scratch directory holds is what the loader reads: users with every common
    /// attribute, a manager, a disabled and a soft-deleted user, the assignments, the mapping
    /// under test; a removed user is gone with its assignment and the manager links to it; the
    /// temporary directory goes away with the job.
    #[test]
    fn the_loader_reads_the_scratch_job_as_written() {
        let mut directory = ScratchDirectory::new("run1-x");
        for tag in ["u", "m", "off", "bin"] {
            directory.add_user(tag);
            directory.assign(tag);
        }
        directory.set_manager("u", Some("m"));
        directory.user_mut("off").unwrap().account_enabled = false;
        directory.user_mut("bin").unwrap().soft_deleted = true;
        let job = ScratchJob::new(&MappingUnderTest::default()).unwrap();
        job.write(&directory, "http://127.0.0.1:9/scim?aadOptscim062020")
            .unwrap();
        let loaded = crate::commands::load(&job.job_path()).unwrap();
        assert_eq!(loaded.mode, crate::scim::ScimMode::Aad062020);
        assert_eq!(loaded.job.assignments.len(), 4);
        let users = loaded.job.directory.users();
        assert_eq!(users.len(), 4);
        assert_eq!(users[0].upn, "run1-x-u@example.invalid");
        assert_eq!(users[0].manager.as_deref(), directory.object_id("m"));
        for attribute in [
            "givenName",
            "surname",
            "mail",
            "jobTitle",
            "department",
            "employeeId",
            "streetAddress",
            "mobile",
            "extensionAttribute15",
            "proxyAddresses",
        ] {
            assert!(users[0].attrs.contains_key(attribute), "{attribute}");
        }
        assert!(!users[2].account_enabled);
        assert!(users[3].soft_deleted);

        let m = directory.object_id("m").unwrap().to_string();
        directory.remove("m");
        assert_eq!(
            directory.object_id("m"),
            Some(m.as_str()),
            "still known by tag"
        );
        job.write(&directory, "http://127.0.0.1:9/scim").unwrap();
        let loaded = crate::commands::load(&job.job_path()).unwrap();
        assert_eq!(loaded.job.directory.users().len(), 3);
        assert_eq!(loaded.job.assignments.len(), 3);
        assert_eq!(loaded.job.directory.users()[0].manager, None);

        let dir = job.job_path().parent().unwrap().to_path_buf();
        assert!(dir.exists());
        drop(job);
        assert!(!dir.exists());
    }
}
