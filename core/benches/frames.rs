//! Micro-benchmarks of the per-frame work every message pays, and how many heap allocations
//! each step makes (counted by a wrapping global allocator, printed before the timings):
//!
//! - encoding a Deliver and decoding a Send, the frames of the message path;
//! - one server session step: a Send arrives, becomes an event, is acknowledged, and the
//!   SendAck is written — what a connection task does per message, minus the store.
//!
//! `cargo bench -p cim-core --bench frames`
#![allow(missing_docs, unreachable_pub)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use cim_core::codec::{self, FrameDecoder};
use cim_core::server::{Identity, ServerConfig, ServerEvent, ServerSession, TokenVerifier, WelcomeInfo};
use cim_core::wire::{self, frame::Body, recipient};
use cim_core::{ErrorCode, Framing};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is the
// only addition.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations per call of `step`, averaged over many calls after a warm-up.
fn allocations_per(mut step: impl FnMut()) -> f64 {
    for _ in 0..100 {
        step();
    }
    const CALLS: u64 = 10_000;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..CALLS {
        step();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / CALLS as f64
}

struct AnyToken;

impl TokenVerifier for AnyToken {
    fn verify(&self, token: &str) -> Result<Identity, ErrorCode> {
        Ok(Identity {
            user_id: token.to_owned(),
            device_id: None,
            login_id: None,
            account_generation: None,
            issued_at_ms: None,
        })
    }
}

fn deliver(body_size: usize) -> Body {
    Body::Deliver(wire::Deliver {
        seq: 42,
        message_id: "0192f3a4b5c6d7e8f9a0b1c2".into(),
        from_user_id: "alice".into(),
        to: Some(wire::Recipient { kind: Some(recipient::Kind::UserId("bob".into())) }),
        content_type: "text/plain".into(),
        body: Bytes::from(vec![b'x'; body_size]),
        sent_at_ms: 1_764_000_000_000,
    })
}

fn send(id: &str, body_size: usize) -> Body {
    Body::Send(wire::Send {
        client_msg_id: id.into(),
        to: Some(wire::Recipient { kind: Some(recipient::Kind::UserId("bob".into())) }),
        content_type: String::new(),
        body: Bytes::from(vec![b'x'; body_size]),
    })
}

fn framed(body: &Body) -> Vec<u8> {
    let mut out = Vec::new();
    codec::encode_frame(body, Framing::LengthPrefixed, &mut out);
    out
}

/// A session past its handshake, as a server holds it.
fn open_session() -> ServerSession {
    let config = ServerConfig::new(Arc::new(AnyToken), Framing::LengthPrefixed);
    let mut config = config;
    config.limits.sends_per_second = 0;
    let now = Instant::now();
    let mut session = ServerSession::new(Arc::new(config), now);
    let hello = Body::Hello(wire::Hello {
        versions: vec![1],
        token: "alice".into(),
        device_id: "d1".into(),
        ..Default::default()
    });
    session.handle_input(now, &framed(&hello)).expect("a valid Hello");
    while session.poll_event().is_some() {}
    let resume = wire::ResumeResult { outcome: wire::ResumeOutcome::Fresh as i32, epoch: 1, next_seq: 1 };
    let info = WelcomeInfo { session_id: "s1".into(), resume, server_id: "srv".into(), server_time_ms: 0 };
    session.welcome(now, info).expect("verified");
    session.poll_transmit(&mut Vec::new());
    session
}

/// A Send in, its event out, the SendAck written: the session's share of one message.
fn session_step(session: &mut ServerSession, input: &[u8], out: &mut Vec<u8>, now: Instant) {
    session.handle_input(now, input).expect("a valid Send");
    while let Some(event) = session.poll_event() {
        if let ServerEvent::Send(send) = event {
            session.ack_send(wire::SendAck {
                client_msg_id: send.client_msg_id,
                message_id: "0192f3a4b5c6d7e8f9a0b1c2".into(),
                sent_at_ms: 1_764_000_000_000,
                duplicate: false,
                live_only: false,
            });
        }
    }
    out.clear();
    session.poll_transmit(out);
}

fn benches(c: &mut Criterion) {
    let deliver = deliver(64);
    let send_frame = framed(&send("0123456789abcdef0123456789abcdef", 64));
    let mut out = Vec::with_capacity(1024);
    let mut decoder = FrameDecoder::new(65_536);
    let mut decoded = Vec::with_capacity(4);
    let mut session = open_session();
    let now = Instant::now();

    // Allocations first: they do not depend on timing and say what a buffer could save.
    let encode_allocs = allocations_per(|| {
        out.clear();
        codec::encode_frame(black_box(&deliver), Framing::LengthPrefixed, &mut out);
    });
    let decode_allocs = allocations_per(|| {
        decoded.clear();
        decoder.decode(black_box(&send_frame), &mut decoded).expect("valid");
    });
    let step_allocs = allocations_per(|| session_step(&mut session, &send_frame, &mut out, now));
    println!(
        "allocations per frame: encode Deliver {encode_allocs:.2}, decode Send {decode_allocs:.2}, session step (Send in, SendAck out) {step_allocs:.2}"
    );

    let mut group = c.benchmark_group("frames");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode Deliver (64 B body)", |b| {
        b.iter(|| {
            out.clear();
            codec::encode_frame(black_box(&deliver), Framing::LengthPrefixed, &mut out);
        })
    });
    group.bench_function("decode Send (64 B body)", |b| {
        b.iter(|| {
            decoded.clear();
            decoder.decode(black_box(&send_frame), &mut decoded).expect("valid");
        })
    });
    group.bench_function("server session step: Send in, SendAck out", |b| {
        b.iter(|| session_step(&mut session, black_box(&send_frame), &mut out, now))
    });
    group.finish();
}

criterion_group!(frames, benches);
criterion_main!(frames);
