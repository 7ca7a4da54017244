// SPDX-License-Identifier: BSD-2-Clause
//! The demo's TCP transfer never stalls: 1 MiB from the host stack to the peer, many
//! times in each framing, and not one segment may be sent again — in particular none
//! after a retransmission timeout (the 1 s and 3 s stalls a shrinking receive window
//! caused). Retransmissions are seen directly, in the packets crossing the driver: a
//! segment whose sequence number goes back over bytes already seen in its direction
//! (`tunsim::net::peer::TcpWatch`), with the silence before it telling a timeout from a
//! fast retransmit.
//!
//! 30 transfers per framing by default; `TUNSIM_STALL_RUNS=100 cargo test --release -p
//! tunsim --test tcp_stalls -- --nocapture` runs more and prints the tallies.

use std::time::{Duration, Instant};

use tunsim::net::peer::{Direction, Framing, TcpWatch, Tunnel, TunnelConfig, RTO_GAP};

fn runs() -> usize {
    match std::env::var("TUNSIM_STALL_RUNS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("TUNSIM_STALL_RUNS={v:?} is not a number of runs")),
        Err(_) => 30,
    }
}

/// The demo's data: 1 MiB of the demo's pattern.
fn demo_data() -> Vec<u8> {
    (0..1usize << 20)
        .map(|i| (i as u32).wrapping_mul(2654435761).to_be_bytes()[1])
        .collect()
}

fn no_stalls(framing: Framing) {
    let n = runs();
    let data = demo_data();
    let t0 = Instant::now();
    let (mut segments, mut slowest) = (0u64, Duration::ZERO);
    let mut bad = Vec::new();
    let mut timeouts = 0;
    for run in 1..=n {
        let mut t = Tunnel::new(TunnelConfig {
            framing,
            ..TunnelConfig::default()
        })
        .expect("tunnel comes up");
        let tr = t
            .tcp_transfer(&data, Direction::HostToPeer, Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("{} run {run}: {e}", framing.name()));
        assert!(
            tr.received == data,
            "{} run {run}: data differs",
            framing.name()
        );
        let report = t.close();
        assert_eq!(
            report.mbufs_live,
            0,
            "{} run {run}: mbufs leaked",
            framing.name()
        );
        segments += tr.segments;
        slowest = slowest.max(tr.elapsed);
        if !tr.retransmissions.is_empty() {
            timeouts += usize::from(tr.timeouts().next().is_some());
            bad.push((run, tr));
        }
    }
    eprintln!(
        "{}: {n} transfers of 1 MiB in {:.2} s, {segments} segments, slowest {:.1} ms; \
         {} with a retransmission, {timeouts} with a retransmission timeout",
        framing.name(),
        t0.elapsed().as_secs_f64(),
        slowest.as_secs_f64() * 1e3,
        bad.len()
    );
    let mut why = String::new();
    for (run, tr) in &bad {
        why.push_str(&format!(
            "\n  run {run}: {:.1} ms, {} retransmitted segment(s):",
            tr.elapsed.as_secs_f64() * 1e3,
            tr.retransmissions.len()
        ));
        for r in tr.retransmissions.iter().take(4) {
            why.push_str(&format!("\n    {r}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{}: {} of {n} transfers retransmitted ({timeouts} after a timeout):{why}",
        framing.name(),
        bad.len()
    );
}

#[test]
fn demo_transfer_never_retransmits_plain() {
    no_stalls(Framing::Plain);
}

#[test]
fn demo_transfer_never_retransmits_lmode() {
    no_stalls(Framing::Lmode);
}

#[test]
fn demo_transfer_never_retransmits_ifhead() {
    no_stalls(Framing::Ifhead);
}

/// An IPv4/TCP packet 10.0.0.1:49152 > 10.0.0.2:5001 with `len` data bytes.
fn segment(seq: u32, flags: u8, len: usize) -> Vec<u8> {
    let total = 40 + len;
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&[10, 0, 0, 1]);
    p[16..20].copy_from_slice(&[10, 0, 0, 2]);
    p[20..22].copy_from_slice(&49152u16.to_be_bytes());
    p[22..24].copy_from_slice(&5001u16.to_be_bytes());
    p[24..28].copy_from_slice(&seq.to_be_bytes());
    p[32] = 5 << 4;
    p[33] = flags;
    p
}

/// The detector itself: a segment is "sent again" exactly when its sequence number is
/// behind the highest seen (across the 2^32 wrap too); the silence before it tells a
/// timeout; pure ACKs and a new SYN are not retransmissions.
#[test]
fn the_watch_sees_segments_sent_again_and_timeouts() {
    const SYN: u8 = 2;
    const ACK: u8 = 16;
    let t0 = Instant::now();
    let mut w = TcpWatch::default();
    let isn = u32::MAX - 15; // the data wraps around 2^32
    w.observe(&segment(isn, SYN, 0), true, t0);
    w.observe(&segment(isn + 1, ACK, 10), true, t0);
    w.observe(&segment(isn.wrapping_add(11), ACK, 10), true, t0);
    // A pure ACK.
    w.observe(&segment(isn.wrapping_add(21), ACK, 0), true, t0);
    // The same bytes the other way are another flow.
    let mut back = segment(isn + 1, ACK, 10);
    back[15] = 2;
    back[19] = 1;
    w.observe(&back, false, t0);
    assert!(w.retransmissions.is_empty(), "{:?}", w.retransmissions);
    assert_eq!(w.segments, 5);
    // A fast retransmit: at once, 16 bytes back.
    w.observe(&segment(isn.wrapping_add(5), ACK, 6), true, t0);
    // After a timeout: the last byte again, after a second of silence.
    w.observe(
        &segment(isn.wrapping_add(20), ACK, 1),
        true,
        t0 + RTO_GAP * 2,
    );
    // New data is not a retransmission.
    w.observe(
        &segment(isn.wrapping_add(21), ACK, 100),
        true,
        t0 + RTO_GAP * 2,
    );
    let r = &w.retransmissions;
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(
        (r[0].seq, r[0].len, r[0].back),
        (isn.wrapping_add(5), 6, 16)
    );
    assert!(!r[0].after_timeout(), "{}", r[0]);
    assert_eq!((r[1].len, r[1].back), (1, 1));
    assert!(r[1].after_timeout(), "{}", r[1]);
    assert!(
        r[1].to_string().contains("retransmission timeout"),
        "{}",
        r[1]
    );
    // A new connection on the same ports starts afresh.
    w.observe(&segment(7, SYN, 0), true, t0 + RTO_GAP * 2);
    w.observe(&segment(8, ACK, 10), true, t0 + RTO_GAP * 2);
    assert_eq!(w.retransmissions.len(), 2);
}
