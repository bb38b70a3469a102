//! Secrets an operator configures (the token secret, the JWT secret, the API key): refusing
//! the ones anybody could know, and generating good ones.
//!
//! A secret copied from a README, a test or a blog post, or typed by hand ("aaaa…",
//! "0123…"), protects nothing: whoever read the same page can mint tokens with it. The checks
//! here are heuristics, so they refuse only what is clearly weak; a secret generated as the
//! error message says (`openssl rand -hex 32`) always passes.

use std::collections::HashSet;

/// Fewest bytes of a configured secret (spec §5.5: 32 random bytes).
pub const MIN_SECRET_BYTES: usize = 32;

/// Fewest bits of entropy, estimated from the secret's own character frequencies.
const MIN_ESTIMATED_BITS: f64 = 128.0;

/// Secrets printed in this project's documents, tests and scripts, and the usual placeholders.
/// A test keeps this list honest: every secret the README shows is refused.
const PUBLISHED: &[&str] = &[
    "change-me-to-32-or-more-random-bytes",
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    "0123456789abcdef0123456789abcdef",
    "conformance-jwt-secret-0123456789",
    "cim-bench-jwt-secret-of-32-bytes-or-more",
    "python-sdk-tests-jwt-secret-0123456789",
];

/// Words that generated secrets do not contain (hex cannot hold any of them) and that
/// placeholders and hand-made secrets nearly always do.
const PLACEHOLDER_WORDS: &[&str] = &[
    "change",
    "secret",
    "passw",
    "example",
    "replace",
    "random",
    "sample",
    "default",
    "test",
    "demo",
    "dummy",
    "token",
    "letmein",
    "qwerty",
    "conformance",
    "your-",
    "insert",
    "placeholder",
];

/// Why a configured secret was refused. The message never repeats the secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WeakSecret {
    /// Shorter than [`MIN_SECRET_BYTES`].
    #[error("is {0} bytes long; it must be at least {MIN_SECRET_BYTES}")]
    TooShort(usize),
    /// Printed in this project's documents or tests, or a common placeholder.
    #[error("is an example published in cim's documents or tests")]
    Published,
    /// Contains a word that marks a placeholder or a hand-made secret.
    #[error("contains the word {0:?}, as placeholders do")]
    Placeholder(&'static str),
    /// A pattern (one character, a repeated chunk, a run like 0123…) rather than random bytes.
    #[error("is a pattern ({0}), not random bytes")]
    Pattern(&'static str),
}

/// Checks a secret an operator configured. `Err` explains the weakness without quoting the
/// secret; [`explain_weak_secret`] turns it into a line for people.
pub fn check_secret(secret: &str) -> Result<(), WeakSecret> {
    let bytes = secret.as_bytes();
    if PUBLISHED.iter().any(|known| known.eq_ignore_ascii_case(secret)) {
        return Err(WeakSecret::Published);
    }
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(WeakSecret::TooShort(bytes.len()));
    }
    let lower = secret.to_ascii_lowercase();
    if let Some(word) = PLACEHOLDER_WORDS.iter().find(|word| lower.contains(*word)) {
        return Err(WeakSecret::Placeholder(word));
    }
    if bytes.iter().collect::<HashSet<_>>().len() < 8 {
        return Err(WeakSecret::Pattern("fewer than 8 different characters"));
    }
    if has_period(bytes) {
        return Err(WeakSecret::Pattern("one chunk repeated"));
    }
    let steps = bytes.windows(2).filter(|pair| pair[0].abs_diff(pair[1]) == 1).count();
    if steps * 2 > bytes.len() - 1 {
        return Err(WeakSecret::Pattern("mostly runs such as 0123 or abcd"));
    }
    if estimated_bits(bytes) < MIN_ESTIMATED_BITS {
        return Err(WeakSecret::Pattern("too little variety for its length"));
    }
    Ok(())
}

/// The error line for a refused secret, naming the option and how to make a good one.
pub fn explain_weak_secret(option: &str, weakness: &WeakSecret) -> String {
    format!(
        "{option} {weakness}: anyone who knows it could forge credentials. \
         Generate one with `openssl rand -hex 32` (or `cim secret`)"
    )
}

/// A new secret: 32 random bytes, as 64 hex digits.
pub fn generate_secret() -> String {
    crate::random_bytes::<32>().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `bytes` is one chunk repeated (to the end, the last copy may be cut short).
fn has_period(bytes: &[u8]) -> bool {
    (1..=bytes.len() / 2).any(|period| bytes.iter().zip(&bytes[period..]).all(|(a, b)| a == b))
}

/// Length times the Shannon entropy of the character frequencies: an upper bound on what
/// the secret can hold, low for text with few distinct or very uneven characters.
fn estimated_bits(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    let per_char: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum();
    per_char * len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_always_pass() {
        for _ in 0..2_000 {
            let secret = generate_secret();
            assert_eq!(check_secret(&secret), Ok(()), "{secret}");
        }
    }

    #[test]
    fn typed_and_patterned_secrets_are_refused() {
        let refused = [
            ("a".repeat(32), "one character"),
            ("ab".repeat(20), "two characters"),
            ("0123456789abcdef".repeat(4), "a run"),
            ("Zx9!".repeat(10), "a repeated chunk"),
            ("correct-horse-battery-staple".to_owned(), "too short"),
            ("ThisIsMyVeryOwnSecretForTheCluster".to_owned(), "a word"),
            ("qwertyuiopasdfghjklzxcvbnm123456".to_owned(), "a keyboard row"),
            ("abcdefghijklmnopqrstuvwxyz0123456789".to_owned(), "the alphabet"),
        ];
        for (secret, what) in refused {
            assert!(check_secret(&secret).is_err(), "{what}: {secret}");
        }
    }

    #[test]
    fn a_password_manager_style_secret_passes() {
        assert_eq!(check_secret("k7#Qv9w!Lr2$Tz8@Mp4^Xn6&Bc1*Hd5%"), Ok(()));
        assert_eq!(check_secret("q3F8bZt1YwLx0RkPn9VaEc2MuJ7sHd6G"), Ok(()));
    }

    #[test]
    fn the_message_never_contains_the_secret() {
        let secret = "a".repeat(40);
        let weakness = check_secret(&secret).expect_err("weak");
        assert!(!explain_weak_secret("--token-secret", &weakness).contains(&secret));
    }
}
