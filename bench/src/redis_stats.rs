//! What Redis itself says it spent: `INFO commandstats`, read over a plain connection (RESP by
//! hand: one command does not justify a client library here).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context as _, bail};

/// Microseconds Redis has spent executing commands since it started (or since `CONFIG
/// RESETSTAT`), all commands and scripts together: the sum of `usec` over `cmdstat_*`. A
/// script's calls count inside the script, not again on their own.
pub(crate) fn command_usec(port: u16) -> anyhow::Result<u64> {
    let info = info(port, "commandstats")?;
    Ok(sum_usec(&info))
}

fn sum_usec(info: &str) -> u64 {
    info.lines()
        .filter(|line| line.starts_with("cmdstat_"))
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
    fn sums_usec_over_every_command() {
        let info = "# Commandstats\r\ncmdstat_evalsha:calls=10,usec=250,usec_per_call=25.00,rejected_calls=0\r\n\
                    cmdstat_hset:calls=2,usec=3,usec_per_call=1.50\r\n";
        assert_eq!(sum_usec(info), 253);
    }
}
