//! `cim-ffi`: cim-sdk for Kotlin and Swift, through uniffi. Thin on purpose: every behaviour
//! (reconnect, resume, dedupe, order) is the Rust SDK's; this crate only maps types.
//!
//! Async functions run on one tokio runtime of this library, whatever executor awaits them
//! (Kotlin coroutines, Swift tasks); listeners are foreign traits called from that runtime and
//! return a [`Subscription`] that stops them when released.
// uniffi's macros expand to unsafe FFI code.
#![allow(unsafe_code)]

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;

uniffi::setup_scaffolding!("cim");

/// The runtime every call of this library runs on.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cim-ffi")
        .build()
        .unwrap_or_else(|e| panic!("cim-ffi cannot start its tokio runtime: {e}"))
});

/// Runs `future` on [`RUNTIME`] and awaits it from whatever executor polls this.
async fn on_runtime<T: Send + 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, CimError> {
    RUNTIME
        .spawn(future)
        .await
        .map_err(|e| CimError::Closed { detail: format!("the call was cut short: {e}") })
}

/// What went wrong. `code` is the registry code of spec/v1 (0 when there is none) and
/// `code_name` its name.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CimError {
    /// Wrong credentials, or a token no longer accepted.
    #[error("{detail}")]
    Authentication {
        /// Registry code.
        code: u32,
        /// Its name.
        code_name: String,
        /// What the route or server said.
        detail: String,
    },
    /// The route or server cannot be reached or is overloaded; trying later may help.
    #[error("{detail}")]
    Unavailable {
        /// Registry code.
        code: u32,
        /// Its name.
        code_name: String,
        /// What went wrong.
        detail: String,
    },
    /// The request was refused (an unknown recipient, a name taken, …).
    #[error("{detail}")]
    Rejected {
        /// Registry code.
        code: u32,
        /// Its name.
        code_name: String,
        /// What the route or server said.
        detail: String,
    },
    /// An argument cannot be sent as given.
    #[error("{detail}")]
    InvalidInput {
        /// What is wrong with it.
        detail: String,
    },
    /// The client is closed.
    #[error("{detail}")]
    Closed {
        /// Why.
        detail: String,
    },
}

impl From<cim_sdk::Error> for CimError {
    fn from(error: cim_sdk::Error) -> Self {
        use cim_sdk::{ErrorCode, ErrorKind};
        let code = error.code().map_or(0, |c| c.0);
        let code_name = error.code().and_then(ErrorCode::name).unwrap_or("").to_owned();
        let detail = error.to_string();
        match error.kind() {
            ErrorKind::Authentication => Self::Authentication { code, code_name, detail },
            ErrorKind::Unavailable => Self::Unavailable { code, code_name, detail },
            ErrorKind::Rejected => Self::Rejected { code, code_name, detail },
            ErrorKind::InvalidInput => Self::InvalidInput { detail },
            ErrorKind::Closed => Self::Closed { detail },
        }
    }
}

/// How the client reaches its server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Transport {
    /// Varint-framed TCP, with TLS when the server offers it.
    Tcp,
    /// WebSocket, `wss://` when the server offers it.
    WebSocket,
}

/// How to log in.
#[derive(Clone, Debug, uniffi::Record)]
pub struct LoginOptions {
    /// Names this device; each device of a user has its own place in the inbox.
    pub device_id: String,
    /// TCP or WebSocket.
    pub transport: Transport,
    /// A PEM certificate to trust for TLS besides the usual roots.
    #[uniffi(default = None)]
    pub trust_pem: Option<String>,
    /// How long to wait for the first session, in milliseconds; `None` takes the Rust SDK's
    /// default (15 s).
    #[uniffi(default = None)]
    pub connect_timeout_ms: Option<u64>,
}

/// Who a message is for.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Recipient {
    /// One user.
    User {
        /// The user's id.
        user_id: String,
    },
    /// Every member of a group.
    Group {
        /// The group's id.
        group_id: String,
    },
    /// Everyone online: live only, never stored.
    Everyone,
}

impl From<Recipient> for cim_sdk::Target {
    fn from(recipient: Recipient) -> Self {
        match recipient {
            Recipient::User { user_id } => Self::User(user_id),
            Recipient::Group { group_id } => Self::Group(group_id),
            Recipient::Everyone => Self::Everyone,
        }
    }
}

/// The server stored a message (or handed a broadcast to the live sessions).
#[derive(Clone, Debug, uniffi::Record)]
pub struct SendAck {
    /// The id the server gave the message.
    pub message_id: String,
    /// True when the server had it already: nothing was stored twice.
    pub duplicate: bool,
}

/// A message that arrived.
#[derive(Clone, Debug, uniffi::Record)]
pub struct Message {
    /// Orders the messages of this user's inbox.
    pub seq: u64,
    /// The server's id of the message.
    pub message_id: String,
    /// Who sent it.
    pub from_user_id: String,
    /// Who it was sent to.
    pub to: Recipient,
    /// The body's media type.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
    /// When the server accepted it, in ms since the Unix epoch.
    pub sent_at_ms: u64,
}

/// What happens to a client, in order.
#[derive(Clone, Debug, uniffi::Enum)]
pub enum ClientEvent {
    /// The session is up (again).
    Connected {
        /// The session.
        session_id: String,
        /// The server.
        server_id: String,
    },
    /// A message arrived.
    MessageReceived {
        /// The message.
        message: Message,
    },
    /// The inbox did not continue where this device left off: messages may be missing.
    MessagesLost {
        /// `epoch_changed` or `gap`.
        reason: String,
        /// The inbox epoch now.
        epoch: u64,
    },
    /// The connection is gone; the client reconnects by itself after `retry_in_ms`.
    Disconnected {
        /// Why, for people.
        reason: String,
        /// The registry code of the error that ended the connection, if one did.
        code: Option<u32>,
        /// Delay before the next attempt.
        retry_in_ms: u64,
    },
    /// The client stopped for good; nothing follows.
    Closed {
        /// Why, for people.
        reason: String,
        /// The registry code of the fatal error that stopped it, if one did.
        code: Option<u32>,
    },
}

fn event(event: cim_sdk::Event) -> Option<ClientEvent> {
    use cim_sdk::Event;
    Some(match event {
        Event::Connected { session_id, server_id, .. } => ClientEvent::Connected { session_id, server_id },
        Event::Message(m) => ClientEvent::MessageReceived {
            message: Message {
                seq: m.seq,
                message_id: m.message_id,
                from_user_id: m.from,
                to: match m.to {
                    cim_sdk::Target::User(user_id) => Recipient::User { user_id },
                    cim_sdk::Target::Group(group_id) => Recipient::Group { group_id },
                    _ => Recipient::Everyone,
                },
                content_type: m.content_type,
                body: m.body.to_vec(),
                sent_at_ms: m.sent_at_ms,
            },
        },
        Event::InboxDiscontinuity { outcome, epoch } => {
            ClientEvent::MessagesLost { reason: outcome.as_str().to_owned(), epoch }
        }
        Event::Disconnected { reason, code, retry_in } => ClientEvent::Disconnected {
            reason,
            code: code.map(|c| c.0),
            retry_in_ms: u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX),
        },
        Event::Closed { reason, code } => ClientEvent::Closed { reason, code: code.map(|c| c.0) },
        _ => return None,
    })
}

/// A user listed by [`Client::online_users`] or [`Client::group_members`].
#[derive(Clone, Debug, uniffi::Record)]
pub struct User {
    /// Id.
    pub user_id: String,
    /// Name.
    pub user_name: String,
}

impl From<cim_sdk::UserInfo> for User {
    fn from(user: cim_sdk::UserInfo) -> Self {
        Self { user_id: user.user_id, user_name: user.user_name }
    }
}

/// A group, as [`Client::create_group`] and the other group calls return it.
#[derive(Clone, Debug, uniffi::Record)]
pub struct Group {
    /// Id.
    pub group_id: String,
    /// How many members it has.
    pub member_count: u64,
}

impl From<cim_sdk::GroupInfo> for Group {
    fn from(group: cim_sdk::GroupInfo) -> Self {
        Self { group_id: group.group_id, member_count: group.member_count }
    }
}

/// Receives a client's events, on a thread of this library: return quickly, never block.
#[uniffi::export(foreign)]
pub trait EventListener: Send + Sync {
    /// One event, in order.
    fn on_event(&self, event: ClientEvent);
}

/// A running [`Client::subscribe`]: events stop when it is released or cancelled.
#[derive(uniffi::Object)]
pub struct Subscription {
    task: tokio::task::AbortHandle,
}

#[uniffi::export]
impl Subscription {
    /// Stops the events now.
    pub fn cancel(&self) {
        self.task.abort();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Creates a built-in account at the route at `route`; returns its user id.
#[uniffi::export]
pub async fn register(route: String, user: String, password: String) -> Result<String, CimError> {
    on_runtime(async move { cim_sdk::register(&route, &user, &password).await })
        .await?
        .map_err(CimError::from)
}

/// A user logged in to cim. It reconnects and resumes by itself until [`Client::shutdown`].
#[derive(uniffi::Object)]
pub struct Client {
    sender: cim_sdk::ClientSender,
    events: Arc<tokio::sync::Mutex<cim_sdk::Events>>,
}

#[uniffi::export]
impl Client {
    /// Logs in with a user name and password and waits until the first session is up.
    #[uniffi::constructor]
    pub async fn login(
        route: String,
        user: String,
        password: String,
        options: LoginOptions,
    ) -> Result<Arc<Self>, CimError> {
        Self::start(route, cim_sdk::Credentials::Password { user, password }, options).await
    }

    /// Logs in with a JWT of the application's backend.
    #[uniffi::constructor]
    pub async fn login_with_jwt(
        route: String,
        jwt: String,
        options: LoginOptions,
    ) -> Result<Arc<Self>, CimError> {
        Self::start(route, cim_sdk::Credentials::Jwt(jwt), options).await
    }

    /// The logged-in user's id.
    pub fn user_id(&self) -> String {
        self.sender.user_id()
    }

    /// Sends a text message to one user; returns once the server has stored it.
    pub async fn send_to_user(&self, user_id: String, text: String) -> Result<SendAck, CimError> {
        self.send(Recipient::User { user_id }, "text/plain".into(), text.into_bytes()).await
    }

    /// Sends a text message to every member of a group.
    pub async fn send_to_group(&self, group_id: String, text: String) -> Result<SendAck, CimError> {
        self.send(Recipient::Group { group_id }, "text/plain".into(), text.into_bytes()).await
    }

    /// Sends a text message to everyone online: live only, never stored.
    pub async fn broadcast(&self, text: String) -> Result<SendAck, CimError> {
        self.send(Recipient::Everyone, "text/plain".into(), text.into_bytes()).await
    }

    /// Sends any body. A message sent while the connection is down goes out after the
    /// reconnect; messages sent in turn arrive in that order.
    pub async fn send(
        &self,
        to: Recipient,
        content_type: String,
        body: Vec<u8>,
    ) -> Result<SendAck, CimError> {
        let ack = self.sender.start_send(to.into(), &content_type, Bytes::from(body));
        let ack = on_runtime(ack).await??;
        Ok(SendAck { message_id: ack.message_id, duplicate: ack.duplicate })
    }

    /// The id of the one user named `user_name`, looked up at the route: send to user ids,
    /// never to names (spec CIM-14.1-6). NOT_FOUND when nobody has the name; InvalidInput
    /// when several users share it.
    pub async fn user_id_of(&self, user_name: String) -> Result<String, CimError> {
        let sender = self.sender.clone();
        Ok(on_runtime(async move { sender.user_id_of(&user_name).await }).await??)
    }

    /// Every user online now, all pages followed.
    pub async fn online_users(&self) -> Result<Vec<User>, CimError> {
        let sender = self.sender.clone();
        let users = on_runtime(async move { sender.all_online_users(500).await }).await??;
        Ok(users.into_iter().map(User::from).collect())
    }

    /// Creates a group with this user as its only member; others join it themselves.
    pub async fn create_group(&self, group_id: String) -> Result<Group, CimError> {
        let sender = self.sender.clone();
        Ok(on_runtime(async move { sender.create_group(&group_id).await }).await??.into())
    }

    /// Joins a group.
    pub async fn join_group(&self, group_id: String) -> Result<Group, CimError> {
        let sender = self.sender.clone();
        Ok(on_runtime(async move { sender.join_group(&group_id).await }).await??.into())
    }

    /// Leaves a group.
    pub async fn leave_group(&self, group_id: String) -> Result<Group, CimError> {
        let sender = self.sender.clone();
        Ok(on_runtime(async move { sender.leave_group(&group_id).await }).await??.into())
    }

    /// Members of a group this user belongs to.
    pub async fn group_members(&self, group_id: String) -> Result<Vec<User>, CimError> {
        let sender = self.sender.clone();
        let members = on_runtime(async move { sender.group_members(&group_id).await }).await??;
        Ok(members.into_iter().map(User::from).collect())
    }

    /// This user's groups.
    pub async fn my_groups(&self) -> Result<Vec<Group>, CimError> {
        let sender = self.sender.clone();
        let groups = on_runtime(async move { sender.my_groups().await }).await??;
        Ok(groups.into_iter().map(Group::from).collect())
    }

    /// The next event; `None` once the client is closed and every event was read.
    pub async fn next_event(&self) -> Option<ClientEvent> {
        let events = self.events.clone();
        on_runtime(async move {
            let mut events = events.lock().await;
            loop {
                match events.next().await {
                    Some(e) => {
                        if let Some(e) = event(e) {
                            return Some(e);
                        }
                    }
                    None => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Hands every event to `listener` until the returned subscription is released or
    /// cancelled, or the client closes.
    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> Arc<Subscription> {
        let events = self.events.clone();
        let task = RUNTIME.spawn(async move {
            let mut events = events.lock().await;
            while let Some(e) = events.next().await {
                if let Some(e) = event(e) {
                    listener.on_event(e);
                }
            }
        });
        Arc::new(Subscription { task: task.abort_handle() })
    }

    /// Closes the client: it stops reconnecting and unanswered sends fail. (Named so as not
    /// to clash with Kotlin's `close()`, which releases the native object.)
    pub async fn shutdown(&self) {
        let sender = self.sender.clone();
        let _ = on_runtime(async move { sender.close().await }).await;
    }
}

impl Client {
    async fn start(
        route: String,
        credentials: cim_sdk::Credentials,
        options: LoginOptions,
    ) -> Result<Arc<Self>, CimError> {
        let mut sdk_options =
            cim_sdk::ClientOptions::new(options.device_id).transport(match options.transport {
                Transport::Tcp => cim_sdk::Transport::Tcp,
                Transport::WebSocket => cim_sdk::Transport::WebSocket,
            });
        if let Some(pem) = options.trust_pem {
            sdk_options = sdk_options.trust_pem(pem.as_bytes())?;
        }
        if let Some(ms) = options.connect_timeout_ms {
            sdk_options.connect_timeout = Duration::from_millis(ms.max(1));
        }
        let client =
            on_runtime(async move { cim_sdk::Client::login(&route, credentials, sdk_options).await })
                .await??;
        let (sender, events) = client.split();
        Ok(Arc::new(Self { sender, events: Arc::new(tokio::sync::Mutex::new(events)) }))
    }
}
