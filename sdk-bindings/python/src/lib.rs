//! `cim._cim`: the native half of the Python SDK. It exposes `cim_sdk` as awaitables on the
//! running asyncio loop; the typed, documented API people use is `python/cim/__init__.py`,
//! which wraps this module.
// pyo3's macros expand to unsafe FFI code.
#![allow(unsafe_code)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex, OnceLock, PoisonError, Weak};

use bytes::Bytes;
use cim_sdk::{Client, ClientOptions, ClientSender, Credentials, Error, Events, Target, Transport};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::Mutex;

mod types;

mod errors {
    pyo3::import_exception!(cim.errors, AuthenticationError);
    pyo3::import_exception!(cim.errors, UnavailableError);
    pyo3::import_exception!(cim.errors, RejectedError);
    pyo3::import_exception!(cim.errors, InvalidInputError);
    pyo3::import_exception!(cim.errors, ClosedError);
}

/// An SDK error as the exception of `cim.errors` that fits it, with the registry code.
fn py_error(error: Error) -> PyErr {
    use cim_sdk::{ErrorCode, ErrorKind};
    let code = error.code().map_or(0, |c| c.0);
    let name = error.code().and_then(ErrorCode::name).unwrap_or("").to_owned();
    let args = (error.to_string(), code, name);
    match error.kind() {
        ErrorKind::Authentication => errors::AuthenticationError::new_err(args),
        ErrorKind::Unavailable => errors::UnavailableError::new_err(args),
        ErrorKind::Rejected => errors::RejectedError::new_err(args),
        ErrorKind::InvalidInput => errors::InvalidInputError::new_err(args),
        ErrorKind::Closed => errors::ClosedError::new_err(args),
    }
}

/// Native futures not yet resolved. A future that resolves after the interpreter began to
/// finalize would take the GIL from a tokio thread and abort the process, so
/// [`_shutdown`], registered with `atexit`, closes every client and waits for these first.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Every client still alive, for [`_shutdown`] to close.
static LIVE: StdMutex<Vec<Weak<ClientSender>>> = StdMutex::new(Vec::new());

/// The runtime every native future runs on.
static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

struct InFlight;

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `fut` as an awaitable on the running asyncio loop, counted in [`IN_FLIGHT`].
fn future_into_py<F, T>(py: Python<'_>, fut: F) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    let counted = InFlight;
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        let _counted = counted;
        fut.await
    })
}

/// Closes every live client and waits up to `timeout` seconds for the native futures to
/// resolve, while the interpreter can still take their results. Called at exit.
#[pyfunction]
fn _shutdown(py: Python<'_>, timeout: f64) {
    let Some(runtime) = RUNTIME.get() else { return };
    let senders: Vec<Arc<ClientSender>> =
        LIVE.lock().unwrap_or_else(PoisonError::into_inner).drain(..).filter_map(|w| w.upgrade()).collect();
    let wait = std::time::Duration::try_from_secs_f64(timeout).unwrap_or_default();
    py.detach(move || {
        let deadline = std::time::Instant::now() + wait;
        runtime.block_on(async {
            let closing = senders.iter().map(|sender| sender.close());
            let _ = tokio::time::timeout(wait, futures_join_all(closing)).await;
        });
        while IN_FLIGHT.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // The last futures hand their results to asyncio right after they finish.
        std::thread::sleep(std::time::Duration::from_millis(50));
    });
}

/// Awaits every future of `futures`.
async fn futures_join_all<F: Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    for future in futures {
        future.await;
    }
}

/// `None`, for futures that resolve to nothing (`Ok(())` would give an empty tuple).
fn none() -> Py<PyAny> {
    Python::attach(|py| py.None())
}

/// Creates a built-in account at the route; resolves to the new user id.
#[pyfunction]
fn register<'py>(
    py: Python<'py>,
    route: String,
    user: String,
    password: String,
) -> PyResult<Bound<'py, PyAny>> {
    future_into_py(py, async move { cim_sdk::register(&route, &user, &password).await.map_err(py_error) })
}

/// A logged-in client: the sender half, shared by every call, and the events, read in turn.
#[pyclass(frozen, module = "cim._cim")]
struct NativeClient {
    sender: Arc<ClientSender>,
    events: Arc<Mutex<Events>>,
}

#[pymethods]
impl NativeClient {
    /// Logs in and waits for the first session; resolves to a NativeClient.
    #[staticmethod]
    #[pyo3(signature = (route, *, user=None, password=None, jwt=None, device_id, transport="tcp", trust_pem=None, connect_timeout=None))]
    #[allow(clippy::too_many_arguments)]
    fn login<'py>(
        py: Python<'py>,
        route: String,
        user: Option<String>,
        password: Option<String>,
        jwt: Option<String>,
        device_id: String,
        transport: &str,
        trust_pem: Option<String>,
        connect_timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let credentials = match (user, password, jwt) {
            (Some(user), Some(password), None) => Credentials::Password { user, password },
            (None, None, Some(jwt)) => Credentials::Jwt(jwt),
            _ => return Err(PyValueError::new_err("give user and password, or jwt")),
        };
        let mut options = ClientOptions::new(device_id);
        options = match transport {
            "tcp" => options.transport(Transport::Tcp),
            "websocket" => options.transport(Transport::WebSocket),
            other => {
                return Err(PyValueError::new_err(format!(
                    "transport must be tcp or websocket, not {other:?}"
                )));
            }
        };
        if let Some(pem) = trust_pem {
            options = options.trust_pem(pem.as_bytes()).map_err(py_error)?;
        }
        if let Some(seconds) = connect_timeout {
            options.connect_timeout = std::time::Duration::try_from_secs_f64(seconds)
                .map_err(|_| PyValueError::new_err("connect_timeout must be a positive number of seconds"))?;
        }
        future_into_py(py, async move {
            let client = Client::login(&route, credentials, options).await.map_err(py_error)?;
            let (sender, events) = client.split();
            let sender = Arc::new(sender);
            let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
            live.retain(|w| w.strong_count() > 0);
            live.push(Arc::downgrade(&sender));
            Ok(Self { sender, events: Arc::new(Mutex::new(events)) })
        })
    }

    /// The logged-in user's id.
    fn user_id(&self) -> String {
        self.sender.user_id()
    }

    /// The connection state, session and server.
    fn status(&self) -> types::Status {
        self.sender.status().into()
    }

    /// Sends `body` to a user (`kind` "user"), a group ("group") or everyone ("everyone",
    /// `target` ignored); resolves to a `SendAck` once the server stored it.
    fn send<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        target: String,
        content_type: String,
        body: Vec<u8>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let to = match kind {
            "user" => Target::User(target),
            "group" => Target::Group(target),
            "everyone" => Target::Everyone,
            other => return Err(PyValueError::new_err(format!("unknown recipient kind {other:?}"))),
        };
        let ack = self.sender.start_send(to, &content_type, Bytes::from(body));
        future_into_py(py, async move {
            let ack = ack.await.map_err(py_error)?;
            Ok(types::SendAck { message_id: ack.message_id, duplicate: ack.duplicate })
        })
    }

    /// The id of the one user named `user_name` (route UsersByName).
    fn user_id_of<'py>(&self, py: Python<'py>, user_name: String) -> PyResult<Bound<'py, PyAny>> {
        let sender = self.sender.clone();
        future_into_py(py, async move { sender.user_id_of(&user_name).await.map_err(py_error) })
    }

    /// Every online user, following the pages to the end; resolves to [User].
    fn online_users<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let sender = self.sender.clone();
        future_into_py(py, async move {
            let users = sender.all_online_users(500).await.map_err(py_error)?;
            let users = users.into_iter().map(|u| types::User { user_id: u.user_id, user_name: u.user_name });
            Ok(users.collect::<Vec<_>>())
        })
    }

    /// Creates a group with the caller as its member; resolves to a `Group`.
    fn create_group<'py>(&self, py: Python<'py>, group_id: String) -> PyResult<Bound<'py, PyAny>> {
        let sender = self.sender.clone();
        future_into_py(py, async move { sender.create_group(&group_id).await.map(group).map_err(py_error) })
    }

    /// Joins (`join` true) or leaves a group; resolves to a `Group`.
    fn join_group<'py>(&self, py: Python<'py>, group_id: String, join: bool) -> PyResult<Bound<'py, PyAny>> {
        let sender = self.sender.clone();
        future_into_py(py, async move {
            if join { sender.join_group(&group_id).await } else { sender.leave_group(&group_id).await }
                .map(group)
                .map_err(py_error)
        })
    }

    /// The caller's groups; resolves to [Group].
    fn groups<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let sender = self.sender.clone();
        future_into_py(py, async move {
            let groups = sender.my_groups().await.map_err(py_error)?;
            Ok(groups.into_iter().map(group).collect::<Vec<_>>())
        })
    }

    /// The next event (`Connected`, `Message`, …), or None once the client is closed.
    fn next_event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let events = self.events.clone();
        future_into_py(py, async move {
            let mut events = events.lock().await;
            loop {
                let Some(event) = events.next().await else { return Ok(none()) };
                if let Some(object) = Python::attach(|py| types::event_object(py, event))? {
                    return Ok(object);
                }
            }
        })
    }

    /// Closes the client: no more reconnects; unanswered sends fail.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let sender = self.sender.clone();
        future_into_py(py, async move {
            sender.close().await;
            Ok(none())
        })
    }
}

fn group(group: cim_sdk::GroupInfo) -> types::Group {
    types::Group { group_id: group.group_id, member_count: group.member_count }
}

/// The native module behind `cim`.
#[pymodule]
fn _cim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("cim-sdk").build().map_err(
            |e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start the runtime: {e}")),
        )?;
    // A second import in one process keeps the first runtime.
    let _ = pyo3_async_runtimes::tokio::init_with_runtime(RUNTIME.get_or_init(|| runtime));
    m.add_function(wrap_pyfunction!(register, m)?)?;
    m.add_function(wrap_pyfunction!(_shutdown, m)?)?;
    m.add_class::<NativeClient>()?;
    types::add(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
