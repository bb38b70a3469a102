//! §15.2: a server's internal push service answers only the processes of its deployment.
//!
//! The harness finds a server's internal endpoint through the route's Servers call (it needs
//! the API key) and calls it as an outsider would: unsigned, signed with another secret, and,
//! when it has the deployment's token secret, with a stale signature.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cim_proto::v1::internal_push_client::InternalPushClient;
use cim_proto::v1::{Deliver, EndSessionsRequest, GoAwayReason, Push, PushBatch, frame::Body};
use hmac::Mac;
use serde_json::Value;
use tonic::transport::{Channel, Endpoint};

use crate::case::{Case, Cx, Stop, check, expect_pong, fail};
use crate::frames;

pub(super) fn cases() -> Vec<Case> {
    vec![crate::case!("server.internal.authenticated",
        "The internal push service refuses, without acting on them, calls that do not come from the deployment",
        covers: ["CIM-15.2-7", "CIM-15.2-9", "CIM-15.2-8"], tags: ["server", "cluster", "security", "needs-api-key"], budget: 30, authenticated)]
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Marks the message this case tries to inject, so that it is recognised if it gets through.
const INJECTED: &str = "cim-conformance: injected through the internal port";

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else { return Vec::new() };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `x-cim-internal-auth` for `token_secret` at `ms`, in the reference form of §15.2.
fn internal_auth(token_secret: &[u8], ms: u64) -> String {
    let key = hmac(token_secret, b"cim internal push v1");
    let signed = format!("v1.{ms}");
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(hmac(&key, signed.as_bytes())))
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn signed<T>(message: T, auth: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = auth.and_then(|v| v.parse().ok()) {
        request.metadata_mut().insert("x-cim-internal-auth", value);
    }
    request
}

/// The internal endpoint of a server the route lists.
async fn internal_endpoint(cx: &Cx) -> Result<String, Stop> {
    let key = cx.target.api_key.clone().ok_or_else(|| {
        Stop::NotApplicable("needs the deployment's API key (--api-key) to find a server".into())
    })?;
    let answer = cx
        .route
        .call_raw("GET", "/v1/servers", &[("x-cim-api-key", &key)], None)
        .await
        .map_err(|e| Stop::Error(e.to_string()))?;
    answer.body["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("internal_endpoint").and_then(Value::as_str))
        .find(|e| !e.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Stop::NotApplicable("the route lists no server with an internal endpoint".into()))
}

async fn authenticated(cx: &mut Cx) -> Result<(), Stop> {
    let endpoint = internal_endpoint(cx).await?;
    let channel = match Endpoint::from_shared(format!("http://{endpoint}")) {
        Ok(endpoint) => endpoint.connect_timeout(cx.answer_wait()).timeout(cx.answer_wait()).connect().await,
        Err(e) => return Err(Stop::Error(format!("internal endpoint {endpoint:?}: {e}"))),
    };
    let Ok(channel) = channel else {
        // A port the harness cannot reach is protected by the network; nothing to test.
        return Err(Stop::NotApplicable(format!(
            "the internal endpoint {endpoint} is not reachable from here"
        )));
    };
    let mut client: InternalPushClient<Channel> = InternalPushClient::new(channel);
    let victim = cx.user("victim").await?;
    let mut session = cx.open(&victim, "d1").await?;
    let inject = || PushBatch {
        from_server_id: "cim-conformance".into(),
        pushes: vec![Push {
            user_id: String::new(),
            except_session_id: String::new(),
            deliver: Some(Deliver {
                seq: 0,
                message_id: "01HZZZZZZZZZZZZZZZZZZZZZZZ".into(),
                from_user_id: "admin".into(),
                content_type: "text/plain".into(),
                body: INJECTED.as_bytes().to_vec().into(),
                ..Default::default()
            }),
        }],
    };
    let end = || EndSessionsRequest {
        user_id: victim.id.clone(),
        session_id: String::new(),
        reason: GoAwayReason::LoggedOut as i32,
    };
    let foreign = internal_auth(b"not the deployment's token secret, 32+ bytes", now_ms());
    let mut attempts: Vec<(&'static str, &'static str, Option<String>)> = vec![
        ("CIM-15.2-7", "an unsigned call", None),
        ("CIM-15.2-9", "a call signed with another secret", Some(foreign)),
    ];
    if let Some(secret) = cx.target.token_secret.clone() {
        let stale = internal_auth(secret.as_bytes(), now_ms().saturating_sub(5 * 60_000));
        attempts.push(("CIM-15.2-9", "a call signed five minutes ago", Some(stale)));
    }
    for (requirement, what, auth) in &attempts {
        for (call, outcome) in [
            ("Push", client.push(signed(inject(), auth.as_deref())).await.map(|_| ())),
            ("EndSessions", client.end_sessions(signed(end(), auth.as_deref())).await.map(|_| ())),
        ] {
            check(
                requirement,
                outcome.as_ref().is_err_and(|s| s.code() == tonic::Code::Unauthenticated),
                format!("{call} in {what}: gRPC status UNAUTHENTICATED"),
                || format!("{outcome:?}"),
            )?;
        }
    }
    // Refused means not acted on: no injected message, and the session is still open.
    let leaked = session
        .conn
        .find(cx.wait(Duration::from_millis(500)), |frame| match &frame.body {
            Some(Body::Deliver(d)) if d.body.as_ref() == INJECTED.as_bytes() => Some(()),
            Some(Body::GoAway(_)) => Some(()),
            _ => None,
        })
        .await;
    if leaked.is_ok() {
        return Err(fail(
            "CIM-15.2-7",
            "no injected Deliver and no GoAway after refused calls",
            "one of them arrived",
        ));
    }
    session.conn.send(&frames::ping(77)).await;
    expect_pong(&mut session.conn, 77, cx.answer_wait()).await?;
    // With the deployment's secret, a call in the reference form is accepted.
    if let Some(secret) = cx.target.token_secret.clone() {
        let auth = internal_auth(secret.as_bytes(), now_ms());
        let empty = PushBatch { from_server_id: "cim-conformance".into(), pushes: Vec::new() };
        let outcome = client.push(signed(empty, Some(&auth))).await;
        check(
            "CIM-15.2-8",
            outcome.is_ok(),
            "an empty Push signed in the reference form is accepted",
            || format!("{outcome:?}"),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_form_matches_the_spec_example() {
        let secret: Vec<u8> = (0u8..32).collect();
        assert_eq!(
            internal_auth(&secret, 1_700_000_000_000),
            "v1.1700000000000.8JiJeQMUSpPPZ06G-T_C7u2rtC1blAtjASKFwMdq67I"
        );
    }
}
