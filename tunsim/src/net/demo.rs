// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim demo`: tun0 between two smoltcp stacks — five pings, 1 MiB over TCP, a
//! narrated trace of the driver's entry points, `tun0.pcap`, and a summary.

use crate::scenario::status::SoftcStatus;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use kmock::event::Event;

use crate::net::peer::{Direction, Framing, Tunnel, TunnelConfig};
use crate::net::stack::{fmt_ip, TunAddrs, DAEMON_PID};
use crate::scenario::transcript::fmt_tun_flags;

/// The most bytes the demo sends over TCP (`tunsim demo --bytes`): 64 MiB. The data is
/// held several times over (sent, received, the pcap capture and the packet logs), about
/// five times its size in all, and crosses the driver in about a second (release build).
pub const MAX_TCP_BYTES: usize = 64 << 20;

/// What the demo does.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Where to write the capture.
    pub pcap: PathBuf,
    /// Pings to send.
    pub pings: u16,
    /// Bytes to send over TCP, at most [`MAX_TCP_BYTES`].
    pub tcp_bytes: usize,
    /// The framing the daemon uses.
    pub framing: Framing,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            pcap: PathBuf::from("tun0.pcap"),
            pings: 5,
            tcp_bytes: 1 << 20,
            framing: Framing::Plain,
        }
    }
}

/// What the demo measured.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    /// Round-trip times of the pings.
    pub rtts: Vec<Duration>,
    /// TCP bytes delivered intact.
    pub tcp_bytes: usize,
    /// How long the transfer took.
    pub tcp_elapsed: Duration,
    /// TCP segments sent again during the transfer (0 unless something was dropped).
    pub tcp_retransmissions: usize,
    /// How many of them came after a retransmission timeout (a stall of a second or more).
    pub tcp_timeouts: usize,
    /// Packets in the capture.
    pub pcap_packets: usize,
    /// Mbufs live after closing.
    pub mbufs_live: usize,
}

/// FNV-1a, 64 bits: a short fingerprint of the transferred data.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A one-line description of an IPv4 packet (`ICMP echo request 10.0.0.1 > 10.0.0.2`).
pub fn describe_ip(p: &[u8]) -> String {
    if p.len() < 20 || p[0] >> 4 != 4 {
        return format!("{} bytes, not IPv4", p.len());
    }
    let ihl = usize::from(p[0] & 15) * 4;
    let src = fmt_ip([p[12], p[13], p[14], p[15]]);
    let dst = fmt_ip([p[16], p[17], p[18], p[19]]);
    let l4 = p.get(ihl..).unwrap_or(&[]);
    match p[9] {
        1 => {
            let what = match l4.first() {
                Some(8) => "echo request".to_string(),
                Some(0) => "echo reply".to_string(),
                Some(t) => format!("type {t}"),
                None => "short".to_string(),
            };
            format!("ICMP {what} {src} > {dst}")
        }
        6 if l4.len() >= 20 => {
            let sp = u16::from_be_bytes([l4[0], l4[1]]);
            let dp = u16::from_be_bytes([l4[2], l4[3]]);
            let f = l4[13];
            let mut flags = String::new();
            for (bit, c) in [(2, 'S'), (16, '.'), (8, 'P'), (1, 'F'), (4, 'R')] {
                if f & bit != 0 {
                    flags.push(c);
                }
            }
            let data = l4.len() - usize::from(l4[12] >> 4) * 4;
            format!("TCP {src}:{sp} > {dst}:{dp} [{flags}] {data} data bytes")
        }
        n => format!("IP proto {n} {src} > {dst}"),
    }
}

fn narrate(e: &Event, chan: usize) -> Option<String> {
    Some(match e {
        Event::IfAttach { ifname } => format!("if_attach({ifname}): tunattach created the interface"),
        Event::Clone { node, dev } => format!("devfs clone {node} -> {dev}"),
        Event::Enqueue {
            ifname,
            len,
            mbufs,
            qlen,
        } => format!("tunoutput: ifq_handoff onto {ifname}'s send queue, len={len} mbufs={mbufs} qlen={qlen}"),
        Event::QueueFull { ifname, qlen } => format!("tunoutput: {ifname} send queue full (qlen={qlen}), dropped"),
        Event::Wakeup { ident, woken } => {
            let who = if *ident == chan { "tun0's softc" } else { "a channel" };
            format!("tunoutput: TUN_RWAIT was set, wakeup({who}) wakes {woken} reader(s) in tunread")
        }
        Event::Sleep { wmesg, .. } => {
            format!("tunread: send queue empty -> TUN_RWAIT, tsleep(\"{wmesg}\") until the next tunoutput")
        }
        Event::Bpf { data, .. } if data.len() >= 4 => {
            let af = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]);
            format!("bpf tap (DLT_NULL af={af}): {}", describe_ip(&data[4..]))
        }
        Event::Netisr { isr, len, mbufs, data } => format!(
            "tunwrite: netisr_queue({}) len={len} mbufs={mbufs}: {}",
            kmock::bsd::netisr::netisr_name(*isr).unwrap_or("?"),
            describe_ip(data)
        ),
        Event::IfUp { ifname } => format!("if_up({ifname})"),
        Event::IfDown { ifname } => format!("if_down({ifname})"),
        Event::Kprintf { text } => format!("kprintf: {text}"),
        _ => return None,
    })
}

/// Runs the demo, narrating to `out`.
pub fn run_demo(opts: &DemoOptions, out: &mut dyn Write) -> Result<DemoSummary, String> {
    let w = |out: &mut dyn Write, s: String| {
        let _ = writeln!(out, "{s}");
    };
    if opts.tcp_bytes > MAX_TCP_BYTES {
        return Err(format!(
            "{} bytes over TCP is more than the demo sends (at most {MAX_TCP_BYTES})",
            opts.tcp_bytes
        ));
    }
    let addrs = TunAddrs::default();
    w(
        out,
        format!(
            "== tunsim demo: DragonFly's if_tun (Rust port) between two smoltcp stacks ({} framing)",
            opts.framing.name()
        ),
    );
    let mut t = Tunnel::new(TunnelConfig {
        framing: opts.framing,
        addrs,
        record_events: true,
        capture: true,
        daemon: Default::default(),
    })?;
    let sc = t.host.softc().ok_or("tun0 has no softc")?;
    let chan = sc.wait_channel();
    w(
        out,
        format!(
            "kernel up, if_tun loaded; pid {DAEMON_PID} opened /dev/tun0; tun0 {} -> {} (mtu {}, read back from the interface)",
            fmt_ip(t.host.addrs.local),
            fmt_ip(t.host.addrs.dst),
            t.host.ifp.mtu()
        ),
    );
    w(
        out,
        format!("tun_flags now {}", fmt_tun_flags(sc.status().flags)),
    );
    let _ = t.kernel().take_events();

    w(
        out,
        "\n-- trace of the first ping (kmock events, in order):".into(),
    );
    let mut rtts = t.ping(1, Duration::from_secs(5))?;
    let evs = t.kernel().take_events();
    t.kernel().record_events(false);
    let lines: Vec<String> = evs.iter().filter_map(|e| narrate(e, chan)).collect();
    for l in lines.iter().take(14) {
        w(out, format!("  {l}"));
    }
    if lines.len() > 14 {
        w(out, format!("  ... {} more", lines.len() - 14));
    }
    w(
        out,
        format!("tun_flags now {}", fmt_tun_flags(sc.status().flags)),
    );

    w(
        out,
        format!("\n-- ping {} from the host stack", fmt_ip(addrs.dst)),
    );
    if opts.pings > 1 {
        let more = t.ping(opts.pings - 1, Duration::from_secs(5))?;
        rtts.extend(more);
    }
    for (i, r) in rtts.iter().enumerate() {
        w(
            out,
            format!(
                "64 bytes from {}: icmp_seq={} time={:.3} ms",
                fmt_ip(addrs.dst),
                i + 1,
                r.as_secs_f64() * 1e3
            ),
        );
    }

    w(
        out,
        format!(
            "\n-- TCP: {} bytes from {}:{} to {}:5001 (through tunoutput/tunread, ACKs through tunwrite)",
            opts.tcp_bytes,
            fmt_ip(addrs.local),
            "49152",
            fmt_ip(addrs.dst)
        ),
    );
    let data: Vec<u8> = (0..opts.tcp_bytes)
        .map(|i| (i as u32).wrapping_mul(2654435761).to_be_bytes()[1])
        .collect();
    // A minute, and a second more per MiB (a debug build under load moves a few MB/s).
    let timeout = Duration::from_secs(60 + (opts.tcp_bytes >> 20) as u64);
    let tr = t.tcp_transfer(&data, Direction::HostToPeer, timeout)?;
    if tr.received != data {
        return Err(format!(
            "TCP data differs: sent {} bytes (fnv1a {:016x}), received {} (fnv1a {:016x})",
            data.len(),
            fnv1a(&data),
            tr.received.len(),
            fnv1a(&tr.received)
        ));
    }
    let secs = tr.elapsed.as_secs_f64().max(1e-9);
    w(
        out,
        format!(
            "received {} bytes intact (fnv1a {:016x}) in {:.1} ms = {:.1} Mbit/s",
            tr.received.len(),
            fnv1a(&tr.received),
            secs * 1e3,
            tr.received.len() as f64 * 8.0 / secs / 1e6
        ),
    );
    let timeouts = tr.timeouts().count();
    if let Some(first) = tr.retransmissions.first() {
        w(
            out,
            format!(
                "warning: {} segment(s) sent again, {timeouts} after a retransmission timeout; first: {first}",
                tr.retransmissions.len()
            ),
        );
    }
    w(
        out,
        format!("tun_flags now {}", fmt_tun_flags(sc.status().flags)),
    );

    let cap = t.capture.clone().ok_or("no capture")?;
    let stats = t.host.ifp.stats();
    let report = t.close();
    let n = cap.write_file(&opts.pcap)?;
    w(
        out,
        format!(
            "\nclosed /dev/tun0: tun_flags {}",
            fmt_tun_flags(sc.status().flags)
        ),
    );
    w(
        out,
        format!(
            "wrote {} ({n} packets, DLT_NULL): try `tshark -r {}` or `wireshark {}`",
            opts.pcap.display(),
            opts.pcap.display(),
            opts.pcap.display()
        ),
    );
    let avg = rtts.iter().sum::<Duration>() / rtts.len().max(1) as u32;
    let min = rtts.iter().min().copied().unwrap_or_default();
    let max = rtts.iter().max().copied().unwrap_or_default();
    w(out, "\n== summary".into());
    w(
        out,
        format!(
            "ping: {} sent, {} received, rtt min/avg/max = {:.3}/{:.3}/{:.3} ms",
            opts.pings,
            rtts.len(),
            min.as_secs_f64() * 1e3,
            avg.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        ),
    );
    w(
        out,
        format!(
            "tcp: {} bytes verified, {:.1} Mbit/s",
            tr.received.len(),
            tr.received.len() as f64 * 8.0 / secs / 1e6
        ),
    );
    w(
        out,
        format!(
            "tun0: {} packets / {} bytes out (tunoutput), {} packets / {} bytes in (tunwrite); opackets={} ipackets={}",
            report.host_out_packets,
            report.host_out_bytes,
            report.host_in_packets,
            report.host_in_bytes,
            stats.opackets,
            stats.ipackets
        ),
    );
    w(
        out,
        format!(
            "daemon: {} reads, {} writes; mbufs leaked = {}",
            report.dev_reads, report.dev_writes, report.mbufs_live
        ),
    );
    Ok(DemoSummary {
        rtts,
        tcp_bytes: tr.received.len(),
        tcp_elapsed: tr.elapsed,
        tcp_retransmissions: tr.retransmissions.len(),
        tcp_timeouts: timeouts,
        pcap_packets: n,
        mbufs_live: report.mbufs_live,
    })
}
