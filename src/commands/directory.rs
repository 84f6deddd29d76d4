//! `entra-sim directory generate` and `directory mutate`: the file IO around the pure generator and
//! mutator in `directory`. Output is streamed through a buffered writer.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Component, Path, PathBuf};

use crate::cli::{GenerateArgs, MutateArgs};
use crate::config::ConfigError;
use crate::directory::generate::{self, JobScope, TenantSpec};
use crate::directory::{Directory, DirectoryFormat, DirectoryWriter, mutate};
use crate::error::{AppError, argument};
use crate::output::outln;

/// Writes a synthetic tenant, and its job file when asked.
pub fn generate(args: GenerateArgs) -> Result<i32, AppError> {
    if args.users > generate::MAX_USERS {
        return Err(AppError::TooManyUsers(generate::MAX_USERS));
    }
    let spec = TenantSpec {
        users: args.users,
        groups: args.groups,
        seed: args.seed,
    };
    let format = DirectoryFormat::for_path(&args.out.display().to_string());
    let out = create(&args.out)?;
    let mut progress = super::progress::Progress::new(false);
    crate::engine::EntrySink::planned(&mut progress, "generating", spec.users + spec.groups);
    let tenant = generate::generate_with(&spec, format, out, &mut || {
        crate::engine::EntrySink::processed(&mut progress)
    })
    .map_err(|e| write_error(&args.out, e))?;
    progress.finish();
    outln!(
        "wrote {} users and {} groups to {} (largest group: {} members)",
        spec.users,
        spec.groups,
        args.out.display(),
        tenant.largest_group
    )?;
    if let Some(job_out) = &args.job_out {
        let base = job_out.parent().unwrap_or(Path::new(""));
        let scope = if args.scope == "all" {
            JobScope::All
        } else {
            JobScope::Assigned
        };
        let text = generate::job_yaml(
            &tenant,
            &relative(&args.out, base)?.display().to_string(),
            &relative(&args.mapping, base)?.display().to_string(),
            scope,
        );
        std::fs::write(job_out, text).map_err(|e| write_error(job_out, e))?;
        if scope == JobScope::Assigned {
            outln!(
                "wrote {} ({} of {} users assigned)",
                job_out.display(),
                tenant.assigned_users,
                spec.users
            )?;
        } else {
            outln!("wrote {} (scope: all)", job_out.display())?;
        }
    }
    Ok(0)
}

/// Applies random changes to a directory file and writes the result.
pub fn mutate(args: MutateArgs) -> Result<i32, AppError> {
    let name = args.input.display().to_string();
    let text = std::fs::read_to_string(&args.input).map_err(|source| AppError::ReadInput {
        path: args.input.clone(),
        source,
    })?;
    let directory = Directory::parse(&name, &text).map_err(ConfigError::Invalid)?;
    drop(text);
    let mutation = mutate::mutate(directory, args.changes, args.seed)
        .map_err(|e| argument(&name)(e.into()))?;
    let format = DirectoryFormat::for_path(&args.out.display().to_string());
    let comment = [format!(
        "{name} with {} random changes (seed {})",
        args.changes, args.seed
    )];
    let write = || -> std::io::Result<()> {
        let mut writer = DirectoryWriter::new(
            create(&args.out).map_err(std::io::Error::other)?,
            format,
            &comment,
        )?;
        for user in &mutation.users {
            writer.user(user)?;
        }
        for group in &mutation.groups {
            writer.group(group)?;
        }
        writer.finish().map(drop)
    };
    write().map_err(|e| write_error(&args.out, e))?;
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for change in &mutation.changes {
        match kinds.iter_mut().find(|(k, _)| *k == change.kind()) {
            Some((_, n)) => *n += 1,
            None => kinds.push((change.kind(), 1)),
        }
    }
    kinds.sort_unstable();
    let summary: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    outln!(
        "applied {} changes to {} ({}), wrote {}",
        mutation.changes.len(),
        name,
        summary.join(", "),
        args.out.display()
    )?;
    Ok(0)
}

fn create(path: &Path) -> Result<BufWriter<File>, AppError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|e| write_error(path, e))
}

fn write_error(path: &Path, err: std::io::Error) -> AppError {
    AppError::Write {
        path: path.to_path_buf(),
        source: err,
    }
}

/// `target` as seen from the directory `from` (both relative to the working directory or
/// absolute), lexically.
fn relative(target: &Path, from: &Path) -> Result<PathBuf, AppError> {
    let cwd = std::env::current_dir().map_err(AppError::WorkingDirectory)?;
    let target = lexical(&cwd.join(target));
    let from = lexical(&cwd.join(from));
    let common = target
        .components()
        .zip(from.components())
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return Ok(target);
    }
    let mut out = PathBuf::new();
    for _ in from.components().skip(common) {
        out.push("..");
    }
    for part in target.components().skip(common) {
        out.push(part);
    }
    Ok(out)
}

/// Resolves `.` and `..` without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_relative_to_the_job_file() {
        let rel = |t: &str, f: &str| relative(Path::new(t), Path::new(f)).expect("cwd");
        assert_eq!(rel("out/t.yaml", "out"), PathBuf::from("t.yaml"));
        assert_eq!(
            rel("mappings/scim-default.yaml", "out/jobs"),
            PathBuf::from("../../mappings/scim-default.yaml")
        );
        assert_eq!(rel("/a/b/c.yaml", "/a/d"), PathBuf::from("../b/c.yaml"));
        assert_eq!(rel("t.yaml", ""), PathBuf::from("t.yaml"));
    }
}
