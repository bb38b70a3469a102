//! The Rust SDK of cim.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cim_sdk::Error> {
//! use cim_sdk::{Client, ClientOptions, Credentials, Event};
//!
//! let mut alice = Client::login(
//!     "http://127.0.0.1:8083",
//!     Credentials::password("alice", "correct horse"),
//!     ClientOptions::new("alice-laptop"),
//! )
//! .await?;
//! let bob = alice.user_id_of("bob").await?; // user ids are not names
//! alice.send_to_user(&bob, "hi bob").await?;
//! while let Some(event) = alice.next_event().await {
//!     if let Event::Message(message) = event {
//!         println!("{}: {}", message.from, message.text());
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! A [`Client`] runs `cim_core`'s `ClientSession` on tokio: it logs in at the route,
//! connects to the assigned server over TCP or WebSocket, keeps the connection alive, and
//! after any failure logs in again with backoff and resumes its inbox, so that every message
//! is seen once and in order. Sends wait for the server's acknowledgement.
//!
//! A message is acknowledged to the server, and counts in the resume point
//! ([`Status::resume`]), once the application has taken it with [`Client::next_event`] (or
//! [`Events::next`]): one that arrived but was never taken is delivered again after a crash.
//! At most 1024 events wait to be taken; past that the client stops reading from its server
//! until the application catches up.
#![forbid(unsafe_code)]

mod client;
pub mod driver;
mod error;
mod link;
mod route;

use std::time::Duration;

use bytes::Bytes;
pub use cim_core::client::ConnectionState;
pub use cim_core::wire::{ResumeOutcome, ResumePoint, SendAck};
pub use cim_core::{ErrorCode, Retry};
pub use client::{Client, ClientOptions, ClientSender, Events, Status};
pub use error::{Error, ErrorKind};
pub use link::Transport;
pub use route::{Credentials, GroupInfo, Login, OnlinePage, RouteClient, ServerInfo, UserInfo};

/// Who a message is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One user, all of their devices.
    User(String),
    /// Every member of a group.
    Group(String),
    /// Everyone online: live only, never stored.
    Everyone,
}

/// A received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Inbox sequence number; 0 for a live-only broadcast.
    pub seq: u64,
    /// Server message id.
    pub message_id: String,
    /// The sender (authenticated by the server).
    pub from: String,
    /// What it was sent to: this user, a group, or everyone.
    pub to: Target,
    /// Body type; `text/plain` when the sender gave none.
    pub content_type: String,
    /// The body.
    pub body: Bytes,
    /// When the server accepted it, ms since the Unix epoch.
    pub sent_at_ms: u64,
}

impl Message {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What happens to a client.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The session is up (again).
    Connected {
        /// The session.
        session_id: String,
        /// The server.
        server_id: String,
        /// What became of the inbox position.
        resume: ResumeOutcome,
    },
    /// A message arrived.
    Message(Message),
    /// The inbox did not continue where this device left off: messages may be missing.
    InboxDiscontinuity {
        /// How it did not continue.
        outcome: Discontinuity,
        /// The inbox epoch now.
        epoch: u64,
    },
    /// The connection is gone; the client reconnects after `retry_in`.
    Disconnected {
        /// Why, for people.
        reason: String,
        /// The registry code of the error that ended the connection, if one did (a timeout,
        /// a server's Error frame); `None` when the transport just closed.
        code: Option<ErrorCode>,
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// The client stopped for good.
    Closed {
        /// Why, for people.
        reason: String,
        /// The registry code of the fatal error that stopped it, if one did.
        code: Option<ErrorCode>,
    },
}

/// How an inbox failed to continue where a device left off (spec §8.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discontinuity {
    /// The inbox started over (its store lost it): what was in it before may be missing.
    EpochChanged,
    /// Entries this device had not read left the inbox (retention): some are missing.
    Gap,
}

impl Discontinuity {
    /// `epoch_changed` or `gap`: the name bindings to other languages show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EpochChanged => "epoch_changed",
            Self::Gap => "gap",
        }
    }
}

/// Creates a built-in account at the route; returns the user id.
pub async fn register(route_url: &str, user: &str, password: &str) -> Result<String, Error> {
    RouteClient::new(route_url)?.register(user, password).await
}
