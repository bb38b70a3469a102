//! The server's shutdown, as its connections see it: a flag they read, and the wakers of the
//! connection tasks that wait, so that a waiting connection holds no future for a signal sent
//! once in the process's life (a watch channel's `changed()` future is 120 bytes, in every
//! idle connection's task).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

/// Shared by every listener of a server.
#[derive(Default)]
pub(crate) struct Shutdown {
    /// Set first: new sessions are refused from then on.
    draining: AtomicBool,
    /// Set once the server has left the registry: connections say GoAway.
    started: AtomicBool,
    waiting: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    next: u64,
    tasks: HashMap<u64, Waker>,
}

/// A connection's place in the waiting list: taken at its first wait, given back by
/// [`Shutdown::forget`] when it ends.
#[derive(Default)]
pub(crate) struct Registration(Option<u64>);

impl Shutdown {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Refuses new sessions from now on.
    pub(crate) fn drain(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether new sessions are refused.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Tells every connection, waking those that wait.
    pub(crate) fn start(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.started.store(true, Ordering::Release);
        let tasks = std::mem::take(&mut self.lock().tasks);
        for task in tasks.into_values() {
            task.wake();
        }
    }

    /// Whether shutdown has started.
    pub(crate) fn is_started(&self) -> bool {
        self.started.load(Ordering::Acquire)
    }

    /// Ready once shutdown has started. Registers the task's waker on the first call only: a
    /// Tokio task's waker stays the same for its whole life, and taking a lock shared by every
    /// connection on each wait would cost the message path.
    pub(crate) fn poll_started(&self, registration: &mut Registration, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_started() {
            return Poll::Ready(());
        }
        if registration.0.is_none() {
            let mut waiting = self.lock();
            // Checked again under the lock: `start` may have taken the list meanwhile.
            if self.is_started() {
                return Poll::Ready(());
            }
            let id = waiting.next;
            waiting.next += 1;
            waiting.tasks.insert(id, cx.waker().clone());
            registration.0 = Some(id);
        }
        Poll::Pending
    }

    /// Leaves the waiting list; call when the connection ends.
    pub(crate) fn forget(&self, registration: Registration) {
        if let Some(id) = registration.0 {
            self.lock().tasks.remove(&id);
        }
    }

    /// Connections waiting, for tests.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().tasks.len()
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_waiting_connection_is_woken_once_shutdown_starts_and_then_forgotten() {
        let shutdown = Arc::new(Shutdown::default());
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                let mut registration = Registration::default();
                poll_fn(|cx| shutdown.poll_started(&mut registration, cx)).await;
                shutdown.forget(registration);
            }
        });
        while shutdown.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        assert!(!shutdown.is_draining());
        shutdown.start();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("no panic");
        assert!(shutdown.is_draining() && shutdown.is_started());
        assert_eq!(shutdown.waiting(), 0, "the list was emptied");
    }

    #[tokio::test]
    async fn a_connection_that_ends_first_leaves_the_list() {
        let shutdown = Shutdown::default();
        let mut registration = Registration::default();
        let pending = poll_fn(|cx| Poll::Ready(shutdown.poll_started(&mut registration, cx))).await;
        assert!(pending.is_pending());
        assert_eq!(shutdown.waiting(), 1);
        shutdown.forget(registration);
        assert_eq!(shutdown.waiting(), 0);
    }

    #[tokio::test]
    async fn a_connection_that_comes_after_the_start_sees_it_without_waiting() {
        let shutdown = Shutdown::default();
        shutdown.start();
        let mut registration = Registration::default();
        poll_fn(|cx| shutdown.poll_started(&mut registration, cx)).await;
        assert_eq!(shutdown.waiting(), 0);
    }
}
