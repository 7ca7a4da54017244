// SPDX-License-Identifier: BSD-2-Clause
//! Real packets through the driver: a smoltcp host stack on tun0, a smoltcp peer behind
//! `/dev/tun0`, pings and TCP transfers in each framing, pcap captures, and (as root with
//! `/dev/net/tun`) a Linux network namespace pinging across the driver.

use std::time::{Duration, Instant};

use tunsim::net::peer::{Direction, Framing, Tunnel, TunnelConfig};

fn tunnel(framing: Framing, capture: bool) -> Tunnel {
    Tunnel::new(TunnelConfig {
        framing,
        capture,
        ..TunnelConfig::default()
    })
    .expect("tunnel comes up")
}

fn close_no_leak(t: Tunnel) {
    let r = t.close();
    assert_eq!(r.mbufs_live, 0, "mbufs leaked: {r:?}");
}

fn ping_in(framing: Framing) {
    let mut t = tunnel(framing, false);
    let rtts = t.ping(3, Duration::from_secs(5)).expect("ping");
    assert_eq!(rtts.len(), 3);
    close_no_leak(t);
}

#[test]
fn ping_round_trip_plain() {
    ping_in(Framing::Plain);
}

#[test]
fn ping_round_trip_lmode() {
    ping_in(Framing::Lmode);
}

#[test]
fn ping_round_trip_ifhead() {
    ping_in(Framing::Ifhead);
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2654435761).to_be_bytes()[1])
        .collect()
}

fn transfer(framing: Framing, sizes: &[usize], dir: Direction) {
    let mut t = tunnel(framing, false);
    for &n in sizes {
        let data = pattern(n);
        let t0 = Instant::now();
        let r = t
            .tcp_transfer(&data, dir, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{n} bytes {dir:?} in {}: {e}", framing.name()));
        eprintln!(
            "{} {dir:?}: {n} bytes in {:?}",
            framing.name(),
            t0.elapsed()
        );
        assert_eq!(r.received.len(), n, "{n} bytes {dir:?}");
        assert!(r.received == data, "{n} bytes {dir:?}: content differs");
    }
    close_no_leak(t);
}

#[test]
fn tcp_integrity_host_to_peer_all_sizes() {
    transfer(
        Framing::Plain,
        &[0, 1, 1460, 65536, 1 << 20],
        Direction::HostToPeer,
    );
}

#[test]
fn tcp_integrity_peer_to_host_all_sizes() {
    transfer(
        Framing::Ifhead,
        &[0, 1, 1460, 65536, 1 << 20],
        Direction::PeerToHost,
    );
}

#[test]
fn tcp_integrity_lmode() {
    transfer(Framing::Lmode, &[1460, 65536], Direction::HostToPeer);
}

#[test]
fn pcap_file_holds_what_crossed_the_driver() {
    for framing in Framing::ALL {
        let mut t = tunnel(framing, true);
        t.ping(2, Duration::from_secs(5)).expect("ping");
        t.tcp_transfer(
            &pattern(5000),
            Direction::PeerToHost,
            Duration::from_secs(10),
        )
        .expect("tcp");
        let path = std::env::temp_dir().join(format!(
            "tunsim-realnet-{}-{}.pcap",
            std::process::id(),
            framing.name()
        ));
        let cap = t.capture.clone().expect("capture attached");
        let n = cap.write_file(&path).expect("pcap written");
        // What crossed the driver: each packet handed to if_output and each one written
        // to the device, in the order they crossed (both happen on the pump's thread).
        let sent = t.host.sent_log.clone().unwrap();
        let written = t.written_log.clone().unwrap();
        let close = t.close();
        assert_eq!(close.mbufs_live, 0);
        let (dl, packets) = tunsim::net::pcap::read_file(&path).expect("pcap read back");
        let _ = std::fs::remove_file(&path);
        assert_eq!(dl, pcap_file::DataLink::NULL);
        assert_eq!(packets.len(), n);
        assert_eq!(
            packets.len(),
            sent.len() + written.len(),
            "{}",
            framing.name()
        );
        let hdr = tunsim::net::pcap::null_header();
        let mut out_i = sent.iter();
        let mut in_i = written.iter();
        for p in &packets {
            assert_eq!(&p[..4], &hdr, "DLT_NULL header is AF_INET, host order");
            let body = &p[4..];
            // Each captured packet is the next one of one of the two directions.
            let ok = {
                let mut a = out_i.clone();
                let mut b = in_i.clone();
                if a.next().map(|x| &x[..]) == Some(body) {
                    out_i.next();
                    true
                } else if b.next().map(|x| &x[..]) == Some(body) {
                    in_i.next();
                    true
                } else {
                    false
                }
            };
            assert!(ok, "{}: captured packet not in order", framing.name());
        }
        assert!(out_i.next().is_none() && in_i.next().is_none());
        assert!(sent.iter().all(|p| p[0] == 0x45) && written.iter().all(|p| p[0] == 0x45));
    }
}

#[test]
#[cfg(target_os = "linux")]
fn bridge_to_a_linux_namespace_when_root() {
    match tunsim::net::bridge::available() {
        Err(why) => {
            eprintln!("skipped: {why}");
        }
        Ok(()) => {
            let r = tunsim::net::bridge::run_ping_check(3).expect("bridge ping");
            assert!(r.ping_ok, "ping output:\n{}", r.ping_output);
            assert_eq!(r.mbufs_live, 0);
        }
    }
}

/// The polling daemon (no reader thread: the pump reads `/dev/tun0` with `IO_NDELAY`
/// until `EWOULDBLOCK`) carries pings and TCP both ways in every framing, intact, with
/// no retransmission and no mbuf left; it never leaves a reader asleep in `tunread`.
#[test]
fn the_polling_daemon_carries_ping_and_tcp() {
    use tunsim::net::peer::Daemon;
    use tunsim::scenario::status::SoftcStatus;
    for framing in [Framing::Plain, Framing::Lmode, Framing::Ifhead] {
        let mut t = Tunnel::new(TunnelConfig {
            framing,
            daemon: Daemon::Polling,
            ..TunnelConfig::default()
        })
        .expect("tunnel comes up");
        assert_eq!(t.ping(3, Duration::from_secs(5)).expect("ping").len(), 3);
        for dir in [Direction::HostToPeer, Direction::PeerToHost] {
            let data = pattern(200_000);
            let r = t
                .tcp_transfer(&data, dir, Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("{dir:?} in {}: {e}", framing.name()));
            assert!(
                r.received == data,
                "{dir:?} in {}: data differ",
                framing.name()
            );
            assert!(r.retransmissions.is_empty(), "{:?}", r.retransmissions);
        }
        let sc = t.host.softc().expect("tun0 has a softc");
        assert!(!sc.status().flags.contains(if_tun::TunFlags::TUN_RWAIT));
        close_no_leak(t);
    }
}
