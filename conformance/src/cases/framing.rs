//! §3: length prefixes, frame decoding, unknown fields, WebSocket messages.

use cim_proto::v1::{Frame, frame::Body};

use crate::case::{Case, Cx, Stop, check, expect_ack, expect_fatal, expect_welcome, fail};
use crate::frames::{self, frame, hello};
use crate::wire::{Event, Raw, encode, prefixed};

pub(super) fn cases() -> Vec<Case> {
    vec![
        crate::case!("server.framing.padded-prefix", "A length prefix that is not in its shortest form is accepted",
            covers: ["CIM-3.1-2"], tags: ["framing", "tcp"], budget: 20, padded_prefix),
        crate::case!("server.framing.bad-prefix", "A length prefix of more than 5 bytes gets BAD_LENGTH_PREFIX",
            covers: ["CIM-3.1-3"], tags: ["framing", "tcp", "robustness"], budget: 20, bad_prefix),
        crate::case!("server.framing.too-large", "A length prefix over the maximum frame size gets FRAME_TOO_LARGE at once, before and after Welcome",
            covers: ["CIM-3.1-4", "CIM-10.2-1"], tags: ["framing", "tcp", "limits"], budget: 20, too_large),
        crate::case!("server.framing.truncated", "A frame cut off by the end of the connection is not acted on",
            covers: ["CIM-3.1-5"], tags: ["framing", "tcp", "robustness"], budget: 20, truncated),
        crate::case!("server.framing.malformed", "Bytes that are not a protobuf Frame, or a string that is not UTF-8, get MALFORMED_FRAME",
            covers: ["CIM-3.4-1", "CIM-11.2-1", "CIM-11.2-3"], tags: ["framing", "robustness"], budget: 20, malformed),
        crate::case!("server.framing.unknown-frame", "An empty Frame or an unknown body gets UNKNOWN_FRAME",
            covers: ["CIM-3.4-2"], tags: ["framing", "robustness"], budget: 20, unknown_frame),
        crate::case!("server.framing.unknown-fields", "Unknown fields inside Hello and Send are ignored",
            covers: ["CIM-3.4-3"], tags: ["framing", "extensibility"], budget: 20, unknown_fields),
        crate::case!("server.framing.largest-hello", "A Hello of exactly 65536 bytes is accepted before Welcome",
            covers: ["CIM-10.2-1"], tags: ["framing", "limits"], budget: 20, largest_hello),
        crate::case!("server.tls.version", "A TLS endpoint refuses a client that offers only TLS 1.0",
            covers: ["CIM-3.3-2"], tags: ["tls", "security"], budget: 20, tls_version),
        crate::case!("server.websocket.binary-messages", "Over WebSocket each frame is one binary message",
            covers: ["CIM-3.2-1"], tags: ["framing", "websocket"], budget: 20, ws_binary),
        crate::case!("server.websocket.text-message", "A WebSocket text message gets MALFORMED_FRAME",
            covers: ["CIM-3.2-2"], tags: ["framing", "websocket", "robustness"], budget: 20, ws_text),
        crate::case!("server.websocket.too-large", "A WebSocket message over the maximum frame size gets FRAME_TOO_LARGE",
            covers: ["CIM-3.2-3"], tags: ["framing", "websocket", "limits"], budget: 20, ws_too_large),
        crate::case!("server.websocket.far-too-large", "A WebSocket message of over twice the maximum frame size still gets FRAME_TOO_LARGE, not a bare close",
            covers: ["CIM-3.2-3"], tags: ["framing", "websocket", "limits"], budget: 20, ws_far_too_large),
    ]
}

fn tcp_only(conn: &crate::wire::Conn) -> Result<(), Stop> {
    if conn.is_websocket() {
        Err(Stop::NotApplicable("length prefixes exist only on TCP".into()))
    } else {
        Ok(())
    }
}

async fn padded_prefix(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect(&login).await?;
    tcp_only(&conn)?;
    let payload = encode(&frame(Body::Hello(hello(&login.token, "d1"))));
    let bytes = crate::wire::padded_prefixed(&payload);
    conn.send_bytes(&bytes, "Hello with a 5-byte length prefix").await;
    let wait = cx.answer_wait();
    match conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Welcome(_)) }) => Ok(()),
        other => Err(fail("CIM-3.1-2", "Welcome", other.describe())),
    }
}

async fn bad_prefix(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    for bytes in [&[0x80u8, 0x80, 0x80, 0x80, 0x80, 0x01][..], &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff]] {
        let mut conn = cx.connect(&login).await?;
        tcp_only(&conn)?;
        conn.send_bytes(bytes, "a 6-byte length prefix").await;
        expect_fatal(&mut conn, "CIM-3.1-3", "BAD_LENGTH_PREFIX", wait).await?;
    }
    Ok(())
}

async fn too_large(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    // Before Welcome the limit is 65536: announce one byte more and send nothing after it.
    let mut conn = cx.connect(&login).await?;
    tcp_only(&conn)?;
    let mut prefix = Vec::new();
    crate::wire::put_varint(65_537, &mut prefix);
    conn.send_bytes(&prefix, "a length prefix of 65537 and no frame bytes").await;
    expect_fatal(&mut conn, "CIM-3.1-4", "FRAME_TOO_LARGE", wait).await?;
    // After Welcome the limit is the announced max_frame_size.
    let mut session = cx.open(&alice, "d1").await?;
    let limit = session.welcome.limits.as_ref().map_or(0, |l| l.max_frame_size);
    let limit = if limit == 0 { 65_536 } else { limit };
    let mut prefix = Vec::new();
    crate::wire::put_varint(u64::from(limit) + 1, &mut prefix);
    session.conn.send_bytes(&prefix, "a length prefix one byte over max_frame_size and no frame bytes").await;
    expect_fatal(&mut session.conn, "CIM-3.1-4", "FRAME_TOO_LARGE", wait).await.map(drop)
}

async fn truncated(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let bob = cx.user("bob").await?;
    let mut listener = cx.open(&bob, "d1").await?;
    let mut session = cx.open(&alice, "d1").await?;
    tcp_only(&session.conn)?;
    let send = prefixed(&encode(&frames::send("cut-1", frames::to_user(&bob.id), "must not arrive")));
    session.conn.send_bytes(&send[..send.len() - 1], "a Send without its last byte").await;
    session.conn.shutdown().await;
    let wait = cx.wait(std::time::Duration::from_secs(2));
    crate::case::expect_no_deliver(
        &mut listener.conn,
        "CIM-3.1-5",
        "no Deliver of a Send cut off by the end of the connection",
        wait,
    )
    .await
}

async fn malformed(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    // A field header with wire type 7 (no such type), a length running past the end, and a
    // Hello whose device_id is not UTF-8.
    let bad_utf8 = Raw::new()
        .message(1, &Raw::new().varint(1, 1).bytes(2, login.token.as_bytes()).bytes(3, &[0xff, 0xfe, 0x41]));
    let payloads: [(Vec<u8>, &str); 3] = [
        (vec![0x0f, 0x01], "a field with wire type 7"),
        (vec![0x0a, 0x7f, 0x01], "a message field longer than the frame"),
        (bad_utf8.into_bytes(), "a Hello whose device_id is not UTF-8"),
    ];
    for (payload, what) in payloads {
        let mut conn = cx.connect(&login).await?;
        conn.send_payload(&payload, what).await;
        expect_fatal(&mut conn, "CIM-3.4-1", "MALFORMED_FRAME", wait).await?;
    }
    Ok(())
}

async fn unknown_frame(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let wait = cx.answer_wait();
    let payloads: [(Vec<u8>, &str); 2] = [
        (Vec::new(), "an empty Frame"),
        (Raw::new().bytes(42, b"").into_bytes(), "a Frame whose body is field 42"),
    ];
    for (payload, what) in payloads {
        let mut conn = cx.connect(&login).await?;
        conn.send_payload(&payload, what).await;
        expect_fatal(&mut conn, "CIM-3.4-2", "UNKNOWN_FRAME", wait).await?;
    }
    // Also after Welcome.
    let mut session = cx.open(&alice, "d2").await?;
    session
        .conn
        .send_payload(&Raw::new().bytes(42, b"x").into_bytes(), "a Frame whose body is field 42")
        .await;
    expect_fatal(&mut session.conn, "CIM-3.4-2", "UNKNOWN_FRAME", wait).await.map(drop)
}

async fn unknown_fields(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect(&login).await?;
    let hello = Raw::new()
        .varint(1, 1)
        .bytes(2, login.token.as_bytes())
        .bytes(3, b"d1")
        .varint(99, 12345)
        .bytes(100, b"from a later version")
        .fixed32(101, 7);
    conn.send_payload(&Raw::new().message(1, &hello).into_bytes(), "Hello with fields 99, 100 and 101").await;
    let wait = cx.answer_wait();
    match conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Welcome(_)) }) => {}
        other => {
            return Err(fail("CIM-3.4-3", "Welcome: unknown fields of Hello are ignored", other.describe()));
        }
    }
    let send = Raw::new()
        .bytes(1, b"unknown-fields-1")
        .message(2, &Raw::new().bytes(1, alice.id.as_bytes()))
        .bytes(3, b"text/plain")
        .bytes(4, b"hi")
        .varint(77, 1);
    conn.send_payload(&Raw::new().message(5, &send).into_bytes(), "Send with field 77").await;
    expect_ack(&mut conn, "CIM-3.4-3", "unknown-fields-1", wait).await.map(drop)
}

async fn largest_hello(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect(&login).await?;
    let base = Raw::new().varint(1, 1).bytes(2, login.token.as_bytes()).bytes(3, b"d1");
    // Pad with an unknown field so the Frame is exactly 65536 bytes.
    let mut padding = 65_536 - 16 - base.as_bytes().len();
    let size =
        |pad: usize| Raw::new().message(1, &base.clone().bytes(1000, &vec![b'p'; pad])).into_bytes().len();
    while size(padding) > 65_536 {
        padding -= 1;
    }
    while size(padding) < 65_536 {
        padding += 1;
    }
    let payload = Raw::new().message(1, &base.bytes(1000, &vec![b'p'; padding])).into_bytes();
    conn.send_payload(&payload, &format!("Hello of {} bytes", payload.len())).await;
    let wait = cx.answer_wait();
    match conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Welcome(_)) }) => Ok(()),
        other => Err(fail("CIM-10.2-1", "Welcome for a Hello of 65536 bytes", other.describe())),
    }
}

async fn ws_binary(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect_websocket(&login).await?;
    conn.send(&frame(Body::Hello(hello(&login.token, "d1")))).await;
    let wait = cx.answer_wait();
    // A text message, or a binary one that is not exactly one Frame, shows as Invalid.
    expect_welcome(&mut conn, wait).await.map_err(|stop| match stop {
        Stop::Fail(f) => fail("CIM-3.2-1", "Welcome as one binary WebSocket message", f.actual),
        other => other,
    })?;
    conn.send(&frames::ping(7)).await;
    conn.auto_pong = false;
    match conn.next(wait).await {
        Event::Frame(Frame { body: Some(Body::Pong(p)) }) if p.nonce == 7 => Ok(()),
        other => Err(fail("CIM-3.2-1", "Pong {nonce: 7} as one binary message", other.describe())),
    }
}

async fn ws_text(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect_websocket(&login).await?;
    conn.send_ws_text("{\"hello\": {}}").await;
    let wait = cx.answer_wait();
    expect_fatal(&mut conn, "CIM-3.2-2", "MALFORMED_FRAME", wait).await.map(drop)
}

async fn ws_too_large(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect_websocket(&login).await?;
    conn.send_bytes(&vec![0u8; 65_537], "a binary message of 65537 bytes").await;
    let wait = cx.answer_wait();
    expect_fatal(&mut conn, "CIM-3.2-3", "FRAME_TOO_LARGE", wait).await.map(drop)
}

async fn ws_far_too_large(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let mut conn = cx.connect_websocket(&login).await?;
    // WebSocket libraries refuse a message over their own bound before reading it; the
    // Error must come all the same.
    conn.send_bytes(&vec![0u8; 140_000], "a binary message of 140000 bytes").await;
    let wait = cx.answer_wait();
    expect_fatal(&mut conn, "CIM-3.2-3", "FRAME_TOO_LARGE", wait).await.map(drop)
}

/// A ClientHello offering only TLS 1.0 (record and handshake version 3.1), one RSA cipher
/// suite and no extensions: a server that negotiates TLS 1.2 or later must refuse it.
const TLS10_CLIENT_HELLO: [u8; 50] = [
    0x16, 0x03, 0x01, 0x00, 0x2d, // handshake record, TLS 1.0, 45 bytes
    0x01, 0x00, 0x00, 0x29, // ClientHello, 41 bytes
    0x03, 0x01, // client_version TLS 1.0
    0x63, 0x69, 0x6d, 0x2d, 0x63, 0x6f, 0x6e, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x6e, 0x63, 0x65,
    0x2d, // random (32 bytes)
    0x74, 0x6c, 0x73, 0x31, 0x30, 0x2d, 0x6f, 0x6e, 0x6c, 0x79, 0x2d, 0x70, 0x72, 0x6f, 0x62, 0x65, //
    0x00, // no session id
    0x00, 0x02, 0x00, 0x2f, // one suite: TLS_RSA_WITH_AES_128_CBC_SHA
    0x01, 0x00, // null compression
];

async fn tls_version(cx: &mut Cx) -> Result<(), Stop> {
    let alice = cx.user("alice").await?;
    let login = cx.login(&alice, "d1").await?;
    let endpoint = if login.server.tcp_tls && !login.server.tcp_endpoint.is_empty() {
        login.server.tcp_endpoint.clone()
    } else if let Some(rest) = login.server.ws_url.strip_prefix("wss://") {
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains(':') { authority.to_owned() } else { format!("{authority}:443") }
    } else {
        return Err(Stop::NotApplicable("the assigned server offers no TLS endpoint".into()));
    };
    let mut conn = crate::wire::Conn::tcp(&endpoint, "tls", &cx.transcript)
        .await
        .map_err(|e| Stop::Error(format!("cannot connect to {endpoint}: {e}")))?;
    let answer = conn.raw_exchange(&TLS10_CLIENT_HELLO, cx.answer_wait()).await;
    // A ServerHello is a handshake record (0x16) whose first message is type 2.
    let accepted = answer.len() >= 6 && answer[0] == 0x16 && answer[5] == 0x02;
    check(
        "CIM-3.3-2",
        !accepted,
        "an alert or a closed connection for a ClientHello offering only TLS 1.0",
        || format!("a ServerHello: {}", crate::transcript::hex(&answer)),
    )
}
