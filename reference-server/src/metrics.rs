//! Counters for `/metrics`, in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use cim_core::ErrorCode;

/// The server's counters. Cheap to bump from any task.
#[derive(Default)]
pub struct Metrics {
    pub(crate) connections: AtomicI64,
    pub(crate) connections_total: AtomicU64,
    /// Connections turned away because the server was at its connection limit.
    pub(crate) connections_refused: AtomicU64,
    pub(crate) sessions: AtomicI64,
    /// Servers in the registry (this one included), as this server's departed-server
    /// cleanup last saw them.
    pub(crate) registry_servers: AtomicI64,
    pub(crate) frames_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) messages_accepted: AtomicU64,
    pub(crate) messages_duplicate: AtomicU64,
    pub(crate) deliveries: AtomicU64,
    pub(crate) acks: AtomicU64,
    /// From a Send read to its SendAck or Error queued: what the store and the fan-out cost
    /// the sender.
    pub(crate) send_to_ack: cim_backend::prometheus::Histogram,
    errors: Mutex<BTreeMap<u32, u64>>,
}

impl Metrics {
    /// Adds `n`; nothing for 0, which is most calls on a busy connection's wake (a shared
    /// counter's cache line is not taken from the other threads for nothing).
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn error(&self, code: ErrorCode) {
        *self.errors.lock().unwrap_or_else(|p| p.into_inner()).entry(code.0).or_default() += 1;
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let gauge = |out: &mut String, name: &str, help: &str, value: i64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        };
        let counter = |out: &mut String, name: &str, help: &str, value: &AtomicU64| {
            let value = value.load(Ordering::Relaxed);
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        gauge(
            &mut out,
            "cim_server_connections",
            "Open connections.",
            self.connections.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "cim_server_sessions",
            "Sessions past the handshake.",
            self.sessions.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "cim_server_registry_servers",
            "Servers in the registry, this one included, as this server last saw it.",
            self.registry_servers.load(Ordering::Relaxed),
        );
        counter(&mut out, "cim_server_connections_total", "Connections accepted.", &self.connections_total);
        counter(
            &mut out,
            "cim_server_connections_refused_total",
            "Connections turned away at the connection limit.",
            &self.connections_refused,
        );
        counter(&mut out, "cim_server_frames_received_total", "Frames received.", &self.frames_in);
        counter(&mut out, "cim_server_frames_sent_total", "Frames sent.", &self.frames_out);
        counter(
            &mut out,
            "cim_server_messages_accepted_total",
            "Messages stored and acked.",
            &self.messages_accepted,
        );
        counter(
            &mut out,
            "cim_server_messages_duplicate_total",
            "Sends recognised as retransmissions.",
            &self.messages_duplicate,
        );
        counter(
            &mut out,
            "cim_server_deliveries_total",
            "Deliver frames queued to sessions.",
            &self.deliveries,
        );
        counter(&mut out, "cim_server_delivery_acks_total", "DeliverAck frames received.", &self.acks);
        self.send_to_ack.render(
            &mut out,
            "cim_server_send_to_ack_seconds",
            "Time from reading a Send to queueing its SendAck or Error.",
        );
        let _ = writeln!(
            out,
            "# HELP cim_server_errors_total Error frames sent, by registry code.\n# TYPE cim_server_errors_total counter"
        );
        for (code, count) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let name = ErrorCode(*code).name().unwrap_or("UNKNOWN");
            let _ = writeln!(out, "cim_server_errors_total{{code=\"{code}\",name=\"{name}\"}} {count}");
        }
        cim_backend::prometheus::build_info(&mut out, "cim_server", env!("CARGO_PKG_VERSION"));
        cim_backend::prometheus::process_metrics(&mut out);
        out
    }
}
