// SPDX-License-Identifier: BSD-2-Clause
//! Every allocation failure point on the write, output, open and ioctl paths.
//!
//! For each path and configuration the operation runs once to count its allocations (any
//! `KBox`/`KVec`/`Arc`/mbuf the kernel makes, through kmock's per-kernel plan); then, on a
//! fresh kernel each time, the n-th of them is made to fail, for every n. A new allocation
//! site on a path is therefore covered without editing this test. Each failure must give
//! the C's errno, leave the counters as the C's error branch does, deliver nothing, and
//! leak no mbuf. The number of points exercised is printed (`--nocapture`).

mod common;

use common::*;
use if_tun::abi::*;
use kernel::bsd::errno::ENOBUFS;
use kernel::bsd::netisr::NETISR_IP;
use kernel::bsd::socket::{SockAddr, AF_INET};
use kernel::error::code::ENOMEM;

/// Packet sizes on both sides of the MHLEN (56) and MLEN (120) boundaries, and of one
/// header mbuf plus one full mbuf (176).
const SIZES: [usize; 9] = [20, 55, 56, 57, 119, 120, 121, 176, 177];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Plain,
    Lmode,
    Ifhead,
}

const FRAMINGS: [Framing; 3] = [Framing::Plain, Framing::Lmode, Framing::Ifhead];

/// tun0 open and configured for `framing`, optionally with a bpf listener.
fn setup(framing: Framing, bpf: bool) -> (Env, kernel::bsd::devfs::File) {
    let env = boot();
    let mut fd = env.open("tun0");
    match framing {
        Framing::Plain => {}
        Framing::Lmode => ioctl_set(&mut fd, TUNSLMODE, 1).unwrap(),
        Framing::Ifhead => ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap(),
    }
    if bpf {
        let _c = Capture::attach(&env.ifp("tun0"));
    }
    (env, fd)
}

/// What a write of `size` payload bytes in `framing` puts on the descriptor.
fn write_bytes(framing: Framing, size: usize) -> Vec<u8> {
    let payload = bytes(size, 7);
    match framing {
        Framing::Ifhead => ifhead(u32::from(AF_INET), &payload),
        _ => payload,
    }
}

/// Counts the allocations `op` makes on a fresh setup, and checks it succeeds there.
fn count(
    framing: Framing,
    bpf: bool,
    op: &dyn Fn(&Env, &mut kernel::bsd::devfs::File) -> kernel::Result,
) -> u64 {
    let (env, mut fd) = setup(framing, bpf);
    let before = env.k.alloc_count();
    op(&env, &mut fd).expect("the operation succeeds without injected failures");
    let n = env.k.alloc_count() - before;
    drop(fd);
    env.finish();
    n
}

#[test]
fn every_allocation_of_tunwrite_fails_with_enobufs_and_nothing_delivered() {
    let mut points = 0;
    for framing in FRAMINGS {
        for bpf in [false, true] {
            for size in SIZES {
                let data = write_bytes(framing, size);
                let op = |_: &Env, fd: &mut kernel::bsd::devfs::File| fd.write(&data).map(|_| ());
                let n = count(framing, bpf, &op);
                // The copy loop's mbufs: a header mbuf of MHLEN, then MLEN pieces.
                let mbufs = if data.len() <= 56 {
                    1
                } else {
                    1 + (data.len() - 56).div_ceil(120)
                } as u64;
                // With bpf and IFHEAD the family is pulled up for the tap: DragonFly's
                // m_pullup tops the head up in place when it has a successor, and takes a
                // new mbuf for a one-mbuf chain.
                let pullup = u64::from(bpf && framing == Framing::Ifhead && mbufs == 1);
                assert_eq!(
                    n,
                    mbufs + pullup,
                    "{framing:?} bpf={bpf} size={size}: allocations"
                );
                for nth in 1..=n {
                    let (env, fd) = setup(framing, bpf);
                    let ifp = env.ifp("tun0");
                    let before = ifp.stats();
                    env.k.fail_alloc_nth(nth);
                    let r = fd.write(&data);
                    let after = ifp.stats();
                    let what = format!("{framing:?} bpf={bpf} size={size} allocation {nth}/{n}");
                    assert_eq!(r, Err(ENOBUFS), "{what}");
                    assert_eq!(env.k.alloc_failures(), 1, "{what}");
                    assert_eq!(
                        env.k.netisr().len(NETISR_IP),
                        0,
                        "{what}: nothing delivered"
                    );
                    assert_eq!(after.ipackets, before.ipackets, "{what}");
                    assert_eq!(after.ibytes, before.ibytes, "{what}");
                    // The C: MGETHDR failing returns at once; a later MGET failing frees
                    // the chain and counts an input error; the bpf pullup failing returns
                    // ENOBUFS without counting.
                    let ierr = u64::from(nth > 1 && nth <= mbufs);
                    assert_eq!(after.ierrors - before.ierrors, ierr, "{what}");
                    // The descriptor still works: the next write goes through.
                    env.k.clear_alloc_faults();
                    assert_eq!(fd.write(&data), Ok(data.len()), "{what}: after");
                    drop(fd);
                    env.finish();
                    points += 1;
                }
            }
        }
    }
    println!("tunwrite: {points} allocation failure points exercised");
    assert!(points >= 3 * 2 * SIZES.len());
}

/// An `if_output` of `size` bytes: AF_INET, or the BPF-write family (AF_UNSPEC, the
/// family as a host-order int in front) split so that the family is not contiguous.
fn output_op(
    size: usize,
    unspec: bool,
) -> impl Fn(&Env, &mut kernel::bsd::devfs::File) -> kernel::Result {
    move |env: &Env, _fd: &mut kernel::bsd::devfs::File| {
        let ifp = env.ifp("tun0");
        if unspec {
            let data = dlt_null(u32::from(AF_INET), &bytes(size, 3));
            // Two bytes, then the rest: the family word needs an m_pullup.
            let segs = [2, (data.len() - 2).min(118)];
            let rest = data.len() - 2 - segs[1];
            let mut v = vec![2, segs[1]];
            let mut left = rest;
            while left > 0 {
                let n = left.min(120);
                v.push(n);
                left -= n;
            }
            let m = env.pkt(&data, 0, Some(&v));
            ifp.output(m, &mut SockAddr::new(0, 16))
        } else {
            env.output_inet(&ifp, &bytes(size, 3))
        }
    }
}

#[test]
fn every_allocation_of_tunoutput_fails_with_enobufs_counted_as_a_drop() {
    let mut points = 0;
    let mut configs = 0;
    for framing in FRAMINGS {
        for bpf in [false, true] {
            for size in SIZES {
                for unspec in [false, true] {
                    configs += 1;
                    let op = output_op(size, unspec);
                    let n = count(framing, bpf, &op);
                    for nth in 1..=n {
                        let (env, mut fd) = setup(framing, bpf);
                        let ifp = env.ifp("tun0");
                        let before = (ifp.stats(), drops(&ifp));
                        env.k.fail_alloc_nth(nth);
                        let r = op(&env, &mut fd);
                        let after = (ifp.stats(), drops(&ifp));
                        let what = format!(
                            "{framing:?} bpf={bpf} size={size} unspec={unspec} allocation {nth}/{n}"
                        );
                        assert_eq!(r, Err(ENOBUFS), "{what}");
                        assert_eq!(env.k.alloc_failures(), 1, "{what}");
                        assert_eq!(qlen(&ifp), 0, "{what}: nothing queued");
                        assert_eq!(after.0.opackets, before.0.opackets, "{what}");
                        assert_eq!(after.0.oerrors - before.0.oerrors, 1, "{what}");
                        assert_eq!(after.1 - before.1, 1, "{what}: IF_DROP");
                        env.k.clear_alloc_faults();
                        assert_eq!(op(&env, &mut fd), Ok(()), "{what}: after");
                        assert_eq!(read_nb(&fd, 4096).map(|v| !v.is_empty()), Ok(true));
                        drop(fd);
                        env.finish();
                        points += 1;
                    }
                }
            }
        }
    }
    println!(
        "tunoutput: {points} allocation failure points exercised over {configs} configurations"
    );
    // LMODE and IFHEAD prepend, and the AF_UNSPEC pullup, allocate.
    assert!(points > 0);
}

#[test]
fn every_allocation_of_a_first_open_fails_with_enomem() {
    let mut points = 0;
    for unit in ["tun0", "tun"] {
        let env = boot();
        let before = env.k.alloc_count();
        let fd = env.k.dev_open(unit, PID).unwrap();
        let n = env.k.alloc_count() - before;
        drop(fd);
        env.finish();
        assert!(
            n >= 3,
            "{unit}: the interface, the sysctl handle, the softc"
        );
        for nth in 1..=n {
            let env = boot();
            env.k.fail_alloc_nth(nth);
            let r = env.k.dev_open(unit, PID);
            let what = format!("open {unit} allocation {nth}/{n}");
            assert_eq!(r.err(), Some(ENOMEM), "{what}");
            assert_eq!(env.k.alloc_failures(), 1, "{what}");
            env.k.clear_alloc_faults();
            let fd = env.k.dev_open(unit, PID).unwrap();
            drop(fd);
            env.finish();
            points += 1;
        }
    }
    println!("open: {points} allocation failure points exercised");
}

#[test]
fn the_device_ioctls_allocate_nothing() {
    // Every tunioctl command with valid arguments: none allocates, so none can fail for
    // memory (the C's ioctls allocate nothing either).
    let (env, mut fd) = setup(Framing::Plain, false);
    let before = env.k.alloc_count();
    for (cmd, v) in [
        (TUNSDEBUG, 0),
        (TUNSLMODE, 1),
        (TUNSLMODE, 0),
        (TUNSIFHEAD, 1),
        (TUNSIFHEAD, 0),
        (TUNSIFMODE, 0x10),
        (FIOASYNC, 1),
        (FIOASYNC, 0),
        (FIOSETOWN, PID),
        (TIOCSPGRP, PGRP),
    ] {
        ioctl_set(&mut fd, cmd, v).unwrap();
    }
    for cmd in [TUNGDEBUG, TUNGIFHEAD, FIONREAD, FIOGETOWN, TIOCGPGRP] {
        ioctl_get(&mut fd, cmd).unwrap();
    }
    let info = get_info(&mut fd);
    set_info(&mut fd, info).unwrap();
    fd.ioctl(TUNSIFPID, &mut []).unwrap();
    assert_eq!(env.k.alloc_count() - before, 0);
    println!("tunioctl: 0 allocation points (17 commands)");
    drop(fd);
    env.finish();
}
