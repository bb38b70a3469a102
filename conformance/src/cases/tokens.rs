//! §5: session tokens as the server verifies them, and the user they name.

use cim_proto::v1::frame::Body;

use crate::case::{Case, Cx, Stop, check, expect_ack, expect_deliver, expect_fatal, fail};
use crate::frames::{self, frame, hello};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("server.token.refused", "An empty, garbage, altered or over-long token gets UNAUTHENTICATED",
            covers: ["CIM-5.2-1"], tags: ["token", "security"], budget: 30, refused),
        crate::case!("server.token.other-device", "A token presented with another device_id gets UNAUTHENTICATED",
            covers: ["CIM-5.2-3"], tags: ["token", "security"], budget: 20, other_device),
        crate::case!("server.token.user-from-token", "The session's user, and the sender of its messages, come from the token only",
            covers: ["CIM-5.2-5", "CIM-7.1-10", "CIM-4.4-3"], tags: ["token", "security"], budget: 20, user_from_token),
        crate::case!("server.token.logged-out", "After Logout the open session gets GoAway LOGGED_OUT and the token is refused",
            covers: ["CIM-14.2-4", "CIM-12.1-1", "CIM-5.2-6"], tags: ["token", "goaway"], budget: 20, logged_out),
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
    expect_fatal(&mut conn, "CIM-5.2-3", "UNAUTHENTICATED", wait).await.map(drop)
}

async fn user_from_token(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let mut to_bob = cx.open(&bob, "d1").await?;
    let mut from_alice = cx.open(&alice, "d1").await?;
    check("CIM-4.4-3", from_alice.welcome.user_id == alice.id, format!("Welcome.user_id {:?}", alice.id), || {
        format!("{:?}", from_alice.welcome.user_id)
    })?;
    let id = cx.client_msg_id();
    from_alice.conn.send(&frames::send(&id, frames::to_user(&bob.id), "who am I")).await;
    let wait = cx.answer_wait();
    expect_ack(&mut from_alice.conn, "CIM-7.2-2", &id, wait).await?;
    let deliver = expect_deliver(&mut to_bob.conn, "CIM-8.2-1", "the Deliver of alice's message", wait).await?;
    check("CIM-7.1-10", deliver.from_user_id == alice.id, format!("from_user_id {:?}, the sending session's user", alice.id), || {
        format!("from_user_id {:?}", deliver.from_user_id)
    })?;
    Ok(())
}

async fn logged_out(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let mut session = cx.open(&alice, "d1").await?;
    let token = session.login.token.clone();
    cx.route.logout(&token, false).await.map_err(|e| Stop::Error(format!("the route's Logout failed: {e}")))?;
    let wait = cx.wait(std::time::Duration::from_secs(5));
    let reason = session
        .conn
        .find(wait, |f| match &f.body {
            Some(Body::GoAway(g)) => Some(g.reason),
            _ => None,
        })
        .await
        .map_err(|event| fail("CIM-14.2-4", "GoAway LOGGED_OUT on the session of the login that logged out", event.describe()))?;
    check("CIM-12.1-1", reason == 4, "GoAway reason LOGGED_OUT (4)", || format!("reason {reason}"))?;
    let mut conn = cx.connect(&session.login).await?;
    conn.send(&frame(Body::Hello(hello(&token, "d1")))).await;
    let answer = cx.answer_wait();
    expect_fatal(&mut conn, "CIM-5.2-6", "UNAUTHENTICATED", answer).await.map(drop)
}
