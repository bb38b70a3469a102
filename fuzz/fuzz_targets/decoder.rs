//! The frame decoder under arbitrary reads: it never panics, never buffers more than one
//! frame, and once it fails it keeps failing the same way.
#![no_main]

use arbitrary::Arbitrary;
use cim_core::codec::{self, FrameDecoder, MAX_LENGTH_PREFIX};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    /// Bytes as one read from a TCP socket.
    Read(Vec<u8>),
    /// Bytes as one WebSocket message.
    Message(Vec<u8>),
    /// A new limit, as after a handshake.
    SetMax(u32),
}

fuzz_target!(|input: (u32, Vec<Op>)| {
    let (max, ops) = input;
    let mut decoder = FrameDecoder::new(max);
    let mut frames = Vec::new();
    let mut first_error = None;
    for op in ops {
        match op {
            Op::Read(bytes) => match decoder.decode(&bytes, &mut frames) {
                Ok(()) => assert!(first_error.is_none(), "errors are sticky"),
                Err(e) => {
                    if let Some(first) = &first_error {
                        assert_eq!(first, &e);
                    }
                    first_error = Some(e);
                }
            },
            Op::Message(bytes) => {
                let _ = codec::decode_frame(&bytes, decoder.max_frame_size());
            }
            Op::SetMax(max) => decoder.set_max_frame_size(max),
        }
        assert!(decoder.buffered() <= decoder.max_frame_size().max(max) as usize + MAX_LENGTH_PREFIX);
        frames.clear();
    }
});
