//! Password hashing for built-in accounts (argon2id, PHC strings).

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use crate::random_bytes;

type Job = Box<dyn FnOnce() + Send>;

/// Threads that hash passwords, with a bounded queue in front of them.
///
/// Each argon2id run needs 19 MiB of working memory. Allocated per hash on tokio's blocking
/// pool, the allocator kept it in arena after arena: one conformance run against `cim up` left
/// 2.6 GB resident. A fixed set of threads, each reusing one buffer, bounds both the memory
/// (19 MiB per thread) and the CPU taken from everything else. The queue is bounded too: a
/// flood of logins must not make every legitimate one wait behind it (each hash takes tens of
/// milliseconds), so beyond [`QUEUED_PER_THREAD`] per thread new work is refused at once.
struct Hashers {
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
    /// Hashes waiting or running now.
    queued: Arc<AtomicUsize>,
    /// Most hashes waiting or running at once.
    capacity: usize,
}

/// Hashes waiting or running, per hashing thread, beyond which new ones are refused.
const QUEUED_PER_THREAD: usize = 16;

/// The process's hashers: one thread per core, started on first use.
static HASHERS: LazyLock<Hashers> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    Hashers::start(threads, QUEUED_PER_THREAD * threads)
});

/// Why a password could not be hashed or checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashingError {
    /// Every hashing thread is busy and the queue is full: try again in a moment.
    #[error("password hashing is busy; try again shortly")]
    Busy,
    /// No hashing thread is running.
    #[error("password hashing failed")]
    Failed,
}

impl Hashers {
    fn start(threads: usize, capacity: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("cim-password-{n}")).spawn(move || {
                loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self { jobs: Mutex::new(jobs), queued: Arc::new(AtomicUsize::new(0)), capacity }
    }

    /// Runs `work` on a hashing thread, unless the queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(HashingError::Busy);
        }
        // Counted out however the job ends: run, dropped unrun, or never sent.
        struct Queued(Arc<AtomicUsize>);
        impl Drop for Queued {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let queued = Queued(self.queued.clone());
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _queued = queued;
            let _ = done.send(work());
        });
        self.jobs.lock().map_err(|_| HashingError::Failed)?.send(job).map_err(|_| HashingError::Failed)?;
        result.await.map_err(|_| HashingError::Failed)
    }
}

async fn on_hasher<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashingError> {
    HASHERS.run(work).await
}

/// A hash of a random password, checked for unknown user names so that they take as long to
/// refuse as a wrong password (spec CIM-14.2-6).
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password(&format!("{:?}", random_bytes::<16>())));

/// [`hash_password`] on a hashing thread (one per core); [`HashingError::Busy`] when too many
/// hashes wait already.
pub async fn hash_password_bounded(password: String) -> Result<String, HashingError> {
    on_hasher(move || hash_password(&password)).await
}

/// [`verify_password`] on a hashing thread (one per core); [`HashingError::Busy`] when too many
/// hashes wait already. `hash` is `None` for a user name with no password account: a dummy
/// hash is checked instead, and the answer is false.
pub async fn verify_password_bounded(password: String, hash: Option<String>) -> Result<bool, HashingError> {
    on_hasher(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            let _ = verify_password(&password, &DUMMY_HASH);
            false
        }
    })
    .await
}

thread_local! {
    /// argon2's working memory, kept by each thread that hashes instead of allocated per hash.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Most working memory a stored hash may ask for (64 MiB), so that a tampered hash in the
/// store cannot make a login allocate without bound.
const MAX_BLOCKS: usize = 64 * 1024;

fn hash_into(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let count = argon2.params().block_count();
    if count > MAX_BLOCKS {
        return false;
    }
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..count]).is_ok()
    })
}

/// The PHC string of `password`'s argon2id hash (default parameters) with a random salt.
pub fn hash_password(password: &str) -> String {
    let salt =
        SaltString::encode_b64(&random_bytes::<16>()).unwrap_or_else(|_| unreachable!("16 bytes fit a salt"));
    let argon2 = Argon2::default();
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.as_salt().decode_b64(&mut salt_bytes) else { return String::new() };
    let mut out = [0u8; 32];
    if !hash_into(&argon2, password.as_bytes(), salt_bytes, &mut out) {
        return String::new();
    }
    let (Ok(params), Ok(hash)) = (ParamsString::try_from(argon2.params()), Output::new(&out)) else {
        return String::new();
    };
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    }
    .to_string()
}

/// Whether `password` matches the PHC string `hash`. A malformed or empty hash matches
/// nothing (accounts created by a JWT login have no password).
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) =
        (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params);
    hash_into(&argon2, password.as_bytes(), salt_bytes, &mut out)
        && bool::from(out.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_password_verifies_and_wrong_one_does_not() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("battery staple", &hash));
        assert!(!verify_password("anything", ""));
        assert_ne!(hash, hash_password("correct horse"), "salted");
    }

    #[test]
    fn hashes_of_the_argon2_crate_and_ours_verify_each_other() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap_or_else(|_| unreachable!());
        let theirs =
            Argon2::default().hash_password(b"pw-1234567", &salt).map(|h| h.to_string()).unwrap_or_default();
        assert!(verify_password("pw-1234567", &theirs));
        assert!(!verify_password("pw-7654321", &theirs));
        let ours = hash_password("pw-1234567");
        let parsed = PasswordHash::new(&ours).unwrap_or_else(|e| panic!("{e}"));
        assert!(Argon2::default().verify_password(b"pw-1234567", &parsed).is_ok());
    }

    #[tokio::test]
    async fn bounded_forms_agree_and_an_unknown_user_never_matches() {
        let hash = hash_password_bounded("correct horse".into()).await.unwrap_or_default();
        assert_eq!(verify_password_bounded("correct horse".into(), Some(hash.clone())).await, Ok(true));
        assert_eq!(verify_password_bounded("battery staple".into(), Some(hash)).await, Ok(false));
        assert_eq!(verify_password_bounded("correct horse".into(), None).await, Ok(false));
    }

    #[tokio::test]
    async fn a_flood_of_hashes_is_shed_instead_of_queued_without_bound() {
        let hashers = Hashers::start(1, 2);
        let flood: Vec<_> = (0..12).map(|_| hashers.run(|| hash_password("flood"))).collect();
        let results = futures_util::future::join_all(flood).await;
        let busy = results.iter().filter(|r| **r == Err(HashingError::Busy)).count();
        assert_eq!(busy, 10, "all but the two the queue holds are refused at once");
        assert!(results.iter().filter(|r| r.is_ok()).count() == 2, "and those hash");
        assert!(
            hashers.run(|| hash_password("after")).await.is_ok(),
            "once the flood is over, it works again"
        );
    }
}
