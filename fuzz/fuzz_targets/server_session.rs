//! A server session fed arbitrary bytes and timer ticks: no panic, and whatever it writes
//! back decodes.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use cim_core::server::{Identity, ServerConfig, ServerSession, TokenVerifier};
use cim_core::{ErrorCode, FrameDecoder, Framing};
use libfuzzer_sys::fuzz_target;

struct AcceptAll;

impl TokenVerifier for AcceptAll {
    fn verify(&self, token: &str) -> Result<Identity, ErrorCode> {
        if token.is_empty() { Err(ErrorCode::UNAUTHENTICATED) } else { Ok(Identity { user_id: token.into(), device_id: None, login_id: None, account_generation: None, issued_at_ms: None }) }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Read(Vec<u8>),
    Wait(u16),
}

fuzz_target!(|ops: Vec<Op>| {
    let config = Arc::new(ServerConfig::new(Arc::new(AcceptAll), Framing::LengthPrefixed));
    let mut now = Instant::now();
    let mut session = ServerSession::new(config, now);
    let mut out = Vec::new();
    let mut decoder = FrameDecoder::new(u32::MAX);
    let mut frames = Vec::new();
    for op in ops {
        match op {
            Op::Read(bytes) => {
                let _ = session.handle_input(now, &bytes);
            }
            Op::Wait(ms) => {
                now += Duration::from_millis(ms.into());
                session.handle_timeout(now);
            }
        }
        while session.poll_event().is_some() {}
        out.clear();
        while session.poll_transmit(&mut out) > 0 {}
        decoder.decode(&out, &mut frames).expect("the server writes valid frames");
    }
});
