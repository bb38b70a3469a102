//! Process plumbing the binaries share.

/// Waits for Ctrl-C or SIGTERM: the signals that start a graceful shutdown.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// The soft limit on open files of this process, from `/proc/self/limits` (Linux): what bounds
/// the connections a process can hold.
pub fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
}

/// Why a route or server could not start. `Display` is one line a person can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The token secret is too weak to accept (spec §5.5 asks for 32 random bytes). The
    /// message names the option and how to generate a good secret, never the secret itself.
    #[error("{}", crate::secret::explain_weak_secret("--token-secret (CIM_TOKEN_SECRET)", .0))]
    WeakTokenSecret(crate::secret::WeakSecret),
    /// The store cannot be reached or refused to start.
    #[error("{0}")]
    Store(String),
    /// The registry cannot be reached or refused to start.
    #[error("{0}")]
    Registry(String),
}

impl StartError {
    /// The exit code it deserves: 2 for a usage error (a flag to fix), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::WeakTokenSecret(_) => 2,
            Self::Store(_) | Self::Registry(_) => 1,
        }
    }
}

/// Checks a token secret given on the command line (spec §5.5 asks for 32 random bytes).
pub fn check_token_secret(secret: &str) -> Result<(), StartError> {
    crate::secret::check_secret(secret).map_err(StartError::WeakTokenSecret)
}

/// The flags a route and a server share: the token secret, the backends and logging.
#[derive(clap::Args, Clone, Debug)]
pub struct NodeArgs {
    /// Secret shared by the deployment's routes and servers to sign session tokens and
    /// their internal calls: 32 random bytes or more, e.g. from `openssl rand -hex 32`.
    #[arg(long, env = "CIM_TOKEN_SECRET", hide_env_values = true)]
    pub token_secret: String,
    /// Store and registry.
    #[command(flatten)]
    pub backends: crate::BackendArgs,
    /// Log format.
    #[command(flatten)]
    pub logs: crate::logging::LogArgs,
}

/// What a route or server runs on.
pub struct Node {
    /// The chosen store.
    pub store: crate::Stores,
    /// The chosen registry.
    pub registry: std::sync::Arc<dyn crate::Registry>,
    /// Token keys from the shared secret.
    pub keys: crate::TokenKeys,
}

impl NodeArgs {
    /// Sets up logging, checks the secret and connects the backends.
    pub async fn open(&self) -> Result<Node, StartError> {
        crate::logging::init(&self.logs, "info");
        check_token_secret(&self.token_secret)?;
        let store = self.backends.store().await?;
        let registry = self.backends.registry().await?;
        Ok(Node {
            store: crate::Stores::new(store),
            registry,
            keys: crate::TokenKeys::new(self.token_secret.clone().into_bytes()),
        })
    }
}
