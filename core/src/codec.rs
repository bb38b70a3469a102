//! Frame encoding and incremental decoding (spec §3).
//!
//! On TCP a frame is its length as an unsigned varint (at most 5 bytes) followed by the
//! protobuf `Frame`; on WebSocket one binary message is one `Frame`. The decoder enforces the
//! frame-size limit from the length prefix alone, before buffering anything, and holds no
//! buffer between frames: only a frame split across reads is copied.

use std::collections::VecDeque;

use prost::Message;

use crate::ErrorCode;
use crate::wire::{Frame, frame::Body};

/// The protocol's default maximum frame size, used until limits are negotiated (spec §10).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 65_536;

/// Longest valid length prefix: a varint of a `u32`.
pub const MAX_LENGTH_PREFIX: usize = 5;

/// How frames are delimited on a transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Varint length prefix before each frame: TCP, TLS over TCP (spec §3.1).
    LengthPrefixed,
    /// The transport delimits messages, one frame each: WebSocket (spec §3.2).
    Message,
}

/// Why bytes from the peer are not a valid frame. Each maps to a registry code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The length prefix is longer than 5 bytes or does not fit in 32 bits.
    #[error("length prefix is not an unsigned varint of at most 5 bytes")]
    BadLengthPrefix,
    /// The announced (or actual) frame length is over the limit.
    #[error("frame of {len} bytes exceeds the maximum frame size of {max}")]
    FrameTooLarge {
        /// Length of the offending frame.
        len: u64,
        /// The limit in force.
        max: u32,
    },
    /// The bytes are not a protobuf `Frame`.
    #[error("frame is not a valid protobuf Frame: {0}")]
    Malformed(String),
    /// A `Frame` without a body, or with a body this version does not know.
    #[error("frame has no body, or a body this version does not know")]
    UnknownFrame,
}

impl DecodeError {
    /// The registry code to report this error with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadLengthPrefix => ErrorCode::BAD_LENGTH_PREFIX,
            Self::FrameTooLarge { .. } => ErrorCode::FRAME_TOO_LARGE,
            Self::Malformed(_) => ErrorCode::MALFORMED_FRAME,
            Self::UnknownFrame => ErrorCode::UNKNOWN_FRAME,
        }
    }
}

/// Appends one frame to `out`, with a length prefix when `framing` asks for one.
pub fn encode_frame(body: &Body, framing: Framing, out: &mut Vec<u8>) {
    // A Frame holding one oneof field encodes exactly as that field: no temporary Frame.
    let len = body.encoded_len();
    out.reserve(len + MAX_LENGTH_PREFIX);
    if framing == Framing::LengthPrefixed {
        prost::encoding::encode_varint(len as u64, out);
    }
    body.encode(out);
}

/// Length of `body` once framed, prefix included when `framing` asks for one.
pub fn framed_len(body: &Body, framing: Framing) -> usize {
    let len = body.encoded_len();
    match framing {
        Framing::LengthPrefixed => prost::encoding::encoded_len_varint(len as u64) + len,
        Framing::Message => len,
    }
}

/// Decodes one whole frame (a WebSocket message, or a frame with its prefix removed).
pub fn decode_frame(bytes: &[u8], max_frame_size: u32) -> Result<Body, DecodeError> {
    if bytes.len() as u64 > u64::from(max_frame_size) {
        return Err(DecodeError::FrameTooLarge { len: bytes.len() as u64, max: max_frame_size });
    }
    let frame = Frame::decode(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    frame.body.ok_or(DecodeError::UnknownFrame)
}

/// Reads a length prefix at the start of `buf`: `Ok(None)` when more bytes are needed,
/// otherwise the frame length and the prefix's own length.
fn read_length_prefix(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value: u64 = 0;
    for (i, &byte) in buf.iter().take(MAX_LENGTH_PREFIX).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let len = u32::try_from(value).map_err(|_| DecodeError::BadLengthPrefix)?;
            return Ok(Some((len, i + 1)));
        }
    }
    if buf.len() >= MAX_LENGTH_PREFIX { Err(DecodeError::BadLengthPrefix) } else { Ok(None) }
}

/// Incremental decoder for length-prefixed frames (TCP).
///
/// Feed it whatever the socket returned; it yields every complete frame and keeps only the
/// unfinished tail. The first error is sticky: every later call returns it again, since the
/// stream can no longer be resynchronised.
#[derive(Debug)]
pub struct FrameDecoder {
    max_frame_size: u32,
    /// Bytes of one unfinished frame, prefix included. Empty and unallocated between frames.
    partial: Vec<u8>,
    error: Option<DecodeError>,
}

impl FrameDecoder {
    /// A decoder that refuses frames longer than `max_frame_size`.
    pub fn new(max_frame_size: u32) -> Self {
        Self { max_frame_size, partial: Vec::new(), error: None }
    }

    /// Changes the limit, e.g. once the handshake has negotiated one.
    pub fn set_max_frame_size(&mut self, max_frame_size: u32) {
        self.max_frame_size = max_frame_size;
    }

    /// The limit in force.
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// Bytes held for an unfinished frame.
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Decodes every complete frame in `input` (after what earlier calls left unfinished),
    /// appending the bodies to `out`. Frames decoded before an error are still appended.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<Body>) -> Result<(), DecodeError> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let result = self.decode_inner(input, out);
        if let Err(error) = &result {
            self.error = Some(error.clone());
            self.partial = Vec::new();
        }
        result
    }

    fn decode_inner(&mut self, mut input: &[u8], out: &mut Vec<Body>) -> Result<(), DecodeError> {
        if !self.partial.is_empty() {
            input = self.complete_partial(input, out)?;
            if !self.partial.is_empty() {
                return Ok(());
            }
        }
        // Fast path: frames wholly inside `input` are decoded in place, without a copy.
        while !input.is_empty() {
            let Some((len, prefix_len)) = read_length_prefix(input)? else {
                break;
            };
            self.check_len(len)?;
            let end = prefix_len + len as usize;
            if input.len() < end {
                break;
            }
            out.push(decode_frame(&input[prefix_len..end], self.max_frame_size)?);
            input = &input[end..];
        }
        self.partial.extend_from_slice(input);
        Ok(())
    }

    /// Moves bytes from `input` into the unfinished frame until it is whole (then decodes it)
    /// or `input` runs out. Returns what is left of `input`.
    fn complete_partial<'a>(
        &mut self,
        mut input: &'a [u8],
        out: &mut Vec<Body>,
    ) -> Result<&'a [u8], DecodeError> {
        let (len, prefix_len) = loop {
            if let Some(prefix) = read_length_prefix(&self.partial)? {
                break prefix;
            }
            let Some((&byte, rest)) = input.split_first() else {
                return Ok(input);
            };
            self.partial.push(byte);
            input = rest;
        };
        self.check_len(len)?;
        let missing = (prefix_len + len as usize).saturating_sub(self.partial.len());
        let take = missing.min(input.len());
        self.partial.extend_from_slice(&input[..take]);
        input = &input[take..];
        if take == missing {
            let body = decode_frame(&self.partial[prefix_len..], self.max_frame_size);
            self.partial = Vec::new();
            out.push(body?);
        }
        Ok(input)
    }

    fn check_len(&self, len: u32) -> Result<(), DecodeError> {
        if len > self.max_frame_size {
            Err(DecodeError::FrameTooLarge { len: len.into(), max: self.max_frame_size })
        } else {
            Ok(())
        }
    }
}

/// The receiving half of a session's transport: decodes each read according to the framing.
/// The frame vector is lent out and given back, so a session reuses it instead of allocating
/// per read.
#[derive(Debug)]
pub(crate) struct Inbound {
    framing: Framing,
    decoder: FrameDecoder,
    frames: Vec<Body>,
}

impl Inbound {
    pub(crate) fn new(framing: Framing, max_frame_size: u32) -> Self {
        Self { framing, decoder: FrameDecoder::new(max_frame_size), frames: Vec::new() }
    }

    pub(crate) fn set_max_frame_size(&mut self, max_frame_size: u32) {
        self.decoder.set_max_frame_size(max_frame_size);
    }

    /// Decodes one read (a stream chunk, or one whole message); hand the frames back with
    /// [`recycle`](Self::recycle) once processed.
    pub(crate) fn read(&mut self, bytes: &[u8]) -> (Vec<Body>, Result<(), DecodeError>) {
        let mut frames = std::mem::take(&mut self.frames);
        let result = match self.framing {
            Framing::LengthPrefixed => self.decoder.decode(bytes, &mut frames),
            Framing::Message => {
                decode_frame(bytes, self.decoder.max_frame_size()).map(|body| frames.push(body))
            }
        };
        (frames, result)
    }

    pub(crate) fn recycle(&mut self, mut frames: Vec<Body>) {
        frames.clear();
        self.frames = frames;
    }

    /// Frees the recycled frame buffer (kept for the next read while the peer is busy).
    pub(crate) fn release_buffer(&mut self) {
        self.frames = Vec::new();
    }
}

/// Encodes queued frames into `buf`: all of them on a stream, one (a whole message) on a
/// message transport. Returns how many.
pub(crate) fn write_queued(queue: &mut VecDeque<Body>, framing: Framing, buf: &mut Vec<u8>) -> usize {
    let mut count = 0;
    while let Some(body) = queue.pop_front() {
        encode_frame(&body, framing, buf);
        count += 1;
        if framing == Framing::Message {
            break;
        }
    }
    count
}

/// The frame's name as in the spec, for error messages.
pub fn frame_name(body: &Body) -> &'static str {
    match body {
        Body::Hello(_) => "Hello",
        Body::Welcome(_) => "Welcome",
        Body::Ping(_) => "Ping",
        Body::Pong(_) => "Pong",
        Body::Send(_) => "Send",
        Body::SendAck(_) => "SendAck",
        Body::Deliver(_) => "Deliver",
        Body::DeliverAck(_) => "DeliverAck",
        Body::Error(_) => "Error",
        Body::GoAway(_) => "GoAway",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Ping, Pong};

    fn ping(nonce: u64) -> Body {
        Body::Ping(Ping { nonce })
    }

    fn encoded(bodies: &[Body]) -> Vec<u8> {
        let mut out = Vec::new();
        for body in bodies {
            encode_frame(body, Framing::LengthPrefixed, &mut out);
        }
        out
    }

    #[test]
    fn decodes_many_frames_from_one_read() {
        let bodies = vec![ping(1), Body::Pong(Pong { nonce: 2 }), ping(u64::MAX)];
        let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        let mut out = Vec::new();
        decoder.decode(&encoded(&bodies), &mut out).expect("valid input");
        assert_eq!(out, bodies);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn byte_at_a_time_gives_the_same_frames() {
        let bodies = vec![ping(300), ping(0), ping(1 << 40)];
        let bytes = encoded(&bodies);
        let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        let mut out = Vec::new();
        for byte in &bytes {
            decoder.decode(std::slice::from_ref(byte), &mut out).expect("valid input");
        }
        assert_eq!(out, bodies);
        assert_eq!(decoder.partial.capacity(), 0, "no buffer held between frames");
    }

    #[test]
    fn oversized_length_is_refused_before_the_body_arrives() {
        let mut decoder = FrameDecoder::new(16);
        let mut prefix = Vec::new();
        prost::encoding::encode_varint(17, &mut prefix);
        let err = decoder.decode(&prefix, &mut Vec::new()).expect_err("over the limit");
        assert_eq!(err, DecodeError::FrameTooLarge { len: 17, max: 16 });
        assert_eq!(err.code(), ErrorCode::FRAME_TOO_LARGE);
    }

    #[test]
    fn six_byte_varint_is_a_bad_prefix_and_the_error_sticks() {
        let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        let bad = [0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        let err = decoder.decode(&bad, &mut Vec::new()).expect_err("bad varint");
        assert_eq!(err.code(), ErrorCode::BAD_LENGTH_PREFIX);
        let again = decoder.decode(&encoded(&[ping(1)]), &mut Vec::new());
        assert_eq!(again, Err(DecodeError::BadLengthPrefix));
    }

    #[test]
    fn five_byte_varint_above_u32_is_a_bad_prefix() {
        let mut decoder = FrameDecoder::new(u32::MAX);
        let err = decoder.decode(&[0xff, 0xff, 0xff, 0xff, 0x1f], &mut Vec::new());
        assert_eq!(err, Err(DecodeError::BadLengthPrefix));
    }

    #[test]
    fn empty_frame_is_unknown() {
        let mut decoder = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        let err = decoder.decode(&[0x00], &mut Vec::new()).expect_err("no body");
        assert_eq!(err.code(), ErrorCode::UNKNOWN_FRAME);
    }

    #[test]
    fn unknown_body_field_is_unknown_frame() {
        // Field 99, varint 1: a body from some future version.
        let frame = [0x98, 0x06, 0x01];
        assert_eq!(decode_frame(&frame, 64), Err(DecodeError::UnknownFrame));
    }

    #[test]
    fn garbage_is_malformed() {
        let err = decode_frame(&[0x0a, 0x05, 0x01], 64).expect_err("truncated field");
        assert_eq!(err.code(), ErrorCode::MALFORMED_FRAME);
    }

    #[test]
    fn framed_len_matches_encoding() {
        for body in [ping(0), ping(u64::MAX)] {
            for framing in [Framing::LengthPrefixed, Framing::Message] {
                let mut out = Vec::new();
                encode_frame(&body, framing, &mut out);
                assert_eq!(out.len(), framed_len(&body, framing));
            }
        }
    }
}
