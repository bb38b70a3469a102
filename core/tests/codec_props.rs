//! Properties of the frame codec: round trips, no panics on any input, and split-invariance.

use bytes::Bytes;
use cim_core::codec::{self, DEFAULT_MAX_FRAME_SIZE, FrameDecoder, Framing};
use cim_core::wire::{self, frame::Body, recipient};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9:-]{1,12}",
        any::<String>().prop_map(|s| s.chars().take(40).collect())
    ]
}

fn body_bytes() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..200).prop_map(Bytes::from)
}

fn recipient() -> impl Strategy<Value = Option<wire::Recipient>> {
    let kind = prop_oneof![
        text().prop_map(recipient::Kind::UserId),
        text().prop_map(recipient::Kind::GroupId),
        Just(recipient::Kind::Everyone(wire::Everyone {})),
    ];
    prop::option::of(prop::option::of(kind).prop_map(|kind| wire::Recipient { kind }))
}

prop_compose! {
    fn hello()(versions in prop::collection::vec(any::<u32>(), 0..4), token in text(), device_id in text(),
               resume in prop::option::of((any::<u64>(), any::<u64>())), client_name in text(),
               max_frame_size in any::<u32>(), heartbeat_interval_ms in any::<u32>()) -> wire::Hello {
        wire::Hello {
            versions, token, device_id,
            resume: resume.map(|(epoch, last_acked_seq)| wire::ResumePoint { epoch, last_acked_seq }),
            client_name, max_frame_size, heartbeat_interval_ms,
        }
    }
}

prop_compose! {
    fn welcome()(version in any::<u32>(), session_id in text(), user_id in text(),
                 heartbeat in any::<(u32, u32)>(), limits in prop::option::of(any::<(u32, u32, u32, u32, u32)>()),
                 resume in prop::option::of(any::<(i32, u64, u64)>()), server_time_ms in any::<u64>(),
                 server_id in text()) -> wire::Welcome {
        wire::Welcome {
            version, session_id, user_id,
            heartbeat_interval_ms: heartbeat.0, heartbeat_timeout_ms: heartbeat.1,
            limits: limits.map(|l| wire::Limits {
                max_frame_size: l.0, max_body_size: l.1, max_in_flight: l.2, sends_per_second: l.3, send_burst: l.4,
            }),
            resume: resume.map(|r| wire::ResumeResult { outcome: r.0, epoch: r.1, next_seq: r.2 }),
            server_time_ms, server_id,
        }
    }
}

fn any_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        hello().prop_map(Body::Hello),
        welcome().prop_map(Body::Welcome),
        any::<u64>().prop_map(|nonce| Body::Ping(wire::Ping { nonce })),
        any::<u64>().prop_map(|nonce| Body::Pong(wire::Pong { nonce })),
        (text(), recipient(), text(), body_bytes()).prop_map(|(client_msg_id, to, content_type, body)| {
            Body::Send(wire::Send { client_msg_id, to, content_type, body })
        }),
        (text(), text(), any::<u64>(), any::<bool>(), any::<bool>()).prop_map(|(c, m, t, d, l)| {
            Body::SendAck(wire::SendAck {
                client_msg_id: c,
                message_id: m,
                sent_at_ms: t,
                duplicate: d,
                live_only: l,
            })
        }),
        (any::<u64>(), text(), text(), recipient(), text(), body_bytes(), any::<u64>()).prop_map(
            |(seq, message_id, from_user_id, to, content_type, body, sent_at_ms)| {
                Body::Deliver(wire::Deliver {
                    seq,
                    message_id,
                    from_user_id,
                    to,
                    content_type,
                    body,
                    sent_at_ms,
                })
            }
        ),
        any::<u64>().prop_map(|up_to_seq| Body::DeliverAck(wire::DeliverAck { up_to_seq })),
        (any::<u32>(), text(), text(), any::<u32>()).prop_map(
            |(code, message, client_msg_id, retry_after_ms)| {
                Body::Error(wire::Error { code, message, client_msg_id, retry_after_ms })
            }
        ),
        (any::<i32>(), text(), any::<u32>()).prop_map(|(reason, message, reconnect_after_ms)| {
            Body::GoAway(wire::GoAway { reason, message, reconnect_after_ms })
        }),
    ]
}

fn encode_all(bodies: &[Body]) -> Vec<u8> {
    let mut out = Vec::new();
    for body in bodies {
        codec::encode_frame(body, Framing::LengthPrefixed, &mut out);
    }
    out
}

proptest! {
    #[test]
    fn every_frame_round_trips(bodies in prop::collection::vec(any_body(), 1..8)) {
        let bytes = encode_all(&bodies);
        let mut decoder = FrameDecoder::new(u32::MAX);
        let mut out = Vec::new();
        decoder.decode(&bytes, &mut out).expect("own encoding decodes");
        prop_assert_eq!(&out, &bodies);
        prop_assert_eq!(decoder.buffered(), 0);
        for body in &bodies {
            let mut message = Vec::new();
            codec::encode_frame(body, Framing::Message, &mut message);
            prop_assert_eq!(&codec::decode_frame(&message, u32::MAX).expect("decodes"), body);
        }
    }

    #[test]
    fn any_split_decodes_like_the_whole(
        bodies in prop::collection::vec(any_body(), 1..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let bytes = encode_all(&bodies);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut decoder = FrameDecoder::new(u32::MAX);
        let mut out = Vec::new();
        let mut start = 0;
        for point in points.into_iter().chain([bytes.len()]) {
            decoder.decode(&bytes[start..point], &mut out).expect("valid input");
            start = point;
        }
        prop_assert_eq!(out, bodies);
        prop_assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8),
        max in prop_oneof![Just(0u32), Just(16), Just(DEFAULT_MAX_FRAME_SIZE), Just(u32::MAX)],
    ) {
        let mut decoder = FrameDecoder::new(max);
        let mut out = Vec::new();
        let mut failed = None;
        for chunk in &chunks {
            match decoder.decode(chunk, &mut out) {
                Ok(()) => prop_assert!(failed.is_none(), "errors are sticky"),
                Err(e) => {
                    if let Some(first) = &failed {
                        prop_assert_eq!(first, &e, "the same error every time");
                    }
                    failed = Some(e);
                }
            }
            let _ = codec::decode_frame(chunk, max);
        }
        prop_assert!(decoder.buffered() <= max as usize + codec::MAX_LENGTH_PREFIX);
    }

    #[test]
    fn valid_frames_then_garbage_yield_the_frames_then_an_error(
        bodies in prop::collection::vec(any_body(), 1..4),
        garbage in prop::collection::vec(any::<u8>(), 1..32),
    ) {
        let mut bytes = encode_all(&bodies);
        bytes.extend_from_slice(&garbage);
        let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        let mut out = Vec::new();
        let _ = decoder.decode(&bytes, &mut out);
        prop_assert!(out.len() >= bodies.len());
        prop_assert_eq!(&out[..bodies.len()], &bodies[..]);
    }
}
