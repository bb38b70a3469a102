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

/// Checks a token secret given on the command line (spec §5.5 asks for 32 random bytes).
pub fn check_token_secret(secret: &str) -> Result<(), String> {
    if secret.len() < 32 {
        return Err("--token-secret must be at least 32 bytes (it signs session tokens)".to_owned());
    }
    Ok(())
}
