//! §5: session tokens as the server verifies them, and the user they name.

use cim_proto::v1::frame::Body;

use crate::case::{Case, Cx, Stop, check, expect_ack, expect_deliver, expect_fatal, fail};
use crate::frames::{self, frame, hello};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("server.token.refused", "An empty, garbage, altered or over-long token gets UNAUTHENTICATED",
            covers: ["CIM-5.2-1"], tags: ["token", "security"], budget: 30, refused),
        crate::case!("server.token.other-device", "A token presented with another device_id gets UNAUTHENTICATED, without the token in the message",
            covers: ["CIM-5.2-3", "CIM-5.4-1"], tags: ["token", "security"], budget: 20, other_device),
        crate::case!("server.token.user-from-token", "The session's user, and the sender of its messages, come from the token only",
            covers: ["CIM-5.2-5", "CIM-7.1-10", "CIM-4.4-3"], tags: ["token", "security"], budget: 20, user_from_token),
        crate::case!("server.token.expired", "A token past its expiry gets TOKEN_EXPIRED, for its own device or another",
            covers: ["CIM-5.2-2", "CIM-5.5-8"], tags: ["token", "needs-secret"], budget: 20, expired),
        crate::case!("server.token.reference-format", "A reference-format token with members in any order, unknown members and whitespace is accepted",
            covers: ["CIM-5.5-7", "CIM-5.2-5"], tags: ["token", "needs-secret"], budget: 20, minted_accepted),
        crate::case!("server.token.malformed-but-signed", "A correctly signed token whose form or payload is wrong gets UNAUTHENTICATED",
            covers: ["CIM-5.5-6"], tags: ["token", "needs-secret", "security"], budget: 30, malformed_signed),
        crate::case!("server.token.logged-out", "After Logout the open session gets GoAway LOGGED_OUT and the token is refused",
            covers: ["CIM-14.2-4", "CIM-12.1-1", "CIM-5.2-6", "CIM-15.2-5"], tags: ["token", "goaway"], budget: 20, logged_out),
        crate::case!("server.token.logged-out-everywhere", "Logout of all devices ends the logins of devices with no open session too",
            covers: ["CIM-14.2-10"], tags: ["token", "security"], budget: 20, logged_out_everywhere),
    ]
}

async fn refused(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let token = login.token.clone();
    let flip = |t: &str, at: usize| {
        let mut bytes = t.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap_or_default()
    };
    let tokens = [
        (String::new(), "an empty token"),
        ("not-a-token".to_owned(), "a string that is no token"),
        (flip(&token, token.len() - 1), "the token with its last character changed"),
        (flip(&token, token.len() / 2), "the token with a middle character changed"),
        (format!("{token}x"), "the token with a character appended"),
        ("t".repeat(4097), "4097 bytes"),
    ];
    let wait = cx.answer_wait();
    for (bad, what) in tokens {
        let mut conn = cx.connect(&login).await?;
        cx.note(format!("Hello with {what}"));
        conn.send(&frame(Body::Hello(hello(&bad, "d1")))).await;
        expect_fatal(&mut conn, "CIM-5.2-1", "UNAUTHENTICATED", wait).await?;
    }
    Ok(())
}

async fn other_device(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "phone").await?;
    let mut conn = cx.connect(&login).await?;
    conn.send(&frame(Body::Hello(hello(&login.token, "laptop")))).await;
    let wait = cx.answer_wait();
    let error = expect_fatal(&mut conn, "CIM-5.2-3", "UNAUTHENTICATED", wait).await?;
    // A token's second half is its signature: neither it nor the whole may be echoed.
    let tail = &login.token[login.token.len() / 2..];
    check("CIM-5.4-1", !error.message.contains(tail), "an Error.message without the token", || {
        format!("{:?}", error.message)
    })
}

async fn user_from_token(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let mut to_bob = cx.open(&bob, "d1").await?;
    let mut from_alice = cx.open(&alice, "d1").await?;
    check(
        "CIM-4.4-3",
        from_alice.welcome.user_id == alice.id,
        format!("Welcome.user_id {:?}", alice.id),
        || format!("{:?}", from_alice.welcome.user_id),
    )?;
    let id = cx.client_msg_id();
    from_alice.conn.send(&frames::send(&id, frames::to_user(&bob.id), "who am I")).await;
    let wait = cx.answer_wait();
    expect_ack(&mut from_alice.conn, "CIM-7.2-2", &id, wait).await?;
    let deliver =
        expect_deliver(&mut to_bob.conn, "CIM-8.2-1", "the Deliver of alice's message", wait).await?;
    check(
        "CIM-7.1-10",
        deliver.from_user_id == alice.id,
        format!("from_user_id {:?}, the sending session's user", alice.id),
        || format!("from_user_id {:?}", deliver.from_user_id),
    )?;
    Ok(())
}

async fn logged_out(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut session = cx.open(&alice, "d1").await?;
    let token = session.login.token.clone();
    cx.route
        .logout(&token, false)
        .await
        .map_err(|e| Stop::Error(format!("the route's Logout failed: {e}")))?;
    let wait = cx.wait(std::time::Duration::from_secs(5));
    let reason = crate::case::expect_go_away(
        &mut session.conn,
        "CIM-14.2-4",
        "GoAway LOGGED_OUT on the session of the login that logged out",
        wait,
    )
    .await?;
    check("CIM-12.1-1", reason == 4, "GoAway reason LOGGED_OUT (4)", || format!("reason {reason}"))?;
    let mut conn = cx.connect(&session.login).await?;
    conn.send(&frame(Body::Hello(hello(&token, "d1")))).await;
    let answer = cx.answer_wait();
    expect_fatal(&mut conn, "CIM-5.2-6", "UNAUTHENTICATED", answer).await.map(drop)
}

async fn logged_out_everywhere(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let phone = cx.open(&alice, "phone").await?;
    // The tablet has logged in but has no session open when the phone logs out everywhere.
    let tablet = cx.login(&alice, "tablet").await?;
    cx.route
        .logout(&phone.login.token, true)
        .await
        .map_err(|e| Stop::Error(format!("the route's Logout failed: {e}")))?;
    let answer = cx.answer_wait();
    let mut conn = cx.connect(&tablet).await?;
    conn.send(&frame(Body::Hello(hello(&tablet.token, "tablet")))).await;
    expect_fatal(&mut conn, "CIM-14.2-10", "UNAUTHENTICATED", answer).await?;
    // A login after the Logout is a new one and works.
    let again = cx.login(&alice, "tablet").await?;
    let mut conn = cx.connect(&again).await?;
    conn.send(&frame(Body::Hello(hello(&again.token, "tablet")))).await;
    crate::case::expect_welcome(&mut conn, answer).await.map(drop)
}

/// Tokens in the reference format (§5.5), signed with the deployment's secret.
mod mint {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};

    /// `v1.<payload>.<signature>` over any payload text.
    pub(super) fn sign(secret: &str, payload: &str) -> String {
        signed_parts(secret, &format!("v1.{}", URL_SAFE_NO_PAD.encode(payload)))
    }

    /// `<signed>.<signature>` for any first parts.
    pub(super) fn signed_parts(secret: &str, signed: &str) -> String {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
            return String::new();
        };
        mac.update(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    pub(super) fn now_ms() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
    }
}

fn secret(cx: &Cx) -> Result<String, Stop> {
    cx.target.token_secret.clone().ok_or_else(|| {
        Stop::NotApplicable(
            "needs the deployment's token secret (--token-secret) to make tokens the route would not issue"
                .into(),
        )
    })
}

async fn expired(cx: &mut Cx) -> Result<(), Stop> {
    let secret = secret(cx)?;
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let now = mint::now_ms();
    let wait = cx.answer_wait();
    // Two minutes past expiry: beyond any allowance for clock skew (CIM-5.2-4). For another
    // device too: expiry is checked before the device (CIM-5.5-8).
    for device in ["d1", "d2"] {
        let payload = format!(
            r#"{{"sub":{:?},"dev":"d1","lid":"cf-expired-{now}","iat":{},"exp":{}}}"#,
            alice.id,
            now - 3_600_000,
            now - 120_000
        );
        let mut conn = cx.connect(&login).await?;
        conn.send(&frame(Body::Hello(hello(&mint::sign(&secret, &payload), device)))).await;
        let requirement = if device == "d1" { "CIM-5.2-2" } else { "CIM-5.5-8" };
        expect_fatal(&mut conn, requirement, "TOKEN_EXPIRED", wait).await?;
    }
    Ok(())
}

async fn minted_accepted(cx: &mut Cx) -> Result<(), Stop> {
    let secret = secret(cx)?;
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let now = mint::now_ms();
    // Members in another order, unknown members, whitespace: all the issuer's choice.
    let payload = format!(
        r#"{{ "exp": {}, "future_member": {{"x": [1, 2]}}, "dev": "d1", "sub": {:?}, "lid": "cf-minted-{now}", "iat": {now}, "kid": "k1" }}"#,
        now + 600_000,
        alice.id
    );
    let mut conn = cx.connect(&login).await?;
    conn.send(&frame(Body::Hello(hello(&mint::sign(&secret, &payload), "d1")))).await;
    let wait = cx.answer_wait();
    let welcome = crate::case::expect_welcome(&mut conn, wait).await.map_err(|stop| match stop {
        Stop::Fail(f) => fail("CIM-5.5-7", "Welcome: members the server does not know are ignored", f.actual),
        other => other,
    })?;
    check(
        "CIM-5.2-5",
        welcome.user_id == alice.id,
        format!("user_id {:?} from the token's sub", alice.id),
        || format!("{:?}", welcome.user_id),
    )
}

async fn malformed_signed(cx: &mut Cx) -> Result<(), Stop> {
    let secret = secret(cx)?;
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let now = mint::now_ms();
    let exp = now + 600_000;
    let user = &alice.id;
    let payloads = [
        ("not JSON".to_owned(), "a payload that is not JSON"),
        (format!(r#"["{user}", "d1"]"#), "a JSON array"),
        (format!(r#"{{"dev":"d1","lid":"l{now}","iat":{now},"exp":{exp}}}"#), "no sub"),
        (format!(r#"{{"sub":"","dev":"d1","lid":"l{now}","iat":{now},"exp":{exp}}}"#), "an empty sub"),
        (format!(r#"{{"sub":{user:?},"dev":"d1","lid":"","iat":{now},"exp":{exp}}}"#), "an empty lid"),
        (
            format!(r#"{{"sub":{user:?},"dev":"d1","lid":"l{now}","iat":"{now}","exp":{exp}}}"#),
            "iat as a string",
        ),
        (
            format!(r#"{{"sub":{user:?},"dev":"d1","lid":"l{now}","iat":{now},"exp":{exp}.5}}"#),
            "exp not an integer",
        ),
    ];
    let wait = cx.answer_wait();
    for (payload, what) in payloads {
        cx.note(format!("a signed token with {what}"));
        let mut conn = cx.connect(&login).await?;
        conn.send(&frame(Body::Hello(hello(&mint::sign(&secret, &payload), "d1")))).await;
        expect_fatal(&mut conn, "CIM-5.5-6", "UNAUTHENTICATED", wait).await?;
    }
    let good = format!(r#"{{"sub":{user:?},"dev":"d1","lid":"l{now}","iat":{now},"exp":{exp}}}"#);
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&good);
    for (signed, what) in [
        (format!("v2.{encoded}"), "a first part other than v1"),
        (format!("v1.{encoded}.extra"), "four parts"),
    ] {
        cx.note(format!("a signed token with {what}"));
        let mut conn = cx.connect(&login).await?;
        conn.send(&frame(Body::Hello(hello(&mint::signed_parts(&secret, &signed), "d1")))).await;
        expect_fatal(&mut conn, "CIM-5.5-6", "UNAUTHENTICATED", wait).await?;
    }
    Ok(())
}
