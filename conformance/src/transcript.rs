//! What went over the wire in one case, both ways, for failure reports.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use cim_proto::v1::{Frame, frame::Body, recipient};
use serde::Serialize;

use crate::case::Failure;

/// Which way a line went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Harness to implementation.
    Out,
    /// Implementation to harness.
    In,
    /// A remark by the harness (connects, closes, route calls).
    Note,
}

impl Direction {
    /// The arrow printed in text transcripts.
    pub fn arrow(self) -> &'static str {
        match self {
            Self::Out => "->",
            Self::In => "<-",
            Self::Note => "..",
        }
    }
}

/// One line of a transcript.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    /// Milliseconds since the case started.
    pub at_ms: u64,
    /// The connection (`c1`, `c2`, …) or `route`.
    pub conn: String,
    /// Which way.
    pub direction: Direction,
    /// The frame or remark, described compactly.
    pub text: String,
}

#[derive(Debug)]
struct Inner {
    started: Instant,
    lines: Vec<Line>,
    violations: Vec<Failure>,
    rate_limited: bool,
    /// The case provokes 429 on purpose.
    rate_limits_expected: bool,
}

/// A shared, append-only transcript. Cloning shares it.
///
/// It also collects *violations*: breaches of rules that hold for every frame an implementation
/// sends (registry codes, nothing after a fatal Error, …), noticed by the connections whatever
/// the case is checking. A case that otherwise passes fails with the first one.
#[derive(Clone, Debug)]
pub struct Transcript {
    inner: Arc<Mutex<Inner>>,
}

impl Default for Transcript {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                started: Instant::now(),
                lines: Vec::new(),
                violations: Vec::new(),
                rate_limited: false,
                rate_limits_expected: false,
            })),
        }
    }
}

impl Transcript {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends a line.
    pub fn push(&self, conn: &str, direction: Direction, text: impl Into<String>) {
        let mut inner = self.lock();
        let at_ms = u64::try_from(inner.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        inner.lines.push(Line { at_ms, conn: conn.to_owned(), direction, text: text.into() });
    }

    /// A copy of the lines so far.
    pub fn lines(&self) -> Vec<Line> {
        self.lock().lines.clone()
    }

    /// Records a breach of a rule that holds for every frame.
    pub fn violation(&self, conn: &str, failure: Failure) {
        self.push(conn, Direction::Note, format!("violates {}: {}", failure.requirement, failure.actual));
        self.lock().violations.push(failure);
    }

    /// The breaches recorded so far.
    pub fn violations(&self) -> Vec<Failure> {
        self.lock().violations.clone()
    }

    /// Records that the route refused one of the harness's calls with 429: a limit of the
    /// deployment, not a fault, but the case cannot go on through it.
    pub fn rate_limited(&self) {
        self.lock().rate_limited = true;
    }

    /// Marks the case as one that provokes 429 on purpose: its failures stay failures.
    pub fn expect_rate_limits(&self) {
        self.lock().rate_limits_expected = true;
    }

    /// Whether the route refused a call of the case with 429 that the case did not provoke.
    pub fn was_rate_limited(&self) -> bool {
        let inner = self.lock();
        inner.rate_limited && !inner.rate_limits_expected
    }
}

/// A frame in one line: field names as in the proto, tokens shortened, bodies as text when they
/// are short UTF-8.
pub fn describe(frame: &Frame) -> String {
    let Some(body) = &frame.body else { return "Frame {} (no body)".to_owned() };
    match body {
        Body::Hello(h) => {
            let resume = h.resume.as_ref().map_or("none".to_owned(), |r| {
                format!("{{epoch: {}, last_acked_seq: {}}}", r.epoch, r.last_acked_seq)
            });
            format!(
                "Hello {{versions: {:?}, token: {}, device_id: {:?}, resume: {resume}, max_frame_size: {}, heartbeat_interval_ms: {}}}",
                h.versions,
                short_secret(&h.token),
                clip(&h.device_id),
                h.max_frame_size,
                h.heartbeat_interval_ms
            )
        }
        Body::Welcome(w) => {
            let resume = w.resume.as_ref().map_or("none".to_owned(), |r| {
                let outcome = cim_proto::v1::ResumeOutcome::try_from(r.outcome)
                    .map(|o| enum_name(o.as_str_name(), "RESUME_OUTCOME_"));
                format!(
                    "{{outcome: {}{}, epoch: {}, next_seq: {}}}",
                    r.outcome,
                    outcome.unwrap_or_default(),
                    r.epoch,
                    r.next_seq
                )
            });
            let limits = w.limits.as_ref().map_or("none".to_owned(), |l| {
                format!(
                    "{{max_frame_size: {}, max_body_size: {}, max_in_flight: {}, sends_per_second: {}, send_burst: {}}}",
                    l.max_frame_size, l.max_body_size, l.max_in_flight, l.sends_per_second, l.send_burst
                )
            });
            format!(
                "Welcome {{version: {}, session_id: {:?}, user_id: {:?}, heartbeat_interval_ms: {}, heartbeat_timeout_ms: {}, limits: {limits}, resume: {resume}, server_id: {:?}}}",
                w.version,
                clip(&w.session_id),
                clip(&w.user_id),
                w.heartbeat_interval_ms,
                w.heartbeat_timeout_ms,
                clip(&w.server_id)
            )
        }
        Body::Ping(p) => format!("Ping {{nonce: {}}}", p.nonce),
        Body::Pong(p) => format!("Pong {{nonce: {}}}", p.nonce),
        Body::Send(s) => format!(
            "Send {{client_msg_id: {:?}, to: {}, content_type: {:?}, body: {}}}",
            clip(&s.client_msg_id),
            recipient_text(s.to.as_ref()),
            clip(&s.content_type),
            body_text(&s.body)
        ),
        Body::SendAck(a) => format!(
            "SendAck {{client_msg_id: {:?}, message_id: {:?}, sent_at_ms: {}, duplicate: {}, live_only: {}}}",
            clip(&a.client_msg_id),
            a.message_id,
            a.sent_at_ms,
            a.duplicate,
            a.live_only
        ),
        Body::Deliver(d) => format!(
            "Deliver {{seq: {}, message_id: {:?}, from_user_id: {:?}, to: {}, content_type: {:?}, body: {}, sent_at_ms: {}}}",
            d.seq,
            d.message_id,
            clip(&d.from_user_id),
            recipient_text(d.to.as_ref()),
            clip(&d.content_type),
            body_text(&d.body),
            d.sent_at_ms
        ),
        Body::DeliverAck(a) => format!("DeliverAck {{up_to_seq: {}}}", a.up_to_seq),
        Body::Error(e) => format!(
            "Error {{code: {}{}, message: {:?}, client_msg_id: {:?}, retry_after_ms: {}}}",
            e.code,
            crate::spec::code_name(e.code).map(|n| format!(" {n}")).unwrap_or_default(),
            clip(&e.message),
            clip(&e.client_msg_id),
            e.retry_after_ms
        ),
        Body::GoAway(g) => format!(
            "GoAway {{reason: {}{}, message: {:?}, reconnect_after_ms: {}}}",
            g.reason,
            cim_proto::v1::GoAwayReason::try_from(g.reason)
                .map(|r| enum_name(r.as_str_name(), "GO_AWAY_REASON_"))
                .unwrap_or_default(),
            clip(&g.message),
            g.reconnect_after_ms
        ),
    }
}

/// ` SHUTDOWN` for `GO_AWAY_REASON_SHUTDOWN`: an enum value's name after its number.
fn enum_name(name: &str, prefix: &str) -> String {
    format!(" {}", name.strip_prefix(prefix).unwrap_or(name))
}

/// Raw bytes for the transcript: hex, shortened past 48 bytes.
pub fn hex(bytes: &[u8]) -> String {
    let shown: String = bytes.iter().take(48).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 48 { format!("{shown}… ({} bytes)", bytes.len()) } else { shown }
}

fn recipient_text(to: Option<&cim_proto::v1::Recipient>) -> String {
    match to.and_then(|r| r.kind.as_ref()) {
        None => "none".to_owned(),
        Some(recipient::Kind::UserId(u)) => format!("{{user_id: {:?}}}", clip(u)),
        Some(recipient::Kind::GroupId(g)) => format!("{{group_id: {:?}}}", clip(g)),
        Some(recipient::Kind::Everyone(_)) => "{everyone}".to_owned(),
    }
}

fn body_text(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) if text.len() <= 64 => format!("{text:?}"),
        _ => format!("<{} bytes>", body.len()),
    }
}

/// Long strings are cut so one line stays readable.
fn clip(text: &str) -> String {
    if text.len() <= 80 {
        return text.to_owned();
    }
    let mut end = 60;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…({} bytes)", &text[..end], text.len())
}

/// A secret is never written in full (the spec asks the same of implementations, CIM-5.4-1).
fn short_secret(token: &str) -> String {
    if token.is_empty() {
        return "\"\"".to_owned();
    }
    let mut end = token.len().min(8);
    while !token.is_char_boundary(end) {
        end -= 1;
    }
    format!("\"{}…\" ({} bytes)", &token[..end], token.len())
}

#[cfg(test)]
mod enum_name_tests {
    use cim_proto::v1::{GoAway, ResumeResult, Welcome};

    use super::*;

    #[test]
    fn enum_values_show_their_names() {
        let go_away = Frame { body: Some(Body::GoAway(GoAway { reason: 2, ..Default::default() })) };
        assert!(describe(&go_away).contains("reason: 2 SESSION_REPLACED"), "{}", describe(&go_away));
        let welcome = Frame {
            body: Some(Body::Welcome(Welcome {
                resume: Some(ResumeResult { outcome: 2, epoch: 1, next_seq: 1 }),
                ..Default::default()
            })),
        };
        assert!(describe(&welcome).contains("outcome: 2 RESUMED"), "{}", describe(&welcome));
        let unknown = Frame { body: Some(Body::GoAway(GoAway { reason: 99, ..Default::default() })) };
        assert!(describe(&unknown).contains("reason: 99,"), "{}", describe(&unknown));
    }
}
