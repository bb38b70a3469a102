//! The values the Python API hands out, as typed, frozen classes of module `cim`: each maps
//! one `cim_sdk` type field by field, so that `cim/__init__.py` re-exports them instead of
//! building its own from dicts.

use cim_sdk::{Event, Target};
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;

/// A frozen Python class with read-only attributes, keyword construction, `==` and a
/// dataclass-like `repr`; `methods { … }` adds more methods to it.
macro_rules! record {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$field_meta:meta])* $field:ident : $ty:ty),* $(,)? }
        $(methods { $($methods:tt)* })?
    ) => {
        $(#[$meta])*
        #[pyclass(frozen, get_all, eq, module = "cim")]
        #[derive(Clone, Debug, PartialEq)]
        pub(crate) struct $name {
            $($(#[$field_meta])* pub(crate) $field: $ty,)*
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = ($($field),*))]
            // As many arguments as the class has fields, like a dataclass.
            #[allow(clippy::too_many_arguments)]
            fn new($($field: $ty),*) -> Self {
                Self { $($field),* }
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let fields: Vec<String> = vec![$(
                    format!(
                        "{}={}",
                        stringify!($field),
                        self.$field.clone().into_bound_py_any(py)?.repr()?
                    )
                ),*];
                Ok(format!("{}({})", stringify!($name), fields.join(", ")))
            }

            $($($methods)*)?
        }
    };
}

record! {
    /// The server stored a message (or, for a broadcast, handed it to the live sessions).
    SendAck {
        /// The id the server gave the message.
        message_id: String,
        /// True when the server had it already (a retransmission): nothing was stored twice.
        duplicate: bool,
    }
}

record! {
    /// A user, as listed by `Client.online_users`.
    User { user_id: String, user_name: String }
}

record! {
    /// A group and how many members it has.
    Group { group_id: String, member_count: u64 }
}

record! {
    /// The client's connection, as `Client.status` reports it.
    Status {
        /// `idle`, `logging_in`, `connecting`, `connected`, `reconnecting` or `closed`.
        state: String,
        /// The logged-in user.
        user_id: String,
        /// The current session; empty until connected.
        session_id: String,
        /// The server of the current session; empty until connected.
        server_id: String,
        /// Round-trip time of the last heartbeat, in seconds.
        rtt: Option<f64>,
    }
}

record! {
    /// The session is up (again).
    Connected {
        session_id: String,
        server_id: String,
        /// What became of the inbox position: `fresh`, `resumed`, `epoch_changed` or `gap`.
        resumed: String,
    }
}

record! {
    /// A message arrived. `seq` orders the messages of this user's inbox.
    Message {
        seq: u64,
        message_id: String,
        from_user_id: String,
        /// `user`, `group` or `everyone`.
        to_kind: String,
        /// The user or group it was sent to; empty for a broadcast.
        to: String,
        content_type: String,
        body: Vec<u8>,
        sent_at_ms: u64,
    }
    methods {
        /// The body as UTF-8 text (invalid bytes replaced).
        #[getter]
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }

        /// When the server accepted it, as an aware `datetime` in UTC.
        #[getter]
        fn sent_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            // Through the `datetime` module: its C API is not part of the stable ABI.
            let datetime = py.import("datetime")?;
            let utc = datetime.getattr("timezone")?.getattr("utc")?;
            #[allow(clippy::cast_precision_loss)] // exact below 2^53 ms, 285,000 years
            let seconds = self.sent_at_ms as f64 / 1000.0;
            datetime.getattr("datetime")?.call_method1("fromtimestamp", (seconds, utc))
        }
    }
}

record! {
    /// The inbox did not continue where this device left off: messages may be missing.
    MessagesLost {
        /// `epoch_changed` or `gap`.
        reason: String,
        epoch: u64,
    }
}

record! {
    /// The connection is gone; the client reconnects by itself after `retry_in` seconds.
    Disconnected {
        reason: String,
        retry_in: f64,
        /// The registry code of the error that ended the connection, if one did.
        code: Option<u32>,
    }
}

record! {
    /// The client stopped for good; no event follows.
    Closed {
        reason: String,
        /// The registry code of the fatal error that stopped it, if one did.
        code: Option<u32>,
    }
}

impl From<cim_sdk::Status> for Status {
    fn from(status: cim_sdk::Status) -> Self {
        Self {
            state: status.state.as_str().to_owned(),
            user_id: status.user_id,
            session_id: status.session_id,
            server_id: status.server_id,
            rtt: status.rtt.map(|d| d.as_secs_f64()),
        }
    }
}

/// The Python object of an SDK event; `None` for kinds this API does not show.
pub(crate) fn event_object(py: Python<'_>, event: Event) -> PyResult<Option<Py<PyAny>>> {
    let object = match event {
        Event::Connected { session_id, server_id, resume } => {
            // `RESUME_OUTCOME_EPOCH_CHANGED` → `epoch_changed`: the proto's names, which never change.
            let resumed = resume.as_str_name().trim_start_matches("RESUME_OUTCOME_").to_lowercase();
            Connected { session_id, server_id, resumed }.into_pyobject(py)?.into_any()
        }
        Event::Message(m) => {
            let (to_kind, to) = match m.to {
                Target::User(id) => ("user", id),
                Target::Group(id) => ("group", id),
                Target::Everyone => ("everyone", String::new()),
            };
            Message {
                seq: m.seq,
                message_id: m.message_id,
                from_user_id: m.from,
                to_kind: to_kind.to_owned(),
                to,
                content_type: m.content_type,
                body: m.body.to_vec(),
                sent_at_ms: m.sent_at_ms,
            }
            .into_pyobject(py)?
            .into_any()
        }
        Event::InboxDiscontinuity { outcome, epoch } => {
            MessagesLost { reason: outcome.as_str().to_owned(), epoch }.into_pyobject(py)?.into_any()
        }
        Event::Disconnected { reason, code, retry_in } => {
            Disconnected { reason, retry_in: retry_in.as_secs_f64(), code: code.map(|c| c.0) }
                .into_pyobject(py)?
                .into_any()
        }
        Event::Closed { reason, code } => {
            Closed { reason, code: code.map(|c| c.0) }.into_pyobject(py)?.into_any()
        }
        _ => return Ok(None),
    };
    Ok(Some(object.unbind()))
}

/// Adds the classes to the native module.
pub(crate) fn add(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SendAck>()?;
    m.add_class::<User>()?;
    m.add_class::<Group>()?;
    m.add_class::<Status>()?;
    m.add_class::<Connected>()?;
    m.add_class::<Message>()?;
    m.add_class::<MessagesLost>()?;
    m.add_class::<Disconnected>()?;
    m.add_class::<Closed>()?;
    Ok(())
}
