// SPDX-License-Identifier: BSD-2-Clause
//! Transcript formatting (scenario-language.md §3): byte strings, errno names, results, flag
//! sets, and the effect line of each kmock [`Event`].

use std::sync::LazyLock;

use if_tun::TunFlags;
use kmock::bsd::kqueue::{EVFILT_READ, EVFILT_WRITE};
use kmock::bsd::netisr::netisr_name;
use kmock::event::Event;
use kmock::Error;

use super::payload::IFF_NAMES;

/// What a read job returns: the driver's result (the error with the bytes moved before it)
/// and the buffer.
pub type ReadOutcome = (Result<usize, (Error, usize)>, Vec<u8>);

/// Formats bytes as lower-case hex in 4-byte groups separated by one
/// space: `45000014 00000000 40fd`.  Empty input gives "".
pub fn hex_groups(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2 + bytes.len() / 4);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The tail a transcript line gets for a byte string: `": "` and
/// [`hex_groups`], or nothing at all for zero bytes (the oracle's
/// `km_hexdump`).
pub fn hex_suffix(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        String::new()
    } else {
        format!(": {}", hex_groups(bytes))
    }
}

/// An errno by name (`EWOULDBLOCK`), or `E<number>` for one without a name.
pub fn errname(e: Error) -> String {
    match e.name() {
        Some(n) => n.to_string(),
        None => format!("E{}", e.to_errno()),
    }
}

/// The `tun_flags` names in the order the transcript lists them: the driver's [`TunFlags`]
/// without the `TUN_` prefix, one per bit, ascending (so not the composite `TUN_READY`).
static TUN_FLAG_NAMES: LazyLock<Vec<(&'static str, u64)>> = LazyLock::new(|| {
    (0..u16::BITS)
        .filter_map(|i| {
            let (name, _) = TunFlags::from_bits(1 << i)?.iter_names().next()?;
            Some((name.strip_prefix("TUN_").unwrap_or(name), 1 << i))
        })
        .collect()
});

fn names(bits: u64, table: &[(&str, u64)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut known = 0u64;
    for (n, b) in table {
        known |= b;
        if bits & b != 0 {
            parts.push(n.to_string());
        }
    }
    let unknown = bits & !known;
    if unknown != 0 {
        parts.push(format!("0x{unknown:x}"));
    }
    format!("<{}>", parts.join(","))
}

/// `tun_flags` as the transcript shows them: `0x000b<OPEN,INITED,IASET>`.
pub fn fmt_tun_flags(f: TunFlags) -> String {
    format!(
        "0x{:04x}{}",
        f.bits(),
        names(u64::from(f.bits()), &TUN_FLAG_NAMES)
    )
}

/// `if_flags` as the transcript shows them: `0x8051<UP,POINTOPOINT,RUNNING,MULTICAST>`.
pub fn fmt_if_flags(bits: u32) -> String {
    let t: Vec<(&str, u64)> = IFF_NAMES.iter().map(|&(n, b)| (n, u64::from(b))).collect();
    format!("0x{:x}{}", bits, names(u64::from(bits), &t))
}

/// The effect line of a kmock event (two leading spaces), or `None` for an event the
/// transcript does not show (`Sleep`). `chan_name` names a wait channel (`tun0`).
pub fn event_line(e: Event, chan_name: impl Fn(usize) -> String) -> Option<String> {
    Some(match e {
        Event::IfAttach { ifname } => format!("  if_attach {ifname}"),
        Event::Clone { node, dev } => format!("  clone {node} -> {dev}"),
        Event::Kprintf { text } => format!("  kprintf: {text}"),
        Event::Enqueue {
            ifname,
            len,
            mbufs,
            qlen,
        } => format!("  enqueue {ifname}: len={len} mbufs={mbufs} qlen={qlen}"),
        Event::QueueFull { ifname, qlen } => {
            format!("  enqueue {ifname}: queue full (qlen={qlen}), packet freed")
        }
        Event::Purge { ifname, count } => {
            format!("  purge {ifname}: {count} packet(s) freed")
        }
        Event::IfDown { ifname } => format!("  if_down {ifname}"),
        Event::IfUp { ifname } => format!("  if_up {ifname}"),
        Event::PurgeAddr { ifname, addr } => {
            format!("  purgeaddrs {ifname}: removed {}", fmt_ifaddr(&addr))
        }
        Event::Wakeup { ident, woken } => {
            format!("  wakeup {} (sleepers={woken})", chan_name(ident))
        }
        Event::Sleep { .. } | Event::InjectedFail { .. } => return None,
        Event::Sigio { pid, pgrp, .. } => match pgrp {
            Some(g) => format!("  SIGIO -> pid {pid} (pgrp {g})"),
            None => format!("  SIGIO -> pid {pid}"),
        },
        Event::Funsetown { pgid } => {
            if pgid < 0 {
                format!("  funsetown: SIGIO owner pgrp {} cleared", -(pgid as i64))
            } else {
                format!("  funsetown: SIGIO owner pid {pgid} cleared")
            }
        }
        Event::Knote { id, filter, ready } => format!(
            "  knote {id} {}: {}",
            filter_name(filter),
            if ready { "ready" } else { "not ready" }
        ),
        Event::KnoteDetached { id } => format!("  knote {id} detached"),
        Event::Bpf { ifname, data, .. } => {
            if data.len() < 4 {
                format!("  bpf {ifname}: short={}{}", data.len(), hex_suffix(&data))
            } else {
                let af = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                format!(
                    "  bpf {ifname}: af={af} len={}{}",
                    data.len() - 4,
                    hex_suffix(&data[4..])
                )
            }
        }
        Event::Netisr {
            isr,
            len,
            mbufs,
            data,
        } => format!(
            "  netisr {}: len={len} mbufs={mbufs}{}",
            netisr_name(isr).map_or_else(|| isr.to_string(), str::to_string),
            hex_suffix(&data)
        ),
        Event::AllocFail { mget, .. } => format!("  alloc fail (injected): {mget}"),
    })
}

/// `ok` or the errno of a call that returns nothing.
pub fn res_str(r: Result<(), Error>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => errname(e),
    }
}

/// The result of a read (`N bytes: …`, `0 bytes`, an errno).
pub fn read_result(o: &ReadOutcome) -> String {
    let (r, buf) = o;
    match r {
        Ok(n) => {
            let n = *n;
            if n == 0 {
                "0 bytes".into()
            } else {
                format!("{n} bytes: {}", hex_groups(&buf[..n]))
            }
        }
        Err((e, 0)) => errname(*e),
        Err((e, n)) => format!(
            "{} after {n} bytes: {}",
            errname(*e),
            hex_groups(&buf[..*n])
        ),
    }
}

/// A kqueue filter: `read`, `write` or its number.
pub fn filter_name(f: i16) -> String {
    match f {
        EVFILT_READ => "read".into(),
        EVFILT_WRITE => "write".into(),
        n => n.to_string(),
    }
}

/// `SIOCGIFSTATUS` text as the transcript quotes it: tab, newline, backslash and `"` as
/// `\t`, `\n`, `\\`, `\"`.
pub fn escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            c => o.push(c),
        }
    }
    o
}

/// An interface address in the transcript's notation: `inet:A>B`, `inet6`, `link`,
/// `null` (an entry without a sockaddr), `af:N`.
pub fn fmt_ifaddr(a: &kmock::bsd::ifnet::IfAddr) -> String {
    use kmock::bsd::socket::{AF_INET, AF_INET6, AF_LINK};
    let inet = |x: [u8; 4]| format!("{}.{}.{}.{}", x[0], x[1], x[2], x[3]);
    match &a.addr {
        None => "null".to_string(),
        Some(s) => match s.sa_family() {
            AF_LINK => "link".to_string(),
            AF_INET6 => "inet6".to_string(),
            AF_INET => {
                let mut t = format!("inet:{}", inet(s.inet_addr().unwrap_or_default()));
                if let Some(d) = a.dstaddr.as_ref().and_then(|d| d.inet_addr()) {
                    t.push('>');
                    t.push_str(&inet(d));
                }
                t
            }
            n => format!("af:{n}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_are_the_languages() {
        // scenario-language.md §6 (tun) and §2 (ifnet), in order.
        let tun: Vec<&str> = TUN_FLAG_NAMES.iter().map(|&(n, _)| n).collect();
        assert_eq!(
            tun.join(" "),
            "OPEN INITED RCOLL IASET DSTADDR LMODE RWAIT ASYNC IFHEAD"
        );
        let iff: Vec<&str> = IFF_NAMES.iter().map(|&(n, _)| n).collect();
        assert_eq!(
            iff.join(" "),
            "UP BROADCAST DEBUG LOOPBACK POINTOPOINT SMART RUNNING NOARP PROMISC ALLMULTI \
             OACTIVE SIMPLEX LINK0 LINK1 LINK2 MULTICAST POLLING PPROMISC MONITOR STATICARP \
             NPOLLING"
        );
        assert_eq!(
            fmt_tun_flags(TunFlags::TUN_READY | TunFlags::TUN_IASET),
            "0x000b<OPEN,INITED,IASET>"
        );
        assert_eq!(
            fmt_if_flags(0x8051),
            "0x8051<UP,POINTOPOINT,RUNNING,MULTICAST>"
        );
        assert_eq!(fmt_if_flags(0x0020_0001), "0x200001<UP,0x200000>");
    }

    #[test]
    fn hex_formatting() {
        assert_eq!(hex_groups(&[]), "");
        assert_eq!(hex_groups(&[0xca, 0xfe]), "cafe");
        assert_eq!(
            hex_groups(&[0x45, 0, 0, 0x14, 0, 0, 0, 0, 0x40, 0xfd]),
            "45000014 00000000 40fd"
        );
        assert_eq!(hex_suffix(&[]), "");
        assert_eq!(hex_suffix(&[1, 2, 3, 4, 5]), ": 01020304 05");
    }
}
