//! Rate limits on the credential paths (spec CIM-16-4, CIM-16-7): failed logins per user name
//! and per source address, registrations per source address.
//!
//! The counters live in the store, so that every route of a deployment counts together: an
//! attacker gains nothing by spreading guesses over routes. A limit is checked before any
//! password is hashed, so a refused guess costs the route one store call, not a hash.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use cim_backend::RateCount;
use cim_core::ErrorCode;

use crate::error::ApiError;
use crate::{LimitOptions, Route};

/// The window of the login limits.
const LOGIN_WINDOW: Duration = Duration::from_secs(5 * 60);
/// The window of the registration limit.
const REGISTRATION_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Where a call comes from, as far as limits are concerned: an IPv4 address, or the /64 of an
/// IPv6 one (a single host is usually given a whole /64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Source(IpAddr);

impl Source {
    /// The source of a call from `peer`, or from the address a trusted proxy put in the
    /// header the operator named (`--client-address-header`), when it holds one.
    pub(crate) fn of(peer: Option<SocketAddr>, forwarded: Option<&str>) -> Option<Self> {
        // The proxy appends the address it saw; earlier entries are the client's to forge.
        let forwarded =
            forwarded.and_then(|value| value.rsplit(',').next()).and_then(|a| a.trim().parse().ok());
        let ip = forwarded.or(peer.map(|p| p.ip()))?;
        Some(Self(match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let mut segments = v6.segments();
                    segments[4..].fill(0);
                    IpAddr::V6(segments.into())
                }
            },
            v4 => v4,
        }))
    }
}

/// What is counted.
pub(crate) enum Counter<'a> {
    /// Logins that failed for this user name (password logins: counted when they start,
    /// taken back when they succeed).
    FailedLoginsOf(&'a str),
    /// Logins that failed from this source, whatever the name (password logins as above).
    FailedLoginsFrom(Source),
    /// Registrations from this source.
    RegistrationsFrom(Source),
}

impl Counter<'_> {
    fn key(&self) -> String {
        match self {
            Self::FailedLoginsOf(name) => format!("login-failures:user:{name}"),
            Self::FailedLoginsFrom(source) => format!("login-failures:ip:{}", source.0),
            Self::RegistrationsFrom(source) => format!("registrations:ip:{}", source.0),
        }
    }

    /// The most events allowed in a window (0: no limit), and the window.
    fn limit(&self, options: &LimitOptions) -> (u64, Duration) {
        match self {
            Self::FailedLoginsOf(_) => (options.login_failures_per_user, LOGIN_WINDOW),
            Self::FailedLoginsFrom(_) => (options.login_failures_per_address, LOGIN_WINDOW),
            Self::RegistrationsFrom(_) => (options.registrations_per_address, REGISTRATION_WINDOW),
        }
    }

    fn what(&self) -> &'static str {
        match self {
            Self::FailedLoginsOf(_) => "too many failed logins for this user name",
            Self::FailedLoginsFrom(_) => "too many failed logins from your address",
            Self::RegistrationsFrom(_) => "too many registrations from your address",
        }
    }
}

fn rate_limited(counter: &Counter<'_>, count: RateCount) -> ApiError {
    let seconds = count.resets_in_ms.div_ceil(1000).max(1);
    ApiError::new(ErrorCode::RATE_LIMITED, format!("{}; try again in {seconds} s", counter.what()))
        .retry_after(seconds)
}

impl Route {
    /// Refuses with RATE_LIMITED when `counter` has reached its limit, without counting.
    pub(crate) async fn refuse_over_limit(&self, counter: Counter<'_>) -> Result<(), ApiError> {
        let (max, _) = counter.limit(&self.options.limits);
        if max == 0 {
            return Ok(());
        }
        let count = self.store.rates.rate_count(&counter.key()).await?;
        if count.count >= max {
            self.metrics.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(rate_limited(&counter, count));
        }
        Ok(())
    }

    /// Takes back an event counted up front by [`count_against_limit`](Self::count_against_limit):
    /// the attempt succeeded.
    pub(crate) async fn undo(&self, counter: Counter<'_>) {
        let (max, _) = counter.limit(&self.options.limits);
        if max > 0
            && let Err(e) = self.store.rates.rate_undo(&counter.key()).await
        {
            tracing::warn!(error = %e, "cannot take back a counted login");
        }
    }

    /// Counts one event on `counter`, whatever its count: a failure already answered.
    pub(crate) async fn record(&self, counter: Counter<'_>) {
        let (max, window) = counter.limit(&self.options.limits);
        if max > 0
            && let Err(e) = self.store.rates.rate_hit(&counter.key(), window.as_millis() as u64).await
        {
            tracing::warn!(error = %e, "cannot count a failed login");
        }
    }

    /// Counts one event on `counter`; refuses with RATE_LIMITED when that takes it over its
    /// limit.
    pub(crate) async fn count_against_limit(&self, counter: Counter<'_>) -> Result<(), ApiError> {
        let (max, window) = counter.limit(&self.options.limits);
        if max == 0 {
            return Ok(());
        }
        let count = self.store.rates.rate_hit(&counter.key(), window.as_millis() as u64).await?;
        if count.count > max {
            self.metrics.rate_limited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(rate_limited(&counter, count));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_addresses_and_ipv6_slash_64s() {
        let peer = |s: &str| Some(s.parse::<SocketAddr>().expect("address"));
        assert_eq!(Source::of(peer("10.0.0.1:5000"), None), Source::of(peer("10.0.0.1:6000"), None));
        assert_ne!(Source::of(peer("10.0.0.1:5000"), None), Source::of(peer("10.0.0.2:5000"), None));
        assert_eq!(
            Source::of(peer("[2001:db8:1:2:aaaa::1]:1"), None),
            Source::of(peer("[2001:db8:1:2:bbbb::9]:1"), None),
            "one /64"
        );
        assert_eq!(Source::of(peer("[::ffff:10.0.0.1]:1"), None), Source::of(peer("10.0.0.1:2"), None));
        // Behind a trusted proxy: the address the proxy appended, not what the client wrote.
        assert_eq!(
            Source::of(peer("127.0.0.1:1"), Some("6.6.6.6, 203.0.113.7")),
            Source::of(peer("203.0.113.7:1"), None)
        );
        assert_eq!(Source::of(None, None), None);
    }
}
