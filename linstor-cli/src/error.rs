//! The CLI's error type: what went wrong, in words an operator acts on, and the exit code
//! LINSTOR's client uses for it.

/// LINSTOR's client exit codes.
pub mod exit {
    /// Everything succeeded.
    pub const OK: i32 = 0;
    /// Anything else.
    pub const UNKNOWN_ERROR: i32 = 1;
    /// The command line did not parse.
    pub const ARGPARSE_ERROR: i32 = 2;
    /// The object asked for does not exist.
    pub const OBJECT_NOT_FOUND: i32 = 3;
    /// The controller answered with at least one error entry.
    pub const API_ERROR: i32 = 10;
    /// No controller could be reached.
    pub const CONNECTION_ERROR: i32 = 20;
    /// A controller did not answer in time.
    pub const CONNECTION_TIMEOUT: i32 = 21;
    /// A controller answered something that is not LINSTOR's REST API.
    pub const UNEXPECTED_REPLY: i32 = 22;
}

/// Why a command failed (before or outside the controller's own error entries).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input, found before anything was sent.
    #[error("{message}")]
    Usage {
        /// What is wrong, naming the value.
        message: String,
        /// What to do instead.
        correction: String,
    },
    /// No controller answered.
    #[error("cannot reach a LINSTOR controller: {tried}")]
    Connection {
        /// Each URL tried with its error.
        tried: String,
        /// True if every failure was a timeout.
        timeout: bool,
    },
    /// A controller answered, but not with LINSTOR's REST API.
    #[error("unexpected reply from {url}: {reason}")]
    UnexpectedReply {
        /// The request URL.
        url: String,
        /// What was wrong with the reply.
        reason: String,
    },
    /// The object named does not exist.
    #[error("{0}")]
    NotFound(String),
}

impl CliError {
    /// The exit code LINSTOR's client uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage { .. } => exit::ARGPARSE_ERROR,
            CliError::Connection { timeout: true, .. } => exit::CONNECTION_TIMEOUT,
            CliError::Connection { .. } => exit::CONNECTION_ERROR,
            CliError::UnexpectedReply { .. } => exit::UNEXPECTED_REPLY,
            CliError::NotFound(_) => exit::OBJECT_NOT_FOUND,
        }
    }

    /// What the operator can do about it.
    pub fn correction(&self) -> String {
        match self {
            CliError::Usage { correction, .. } => correction.clone(),
            CliError::Connection { .. } => "start the controller, or point this client at it with --controllers HOST[:PORT], LS_CONTROLLERS or controllers= in /etc/linstor/linstor-client.conf".into(),
            CliError::UnexpectedReply { .. } => "check that --controllers names a LINSTOR controller's REST port (3370)".into(),
            CliError::NotFound(_) => "list what exists with the matching 'list' command".into(),
        }
    }
}
