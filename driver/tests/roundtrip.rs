// SPDX-License-Identifier: BSD-2-Clause
//! Property round trips through the driver:
//!
//! (a) `write(2)` → `tunwrite` → netisr, plain and `TUNSIFHEAD` framing, payloads of
//!     0..=16384 bytes biased toward the MHLEN/MLEN edges (56/57, 176/177);
//! (b) `if_output` → `tunoutput` → `read(2)`, payloads of 1..=16000 bytes in environment-built
//!     chains of random leading space and segmentation, plain, `TUNSLMODE` and `TUNSIFHEAD`
//!     framing.
//!
//! Each case boots its own kernel and ends with no live mbuf.

mod common;

use common::*;
use if_tun::abi::*;
use kernel::bsd::mbuf::{MHLEN, MLEN};
use kernel::bsd::netisr::{NETISR_IP, NETISR_IPV6};
use kernel::bsd::socket::{SockAddr, AF_INET, AF_INET6};
use proptest::prelude::*;

/// Lengths in `0..=max`, about half of them on or next to an mbuf boundary.
fn len_strategy(max: usize, min: usize) -> impl Strategy<Value = usize> {
    let edges: Vec<usize> = [
        0,
        1,
        3,
        4,
        5,
        MHLEN - 1,
        MHLEN,
        MHLEN + 1,
        MHLEN + 4,
        MHLEN + MLEN - 1,
        MHLEN + MLEN,
        MHLEN + MLEN + 1,
        MHLEN + 2 * MLEN,
        MHLEN + 2 * MLEN + 1,
        max - 1,
        max,
    ]
    .into_iter()
    .filter(|&n| n >= min && n <= max)
    .collect();
    prop_oneof![
        3 => proptest::sample::select(edges),
        1 => (0usize..=8, proptest::sample::select(vec![MHLEN, MHLEN + MLEN, MHLEN + 5 * MLEN]))
            .prop_map(move |(d, e)| (e + d).saturating_sub(4).clamp(min, max)),
        3 => min..=max,
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Framing of a packet read from the device.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Plain,
    Lmode,
    Ifhead(u8),
}

fn mode_strategy() -> impl Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::Plain),
        Just(Mode::Lmode),
        Just(Mode::Ifhead(AF_INET)),
        Just(Mode::Ifhead(AF_INET6)),
    ]
}

/// Segment sizes for `len` bytes behind `lead` bytes of leading space, cut by `seeds`
/// (each mbuf holds at most its capacity; empty mbufs allowed), then MLEN-sized.
fn segments(len: usize, lead: usize, seeds: &[u16]) -> Vec<usize> {
    let mut segs = Vec::new();
    let mut rest = len;
    let mut cap = MHLEN - lead;
    for &s in seeds {
        if rest == 0 {
            break;
        }
        let n = (usize::from(s) % (cap + 1)).min(rest);
        segs.push(n);
        rest -= n;
        cap = MLEN;
    }
    if segs.is_empty() {
        let n = cap.min(rest);
        segs.push(n);
        rest -= n;
    }
    while rest > 0 {
        let n = rest.min(MLEN);
        segs.push(n);
        rest -= n;
    }
    segs
}

proptest! {
    #![proptest_config(config())]

    /// (a) plain: every write of 0..=TUNMRU bytes reaches NETISR_IP byte-identical.
    #[test]
    fn write_to_netisr_plain(len in len_strategy(TUNMRU, 0), seed in any::<u8>(), bpf in any::<bool>()) {
        let env = boot();
        let fd = env.open("tun0");
        let ifp = env.ifp("tun0");
        let cap = bpf.then(|| Capture::attach(&ifp));
        let p = bytes(len, seed);
        prop_assert_eq!(fd.write(&p), Ok(len));
        if len == 0 {
            prop_assert!(env.k.netisr().is_empty());
            prop_assert_eq!(ifp.stats().ipackets, 0);
        } else {
            let m = env.k.netisr().dequeue(NETISR_IP).unwrap();
            prop_assert_eq!(m.to_vec(), p.clone());
            prop_assert_eq!(m.pkthdr().unwrap().len, len);
            drop(m);
            prop_assert!(env.k.netisr().is_empty());
            prop_assert_eq!((ifp.stats().ipackets, ifp.stats().ibytes), (1, len as u64));
            if let Some(cap) = cap {
                prop_assert_eq!(cap.take(), vec![(0, dlt_null(AF_INET.into(), &p))]);
            }
        }
        fd.close().unwrap();
        env.finish();
    }

    /// (a) TUNSIFHEAD: the be32 family selects the netisr and is stripped.
    #[test]
    fn write_to_netisr_ifhead(
        len in len_strategy(TUNMRU - 4, 0),
        v6 in any::<bool>(),
        seed in any::<u8>(),
        bpf in any::<bool>(),
    ) {
        let env = boot();
        let mut fd = env.open("tun0");
        let ifp = env.ifp("tun0");
        ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
        let cap = bpf.then(|| Capture::attach(&ifp));
        let (fam, isr) = if v6 { (AF_INET6, NETISR_IPV6) } else { (AF_INET, NETISR_IP) };
        let p = bytes(len, seed);
        prop_assert_eq!(fd.write(&ifhead(fam.into(), &p)), Ok(len + 4));
        let m = env.k.netisr().dequeue(isr).unwrap();
        prop_assert_eq!(m.to_vec(), p.clone());
        prop_assert_eq!(m.pkthdr().unwrap().len, len);
        drop(m);
        prop_assert!(env.k.netisr().is_empty());
        prop_assert_eq!((ifp.stats().ipackets, ifp.stats().ibytes), (1, len as u64));
        if let Some(cap) = cap {
            prop_assert_eq!(cap.take(), vec![(0, dlt_null(fam.into(), &p))]);
        }
        fd.close().unwrap();
        env.finish();
    }

    /// (b) output → read, in every framing, for any chain shape.
    #[test]
    fn output_to_read(
        len in len_strategy(16000, 1),
        lead in 0usize..=MHLEN,
        seeds in proptest::collection::vec(any::<u16>(), 0..12),
        mode in mode_strategy(),
        seed in any::<u8>(),
    ) {
        let env = boot();
        let mut fd = env.open("tun0");
        let ifp = env.ifp("tun0");
        let p = bytes(len, seed);
        let segs = segments(len, lead, &seeds);
        prop_assert_eq!(segs.iter().sum::<usize>(), len);
        let m = env.pkt(&p, lead, Some(&segs));
        let (mut dst, prefix) = match mode {
            Mode::Plain => (SockAddr::inet([10, 0, 0, 2]), Vec::new()),
            Mode::Lmode => {
                ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
                (SockAddr::inet([192, 168, 7, 9]), sin_bytes([192, 168, 7, 9]))
            }
            Mode::Ifhead(fam) => {
                ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
                let dst = if fam == AF_INET { SockAddr::inet([10, 0, 0, 2]) } else { SockAddr::inet6() };
                (dst, u32::from(fam).to_be_bytes().to_vec())
            }
        };
        ifp.output(m, &mut dst).unwrap();
        let mut want = prefix;
        want.extend_from_slice(&p);
        prop_assert_eq!(ifp.stats().obytes, want.len() as u64);
        prop_assert_eq!(ioctl_get(&mut fd, FIONREAD).unwrap() as usize, want.len());
        let got = read_nb(&fd, 20000).unwrap();
        prop_assert_eq!(got, want);
        prop_assert_eq!(qlen(&ifp), 0);
        prop_assert_eq!(env.k.mbufs().live(), 0);
        fd.close().unwrap();
        env.finish();
    }
}
