//! What Redis itself says it spent and holds: `INFO commandstats` and `INFO memory`, read over a
//! plain connection (RESP by hand: one command does not justify a client library here).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// Microseconds Redis has spent running scripts (`EVAL`, `EVALSHA`, `FCALL`) since it started,
/// wall time as `INFO commandstats` counts it. Only scripts: commandstats counts the commands
/// a script calls again under their own names, so summing every line would count them twice.
pub(crate) fn script_usec(port: u16) -> anyhow::Result<u64> {
    let info = info(port, "commandstats")?;
    Ok(sum_script_usec(&info))
}

/// Bytes Redis holds for data and its own structures (`used_memory`).
pub(crate) fn used_memory(port: u16) -> anyhow::Result<u64> {
    let info = info(port, "memory")?;
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|bytes| bytes.trim().parse().ok())
        .context("no used_memory in INFO memory")
}

fn sum_script_usec(info: &str) -> u64 {
    const SCRIPTS: [&str; 5] =
        ["cmdstat_eval:", "cmdstat_evalsha:", "cmdstat_eval_ro:", "cmdstat_evalsha_ro:", "cmdstat_fcall:"];
    info.lines()
        .filter(|line| SCRIPTS.iter().any(|name| line.starts_with(name)))
        .filter_map(|line| line.split(',').find_map(|part| part.split_once("usec=")))
        .filter(|(before, _)| before.ends_with(':') || before.is_empty())
        .filter_map(|(_, usec)| usec.parse::<u64>().ok())
        .sum()
}

fn info(port: u16, section: &str) -> anyhow::Result<String> {
    let timeout = Some(Duration::from_secs(5));
    let stream = TcpStream::connect(("127.0.0.1", port)).with_context(|| format!("Redis on port {port}"))?;
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)?;
    (&stream).write_all(format!("*2\r\n$4\r\nINFO\r\n${}\r\n{section}\r\n", section.len()).as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut header = String::new();
    reader.read_line(&mut header)?;
    let Some(length) = header.trim_end().strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) else {
        bail!("Redis answered INFO with {header:?}");
    };
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_usec_over_scripts_only() {
        let info = "# Commandstats\r\ncmdstat_evalsha:calls=10,usec=250,usec_per_call=25.00,rejected_calls=0\r\n\
                    cmdstat_hset:calls=2,usec=3,usec_per_call=1.50\r\ncmdstat_eval:calls=1,usec=7,usec_per_call=7.00\r\n";
        assert_eq!(sum_script_usec(info), 257);
    }
}
