//! Golden wire vectors (spec/v1/vectors): one or more per `Frame` variant.
//!
//! Each vector is an insta snapshot holding the frame as JSON, its protobuf bytes and its
//! TCP encoding (varint length prefix + bytes), as hex. Other implementations use them as
//! test vectors; this test fails when an encoding changes (`cargo insta review` shows how),
//! and `stored_vectors_still_decode` fails when a stored vector no longer decodes to what it
//! says, which is what "released frames keep decoding" means.

use bytes::Bytes;
use cim_proto::v1::{self as wire, Frame, frame::Body, recipient};
use prost::Message;
use serde_json::{Value, json};

const VECTOR_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/v1/vectors");

/// The reference token of spec §5.5's example (user alice, device laptop-1): three parts, as
/// every reference token has.
const EXAMPLE_TOKEN: &str = "v1.eyJzdWIiOiJhbGljZSIsImRldiI6ImxhcHRvcC0xIiwibGlkIjoiSm04clExa1djM1ZiMHBYbjRUcVl6QSIsImlhdCI6MTcwMDAwMDAwMDAwMCwiZXhwIjoxNzAwMDg2NDAwMDAwfQ.Z99pdaYLuc8-GdDfX1FMiRjWC7pko-JgCX04pzPTIyE";

fn user(id: &str) -> Option<wire::Recipient> {
    Some(wire::Recipient { kind: Some(recipient::Kind::UserId(id.into())) })
}

/// (name, description, frame). Values are fixed: they are the vectors.
fn vectors() -> Vec<(&'static str, &'static str, Body)> {
    vec![
        (
            "hello_first",
            "Hello of a device's first connection: no resume point",
            Body::Hello(wire::Hello {
                versions: vec![1],
                token: EXAMPLE_TOKEN.into(),
                device_id: "laptop-1".into(),
                resume: None,
                client_name: "cim-sdk-rust/0.1.0".into(),
                max_frame_size: 0,
                heartbeat_interval_ms: 0,
            }),
        ),
        (
            "hello_resume",
            "Hello resuming the inbox after seq 41 of epoch 3, asking for 20 s heartbeats",
            Body::Hello(wire::Hello {
                versions: vec![1, 2],
                token: EXAMPLE_TOKEN.into(),
                device_id: "laptop-1".into(),
                resume: Some(wire::ResumePoint { epoch: 3, last_acked_seq: 41 }),
                client_name: "cim-sdk-python/0.1.0".into(),
                max_frame_size: 131_072,
                heartbeat_interval_ms: 20_000,
            }),
        ),
        (
            "welcome",
            "Welcome with default limits, resuming at seq 42",
            Body::Welcome(wire::Welcome {
                version: 1,
                session_id: "01JGZ8M3Q4W5E6R7T8Y9V0A1B2".into(),
                user_id: "alice".into(),
                heartbeat_interval_ms: 30_000,
                heartbeat_timeout_ms: 75_000,
                limits: Some(wire::Limits {
                    max_frame_size: 65_536,
                    max_body_size: 32_768,
                    max_in_flight: 64,
                    sends_per_second: 100,
                    send_burst: 200,
                }),
                resume: Some(wire::ResumeResult {
                    outcome: wire::ResumeOutcome::Resumed as i32,
                    epoch: 3,
                    next_seq: 42,
                }),
                server_time_ms: 1_767_225_600_000,
                server_id: "server-1".into(),
            }),
        ),
        (
            "welcome_epoch_changed",
            "Welcome telling the client its inbox epoch changed",
            Body::Welcome(wire::Welcome {
                version: 1,
                session_id: "s-2".into(),
                user_id: "alice".into(),
                heartbeat_interval_ms: 30_000,
                heartbeat_timeout_ms: 75_000,
                limits: None,
                resume: Some(wire::ResumeResult {
                    outcome: wire::ResumeOutcome::EpochChanged as i32,
                    epoch: 4,
                    next_seq: 1,
                }),
                server_time_ms: 0,
                server_id: "server-2".into(),
            }),
        ),
        ("ping", "Ping with a nonce", Body::Ping(wire::Ping { nonce: 7 })),
        ("pong", "Pong echoing the nonce", Body::Pong(wire::Pong { nonce: 7 })),
        (
            "send_user",
            "Send of a text message to one user",
            Body::Send(wire::Send {
                client_msg_id: "a1b2c3d4e5f60718".into(),
                to: user("bob"),
                content_type: "text/plain".into(),
                body: Bytes::from_static("hello, bob 👋".as_bytes()),
            }),
        ),
        (
            "send_group",
            "Send to a group, binary body, default content type",
            Body::Send(wire::Send {
                client_msg_id: "m-2".into(),
                to: Some(wire::Recipient { kind: Some(recipient::Kind::GroupId("team".into())) }),
                content_type: String::new(),
                body: Bytes::from_static(&[0x00, 0xff, 0x10]),
            }),
        ),
        (
            "send_everyone",
            "Send as a live-only broadcast to everyone online",
            Body::Send(wire::Send {
                client_msg_id: "m-3".into(),
                to: Some(wire::Recipient { kind: Some(recipient::Kind::Everyone(wire::Everyone {})) }),
                content_type: "text/plain".into(),
                body: Bytes::from_static(b"hi all"),
            }),
        ),
        (
            "send_ack",
            "SendAck for a stored message",
            Body::SendAck(wire::SendAck {
                client_msg_id: "a1b2c3d4e5f60718".into(),
                message_id: "01JGZ8M3Q4W5E6R7T8Y9V0A1B2".into(),
                sent_at_ms: 1_767_225_600_123,
                duplicate: false,
                live_only: false,
            }),
        ),
        (
            "send_ack_duplicate",
            "SendAck for a retransmission: original ids, duplicate set",
            Body::SendAck(wire::SendAck {
                client_msg_id: "a1b2c3d4e5f60718".into(),
                message_id: "01JGZ8M3Q4W5E6R7T8Y9V0A1B2".into(),
                sent_at_ms: 1_767_225_600_123,
                duplicate: true,
                live_only: false,
            }),
        ),
        (
            "deliver",
            "Deliver of inbox entry 42",
            Body::Deliver(wire::Deliver {
                seq: 42,
                message_id: "01JGZ8M3Q4W5E6R7T8Y9V0A1B2".into(),
                from_user_id: "alice".into(),
                to: user("bob"),
                content_type: "text/plain".into(),
                body: Bytes::from_static("hello, bob 👋".as_bytes()),
                sent_at_ms: 1_767_225_600_123,
            }),
        ),
        (
            "deliver_broadcast",
            "Deliver of a live-only broadcast: seq 0, never acked",
            Body::Deliver(wire::Deliver {
                seq: 0,
                message_id: "01JGZ8M3Q4W5E6R7T8Y9V0A1B3".into(),
                from_user_id: "alice".into(),
                to: Some(wire::Recipient { kind: Some(recipient::Kind::Everyone(wire::Everyone {})) }),
                content_type: "text/plain".into(),
                body: Bytes::from_static(b"hi all"),
                sent_at_ms: 1_767_225_600_200,
            }),
        ),
        (
            "deliver_ack",
            "Cumulative DeliverAck up to seq 42",
            Body::DeliverAck(wire::DeliverAck { up_to_seq: 42 }),
        ),
        (
            "error_fatal",
            "Fatal Error: frame too large",
            Body::Error(wire::Error {
                code: 1001,
                message: "frame of 70000 bytes exceeds the maximum frame size of 65536".into(),
                client_msg_id: String::new(),
                retry_after_ms: 0,
            }),
        ),
        (
            "error_send",
            "Per-message Error: rate limited, retry after 250 ms",
            Body::Error(wire::Error {
                code: 3003,
                message: "too many Sends per second".into(),
                client_msg_id: "m-9".into(),
                retry_after_ms: 250,
            }),
        ),
        (
            "go_away",
            "GoAway: the server shuts down",
            Body::GoAway(wire::GoAway {
                reason: wire::GoAwayReason::Shutdown as i32,
                message: "server-1 is restarting".into(),
                reconnect_after_ms: 1_000,
            }),
        ),
    ]
}

/// Every variant, so a new one without a vector fails `every_variant_has_a_vector`.
fn variant_index(body: &Body) -> usize {
    match body {
        Body::Hello(_) => 0,
        Body::Welcome(_) => 1,
        Body::Ping(_) => 2,
        Body::Pong(_) => 3,
        Body::Send(_) => 4,
        Body::SendAck(_) => 5,
        Body::Deliver(_) => 6,
        Body::DeliverAck(_) => 7,
        Body::Error(_) => 8,
        Body::GoAway(_) => 9,
    }
}
const VARIANTS: usize = 10;

fn protobuf(body: &Body) -> Vec<u8> {
    Frame { body: Some(body.clone()) }.encode_to_vec()
}

fn tcp(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

/// The vector in a form any language reads without knowing insta or serde: the frame in the
/// protobuf JSON mapping (see `spec/v1/vectors/README.md`), beside its bytes.
fn neutral(name: &str, description: &str, body: &Body) -> Value {
    let bytes = protobuf(body);
    let frame = serde_json::to_value(Frame { body: Some(body.clone()) }).expect("serializable");
    json!({
        "name": name,
        "description": description,
        "frame": protojson(&frame),
        "protobuf_hex": hex::encode(&bytes),
        "tcp_hex": hex::encode(tcp(&bytes)),
    })
}

/// serde's shape of a prost message to the protobuf JSON mapping: a oneof (`Frame.body`,
/// `Recipient.kind`) becomes the member named after its field, `bytes` become base64, and
/// absent messages are left out. Field names stay as in the .proto, which every protobuf
/// JSON parser accepts; numbers stay numbers, which they accept for 64-bit fields and enums.
fn protojson(value: &Value) -> Value {
    match value {
        Value::Object(members) => {
            let mut out = serde_json::Map::new();
            for (key, member) in members {
                match (key.as_str(), member) {
                    (_, Value::Null) => {}
                    ("body" | "kind", Value::Object(oneof)) if oneof.len() == 1 => {
                        for (variant, inner) in oneof {
                            out.insert(snake_case(variant), protojson(inner));
                        }
                    }
                    ("body", Value::Array(bytes)) => {
                        let bytes: Vec<u8> = bytes
                            .iter()
                            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()).expect("a byte"))
                            .collect();
                        out.insert(key.clone(), Value::String(base64(&bytes)));
                    }
                    _ => {
                        out.insert(key.clone(), protojson(member));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(protojson).collect()),
        other => other.clone(),
    }
}

/// `SendAck` to `send_ack`: the oneof field's name in the .proto.
fn snake_case(variant: &str) -> String {
    let mut out = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), as the protobuf JSON mapping writes bytes.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn describe(name: &str, description: &str, body: &Body) -> Value {
    let bytes = protobuf(body);
    json!({
        "name": name,
        "description": description,
        "frame": serde_json::to_value(Frame { body: Some(body.clone()) }).expect("serializable"),
        "protobuf_hex": hex::encode(&bytes),
        "tcp_hex": hex::encode(tcp(&bytes)),
    })
}

#[test]
fn vectors_match_the_current_encoding() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(VECTOR_DIR);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (name, description, body) in vectors() {
            insta::assert_json_snapshot!(name, describe(name, description, &body));
        }
    });
}

/// The language-neutral `<name>.json` beside each snapshot matches the current encoding.
/// `CIM_UPDATE_VECTORS=1` writes them.
#[test]
fn neutral_vector_files_match() {
    let update = std::env::var_os("CIM_UPDATE_VECTORS").is_some();
    for (name, description, body) in vectors() {
        let path = std::path::Path::new(VECTOR_DIR).join(format!("{name}.json"));
        let want = serde_json::to_string_pretty(&neutral(name, description, &body)).expect("json") + "\n";
        if update {
            std::fs::write(&path, &want).expect("writable");
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(have, want, "{} is stale: run with CIM_UPDATE_VECTORS=1", path.display());
    }
}

#[test]
fn base64_is_rfc_4648() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}

#[test]
fn every_variant_has_a_vector() {
    let mut covered = [false; VARIANTS];
    for (_, _, body) in vectors() {
        covered[variant_index(&body)] = true;
    }
    assert!(covered.iter().all(|c| *c), "variants without a vector: {covered:?}");
}

/// Reads every stored vector and checks that its bytes decode to the frame it describes.
#[test]
fn stored_vectors_still_decode() {
    let mut count = 0;
    for entry in std::fs::read_dir(VECTOR_DIR).expect("vector directory") {
        let path = entry.expect("readable").path();
        if path.extension().is_none_or(|e| e != "snap") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        // An insta snapshot: a `---` delimited header, then the JSON.
        let json_text = text.splitn(3, "---\n").nth(2).expect("insta header");
        let vector: Value = serde_json::from_str(json_text).expect("vector JSON");
        let bytes = hex::decode(vector["protobuf_hex"].as_str().expect("hex")).expect("valid hex");
        let frame = Frame::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(frame.body.is_some(), "{}: no body", path.display());
        assert_eq!(
            serde_json::to_value(&frame).expect("serializable"),
            vector["frame"],
            "{}",
            path.display()
        );
        let framed = hex::decode(vector["tcp_hex"].as_str().expect("hex")).expect("valid hex");
        let mut slice = framed.as_slice();
        let len = prost::encoding::decode_varint(&mut slice).expect("length prefix");
        assert_eq!(len as usize, slice.len(), "{}", path.display());
        assert_eq!(slice, bytes.as_slice());
        count += 1;
    }
    assert!(count >= vectors().len(), "found {count} stored vectors");
}
