//! The top-level error of every command and its exit code. The README's exit-code table is a
//! contract: 0 ok, 1 entry-level errors, 2 job-level failure, 3 bad input, 4 state or internal error.
//!
//! Each variant carries what failed beneath it as its `source`, so `main` can print the cause
//! chain; a message already naming its cause (`{path}: {source}`) is not repeated there.

use std::error::Error;
use std::path::PathBuf;

use crate::auth::jwt::JwtError;
use crate::config::{ConfigError, TokenError};
use crate::http::ClientError;
use crate::scim::UrlError;
use crate::store::StoreError;

/// An error of any kind, for a command-line argument whose parser has its own error type.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    // Bad input (exit 3).
    /// A job, directory or mapping file could not be read or is invalid; the problems name the
    /// file, line, column and field.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The job's Tenant URL is not one.
    #[error("{}: target.url: {source}", file.display())]
    TenantUrl {
        /// The job file.
        file: PathBuf,
        /// Why the URL was refused.
        source: UrlError,
    },
    /// The job's token source could not be resolved (an `entra_jwt` key that cannot be read or
    /// made is a local failure instead).
    #[error("{}: target: {source}", file.display())]
    Token {
        /// The job file.
        file: PathBuf,
        /// What went wrong.
        source: TokenError,
    },
    /// The HTTP client for the job's target could not be built (a token no header can carry is
    /// bad input; reqwest refusing its settings is a local failure).
    #[error("{}", client_message(file, source))]
    Client {
        /// The job file.
        file: PathBuf,
        /// What went wrong.
        source: ClientError,
    },
    /// A file named on the command line could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadInput {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A command-line argument (a flag, or the file it names) is invalid: `{arg}: {source}`.
    #[error("{arg}: {source}")]
    Argument {
        /// The argument as the message names it (`--cron "…"`, `--fault`, a file name).
        arg: String,
        /// Why it was refused.
        source: BoxError,
    },
    /// An expression does not parse or evaluate: the error drawn under the expression.
    #[error("{drawn}")]
    Expression {
        /// The expression with a caret under the error, and the message.
        drawn: String,
        /// The error.
        source: crate::expr::ExprError,
    },
    /// `expr --json` found the expression invalid: the report on standard output says why, so
    /// nothing more is printed.
    #[error("")]
    ExpressionReported,
    /// `jwks` for a job whose target has no `entra_jwt` block.
    #[error(
        "{}: target: has no entra_jwt block, so its requests carry no JWT of entra-sim's",
        file.display()
    )]
    NoEntraJwt {
        /// The job file.
        file: PathBuf,
    },
    /// `directory generate --users` above the generator's limit.
    #[error("--users: at most {0}")]
    TooManyUsers(usize),
    /// An `--attr` that is not `NAME=VALUE`.
    #[error("--attr {0:?}: expected NAME=VALUE")]
    AttrNotNameValue(String),
    /// A `--oauth-client` that is not `ID:SECRET` (the value, a secret, is not shown).
    #[error("--oauth-client: write the client as ID:SECRET, both non-empty")]
    OAuthClientNotIdSecret,
    /// A `--cron` schedule that has no time after now: no cycle would ever run.
    #[error(
        "--cron {text:?}: the schedule has no time after {}, so no cycle would ever run",
        after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )]
    CronNeverDue {
        /// The schedule as given.
        text: String,
        /// Now.
        after: chrono::DateTime<chrono::Utc>,
    },
    /// The job file's `settings.state_dir` changed while `run` holds the state it named.
    #[error(
        "{}: settings.state_dir: changed while `run` holds the job's state in {}; stop `run` and start it again",
        file.display(),
        declared.display()
    )]
    StateDirChanged {
        /// The job file.
        file: PathBuf,
        /// The state directory `run` holds.
        declared: PathBuf,
    },
    /// `logs --out` without a format.
    #[error("--out: needs --format json or --format csv")]
    OutWithoutFormat,
    /// `logs --status` with no such status.
    #[error("--status: unknown status {0:?} (use success, failure, skipped or warning)")]
    UnknownStatus(String),
    /// `test-connection` with a mapping whose users have no matching attribute.
    #[error("{}: users: no matching attribute", mapping.display())]
    NoMatchingAttribute {
        /// The mapping file.
        mapping: PathBuf,
    },
    /// A user named on the command line is not in the directory.
    #[error("no user {who:?} in {}", directory.display())]
    NoSuchUser {
        /// The id or UPN given.
        who: String,
        /// The directory file.
        directory: PathBuf,
    },
    /// A group named on the command line is not in the directory.
    #[error("no group {which:?} in {}", directory.display())]
    NoSuchGroup {
        /// The id or display name given.
        which: String,
        /// The directory file.
        directory: PathBuf,
    },
    /// Provision on demand of a group whose mapping provisions no groups.
    #[error("{}: groups are not provisioned by this mapping", mapping.display())]
    GroupsNotMapped {
        /// The mapping file.
        mapping: PathBuf,
    },
    /// Provision on demand with more members than Entra takes.
    #[error("--member: at most 5 members can be provisioned on demand with a group ({0} given)")]
    TooManyMembers(usize),
    /// A `--member` that is not a direct member of the group.
    #[error("--member {who:?} is not a direct member of group '{group}'")]
    NotAMember {
        /// The user given.
        who: String,
        /// The group's display name.
        group: String,
    },
    /// Provision on demand with neither a user nor a group.
    #[error("give --user, or --group with up to 5 --member")]
    NothingOnDemand,

    // Job-level failure (exit 2).
    /// The engine could not run or finish a cycle: the job is paused or disabled (exit 2), or
    /// its state failed (4).
    #[error(transparent)]
    Cycle(#[from] crate::engine::CycleError),
    /// The cycle stopped with a job failure.
    #[error("the cycle stopped: {0}")]
    CycleStopped(String),
    /// The cycle ran, and ended with the job in quarantine (its reason).
    #[error(
        "the cycle ended with the job in quarantine ({0}); `entra-sim status` says why and when the next cycle runs"
    )]
    Quarantined(String),
    /// A dry run stopped with a job failure.
    #[error("planning stopped: {0}")]
    PlanningStopped(String),
    /// Test Connection: nothing answered at the Tenant URL.
    #[error("Test Connection failed: could not connect to {0}; is the server running?")]
    Unreachable(String),
    /// Test Connection: the server answered, and refused the credentials or answered out of line.
    #[error("Test Connection failed: the SCIM endpoint or the credentials were not accepted.")]
    ConnectionRefused,
    /// Provision on demand's first step failed (Entra's error code and reason).
    #[error("Step 1: Test connection — failed\n  {code}: {reason}")]
    OnDemandConnection {
        /// Entra's error code.
        code: String,
        /// Its reason.
        reason: String,
    },
    /// `probe` could not make its scratch object on the target: the target's answer.
    #[error("cannot create a scratch object on the target: {0}")]
    ProbeCreate(String),

    // State or local failure (exit 4).
    /// The state directory.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key that signs the job's Entra JWTs could not be read or made.
    #[error("{}: target: entra_jwt: {source}", file.display())]
    SigningKey {
        /// The job file.
        file: PathBuf,
        /// What went wrong.
        source: JwtError,
    },
    /// A local file or directory could not be read or written: `{path}: {source}`.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be written: `cannot write {path}: {source}`.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file entra-sim wrote earlier no longer decodes.
    #[error("{}: {source}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// `run --virtual-time` could not copy the job's state.
    #[error("copying the job's state for --virtual-time: {}: {source}", path.display())]
    StateCopy {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `cycle --record-requests` could not write its recording.
    #[error("--record-requests: {0}")]
    Recording(#[source] std::io::Error),
    /// The working directory could not be read.
    #[error("cannot read the working directory: {0}")]
    WorkingDirectory(#[source] std::io::Error),
    /// The built-in target could not listen on its port.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        /// The port.
        port: u16,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The built-in target could not start or serve.
    #[error("cannot start the built-in target: {0}")]
    BuiltInTarget(#[source] std::io::Error),
    /// The built-in target failed while serving.
    #[error(transparent)]
    Serve(std::io::Error),
    /// Standard output could not be written (a closed pipe is no failure: see
    /// [`AppError::is_broken_pipe`]).
    #[error("cannot write standard output: {0}")]
    Stdout(#[source] std::io::Error),
    /// `cycle` could not write its output; the cycle itself ran to its end.
    #[error(
        "cannot write to standard output ({0}); the cycle ran to its end and its results are stored: see `entra-sim logs` and `entra-sim status`"
    )]
    CycleOutput(#[source] std::io::Error),
    /// A value could not be turned into JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A SCIM path `probe` builds from a constant does not parse (a bug).
    #[error("{0:?}")]
    ProbePath(#[source] crate::scim::PathError),
}

fn client_message(file: &std::path::Path, source: &ClientError) -> String {
    match source {
        ClientError::Token => format!("{}: target: {source}", file.display()),
        ClientError::Build(_) => source.to_string(),
    }
}

impl AppError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Token {
                source: TokenError::Jwt(_),
                ..
            }
            | AppError::Client {
                source: ClientError::Build(_),
                ..
            } => 4,
            AppError::Config(_)
            | AppError::TenantUrl { .. }
            | AppError::Token { .. }
            | AppError::Client { .. }
            | AppError::ReadInput { .. }
            | AppError::Argument { .. }
            | AppError::Expression { .. }
            | AppError::ExpressionReported
            | AppError::NoEntraJwt { .. }
            | AppError::TooManyUsers(_)
            | AppError::AttrNotNameValue(_)
            | AppError::OAuthClientNotIdSecret
            | AppError::CronNeverDue { .. }
            | AppError::StateDirChanged { .. }
            | AppError::OutWithoutFormat
            | AppError::UnknownStatus(_)
            | AppError::NoMatchingAttribute { .. }
            | AppError::NoSuchUser { .. }
            | AppError::NoSuchGroup { .. }
            | AppError::GroupsNotMapped { .. }
            | AppError::TooManyMembers(_)
            | AppError::NotAMember { .. }
            | AppError::NothingOnDemand => 3,
            AppError::Cycle(e) => e.exit_code(),
            AppError::CycleStopped(_)
            | AppError::Quarantined(_)
            | AppError::PlanningStopped(_)
            | AppError::Unreachable(_)
            | AppError::ConnectionRefused
            | AppError::OnDemandConnection { .. }
            | AppError::ProbeCreate(_) => 2,
            AppError::Store(_)
            | AppError::SigningKey { .. }
            | AppError::Io { .. }
            | AppError::Write { .. }
            | AppError::Decode { .. }
            | AppError::StateCopy { .. }
            | AppError::Recording(_)
            | AppError::WorkingDirectory(_)
            | AppError::Listen { .. }
            | AppError::BuiltInTarget(_)
            | AppError::Serve(_)
            | AppError::Stdout(_)
            | AppError::CycleOutput(_)
            | AppError::Json(_)
            | AppError::ProbePath(_) => 4,
        }
    }

    /// Whether a closed pipe caused this error (`entra-sim logs … | head`): the reader has what
    /// it wanted, so the command succeeded.
    pub fn is_broken_pipe(&self) -> bool {
        let mut next: Option<&(dyn Error + 'static)> = Some(self);
        while let Some(error) = next {
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return true;
            }
            next = error.source();
        }
        false
    }

    /// The lines `main` prints: `error: …`, then a `  caused by: …` line for each cause whose
    /// text the lines before do not already hold. None for an error whose message was printed
    /// already ([`AppError::ExpressionReported`]).
    pub fn report(&self) -> Vec<String> {
        let message = self.to_string();
        if message.is_empty() {
            return Vec::new();
        }
        let mut said = message.clone();
        let mut lines = vec![format!("error: {message}")];
        let mut next = self.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !said.contains(&text) {
                lines.push(format!("  caused by: {text}"));
                said.push_str(&text);
            }
            next = cause.source();
        }
        lines
    }
}

/// A [`AppError::Argument`] for `arg`.
pub fn argument(arg: impl Into<String>) -> impl FnOnce(BoxError) -> AppError {
    let arg = arg.into();
    move |source| AppError::Argument { arg, source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::CycleError;

    #[test]
    fn a_cause_is_shown_once() {
        let io = std::io::Error::other("disk full");
        let named = AppError::Write {
            path: "out.json".into(),
            source: io,
        };
        assert_eq!(named.report(), ["error: cannot write out.json: disk full"]);
        let hidden = AppError::Recording(std::io::Error::other(ChainLink));
        assert_eq!(
            hidden.report(),
            ["error: --record-requests: outer", "  caused by: inner"]
        );
    }

    #[test]
    fn a_broken_pipe_anywhere_in_the_chain_is_one() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(AppError::Stdout(pipe()).is_broken_pipe());
        assert!(AppError::CycleOutput(pipe()).is_broken_pipe());
        let store = StoreError::Io {
            path: "logs.jsonl".into(),
            source: pipe(),
        };
        assert!(AppError::from(store).is_broken_pipe());
        assert!(!AppError::Stdout(std::io::Error::other("disk full")).is_broken_pipe());
    }

    #[test]
    fn exit_codes_follow_the_readme() {
        assert_eq!(AppError::OutWithoutFormat.exit_code(), 3);
        assert_eq!(AppError::Cycle(CycleError::JobPaused).exit_code(), 2);
        assert_eq!(AppError::Cycle(CycleError::PartialInitial).exit_code(), 4);
        let jwt = TokenError::Jwt(JwtError::Crypto("sign"));
        let token = |source| AppError::Token {
            file: "job.yaml".into(),
            source,
        };
        assert_eq!(token(jwt).exit_code(), 4);
        assert_eq!(token(TokenError::Empty("token_file".into())).exit_code(), 3);
    }

    /// An error with a cause its message does not name.
    #[derive(Debug)]
    struct ChainLink;

    impl std::fmt::Display for ChainLink {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("outer")
        }
    }

    impl Error for ChainLink {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&Inner)
        }
    }

    #[derive(Debug)]
    struct Inner;

    impl std::fmt::Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("inner")
        }
    }

    impl Error for Inner {}
}
