//! Builders of the frames the harness sends, with the fields a case usually wants.

use cim_proto::v1::{
    DeliverAck, Error, Everyone, Frame, Hello, Ping, Pong, Recipient, ResumePoint, Send, frame::Body,
    recipient,
};

/// Wraps a body in a Frame.
pub fn frame(body: Body) -> Frame {
    Frame { body: Some(body) }
}

/// A Hello offering version 1 with this token and device.
pub fn hello(token: &str, device_id: &str) -> Hello {
    Hello {
        versions: vec![1],
        token: token.to_owned(),
        device_id: device_id.to_owned(),
        resume: None,
        client_name: "cim-conformance".to_owned(),
        max_frame_size: 0,
        heartbeat_interval_ms: 0,
    }
}

/// A Hello frame with a resume point.
pub fn hello_resume(token: &str, device_id: &str, epoch: u64, last_acked_seq: u64) -> Frame {
    let mut hello = hello(token, device_id);
    hello.resume = Some(ResumePoint { epoch, last_acked_seq });
    frame(Body::Hello(hello))
}

/// A recipient user.
pub fn to_user(user_id: &str) -> Recipient {
    Recipient { kind: Some(recipient::Kind::UserId(user_id.to_owned())) }
}

/// A recipient group.
pub fn to_group(group_id: &str) -> Recipient {
    Recipient { kind: Some(recipient::Kind::GroupId(group_id.to_owned())) }
}

/// Everyone online.
pub fn to_everyone() -> Recipient {
    Recipient { kind: Some(recipient::Kind::Everyone(Everyone {})) }
}

/// A text Send.
pub fn send(client_msg_id: &str, to: Recipient, text: &str) -> Frame {
    send_bytes(client_msg_id, to, "text/plain", text.as_bytes().to_vec())
}

/// A Send with any content type and body.
pub fn send_bytes(client_msg_id: &str, to: Recipient, content_type: &str, body: Vec<u8>) -> Frame {
    frame(Body::Send(Send {
        client_msg_id: client_msg_id.to_owned(),
        to: Some(to),
        content_type: content_type.to_owned(),
        body: body.into(),
    }))
}

/// A DeliverAck.
pub fn deliver_ack(up_to_seq: u64) -> Frame {
    frame(Body::DeliverAck(DeliverAck { up_to_seq }))
}

/// A Ping.
pub fn ping(nonce: u64) -> Frame {
    frame(Body::Ping(Ping { nonce }))
}

/// A Pong.
pub fn pong(nonce: u64) -> Frame {
    frame(Body::Pong(Pong { nonce }))
}

/// An Error frame.
pub fn error(code: u32, client_msg_id: &str) -> Frame {
    frame(Body::Error(Error {
        code,
        message: "sent by cim-conformance".to_owned(),
        client_msg_id: client_msg_id.to_owned(),
        retry_after_ms: 0,
    }))
}
