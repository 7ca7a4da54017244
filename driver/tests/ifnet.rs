// SPDX-License-Identifier: BSD-2-Clause
//! The interface side: `tuninit`, `tunifioctl`, `tunoutput`, `tunstart` (if_tun.c lines
//! 231–418, 777–798), including the bpf taps of the output path and the documented fixes
//! (AF_UNSPEC pull-up, LMODE `sa_len` > MHLEN).

mod common;

use kernel::sync::Arc;

use common::*;
use if_tun::abi::*;
use if_tun::TunFlags;
use kernel::bsd::bpf::DLT_NULL;
use kernel::bsd::errno::*;
use kernel::bsd::ifnet::{ifioctl, IfAddr, IfFlags, IfIoctlArg, IfStats, IfnetDyn};
use kernel::bsd::ioccom::{IFNAMSIZ, IFREQ_SIZE, IFSTAT_SIZE, SIOCGIFMTU};
use kernel::bsd::kqueue::{Knote, EVFILT_READ};
use kernel::bsd::mbuf::{MbufFlags, MHLEN};
use kernel::bsd::sigio::SIGIO;
use kernel::bsd::socket::{SockAddr, AF_INET, AF_INET6, AF_UNSPEC};
use kernel::error::code::*;
use kernel::event::Event;

fn ifreq_mtu(mtu: i32) -> [u8; IFREQ_SIZE] {
    let mut r = [0u8; IFREQ_SIZE];
    r[IFNAMSIZ..IFNAMSIZ + 4].copy_from_slice(&mtu.to_ne_bytes());
    r
}

/// Opens tun0 and returns the descriptor and the interface.
fn open0(env: &Env) -> (kernel::bsd::devfs::File, Arc<dyn IfnetDyn>) {
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    (fd, ifp)
}

// ---------------------------------------------------------------- tuninit (232–262)

#[test]
fn tuninit_sets_up_running_and_iaset() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    assert!(!env.flags("tun0").contains(TunFlags::TUN_IASET));
    env.set_addr(&ifp, [10, 0, 0, 1]).unwrap();
    assert!(ifp
        .flags()
        .get()
        .contains(IfFlags::IFF_UP | IfFlags::IFF_RUNNING));
    assert!(env.flags("tun0").contains(TunFlags::TUN_IASET));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tuninit_no_iaset_for_zero_address() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    env.set_addr(&ifp, [0, 0, 0, 0]).unwrap();
    assert!(ifp.flags().get().contains(IfFlags::IFF_UP));
    assert!(!env.flags("tun0").contains(TunFlags::TUN_IASET));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tuninit_efault_for_null_address() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    // An address entry without a sockaddr, then a real IPv4 address behind it: the walk
    // reports EFAULT but goes on (line 248), so IASET is still set.
    ifp.with_addrs(&mut |l| {
        l.push(IfAddr {
            addr: None,
            dstaddr: None,
        });
        l.push(IfAddr {
            addr: Some(SockAddr::inet([10, 9, 9, 9])),
            dstaddr: None,
        });
    });
    let mut req = [0u8; IFREQ_SIZE];
    assert_eq!(
        ifp.driver_ioctl(SIOCSIFADDR, Some(&mut req), &env.root()),
        Err(EFAULT)
    );
    assert!(ifp
        .flags()
        .get()
        .contains(IfFlags::IFF_UP | IfFlags::IFF_RUNNING));
    assert!(env.flags("tun0").contains(TunFlags::TUN_IASET));
    // Through the generic layer too (which then restores the address list).
    assert_eq!(env.set_addr(&ifp, [10, 0, 0, 1]), Err(EFAULT));
    assert_eq!(ifp.addrs().len(), 3);
    // SIOCSIFDSTADDR reaches tuninit as well.
    assert_eq!(
        ifp.driver_ioctl(SIOCSIFDSTADDR, Some(&mut req), &env.root()),
        Err(EFAULT)
    );
    env.k.record_events(true);
    fd.close().unwrap();
    assert!(env.k.take_events().contains(&Event::PurgeAddr {
        ifname: "tun0".into(),
        addr: IfAddr {
            addr: None,
            dstaddr: None,
        }
    }));
    assert_eq!(ifp.addrs().len(), 1);
    env.finish();
}

// ------------------------------------------------------------- tunifioctl (270–304)

#[test]
fn tunifioctl_siocgifstatus_text() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    let text = ifioctl(&*ifp, SIOCGIFSTATUS, IfIoctlArg::None, &env.root()).unwrap();
    assert_eq!(text, "\tOpened by PID 100\n");
    // Appended after what is already there (ascii + strlen(ascii)).
    let mut ifs = vec![0u8; IFSTAT_SIZE];
    ifs[IFNAMSIZ..IFNAMSIZ + 3].copy_from_slice(b"abc");
    ifp.driver_ioctl(SIOCGIFSTATUS, Some(&mut ifs), &env.root())
        .unwrap();
    let end = IFNAMSIZ + ifs[IFNAMSIZ..].iter().position(|&b| b == 0).unwrap();
    assert_eq!(&ifs[IFNAMSIZ..end], b"abc\tOpened by PID 100\n");
    fd.close().unwrap();
    // pid 0 after close: nothing appended.
    let text = ifioctl(&*ifp, SIOCGIFSTATUS, IfIoctlArg::None, &env.root()).unwrap();
    assert_eq!(text, "");
    env.finish();
}

#[test]
fn tunifioctl_siocgifstatus_is_bounded_by_the_ifstat() {
    // The C's ksprintf is unbounded; the port stops at the end of `ascii`.
    let env = boot();
    let (fd, ifp) = open0(&env);
    let mut ifs = vec![b'x'; IFSTAT_SIZE];
    ifs[IFSTAT_SIZE - 10] = 0;
    ifp.driver_ioctl(SIOCGIFSTATUS, Some(&mut ifs), &env.root())
        .unwrap();
    assert_eq!(&ifs[IFSTAT_SIZE - 10..], b"\tOpened b\0");
    let mut full = vec![b'x'; IFSTAT_SIZE];
    ifp.driver_ioctl(SIOCGIFSTATUS, Some(&mut full), &env.root())
        .unwrap();
    assert_eq!(full, vec![b'x'; IFSTAT_SIZE]);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunifioctl_siocsifdstaddr_calls_tuninit() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    env.set_addr(&ifp, [10, 0, 0, 1]).unwrap();
    // Down through SIOCSIFFLAGS (a no-op for the driver).
    ifioctl(&*ifp, SIOCSIFFLAGS, IfIoctlArg::Int(0), &env.root()).unwrap();
    assert!(!ifp.flags().get().contains(IfFlags::IFF_UP));
    ifioctl(
        &*ifp,
        SIOCSIFDSTADDR,
        IfIoctlArg::Inet([10, 0, 0, 2]),
        &env.root(),
    )
    .unwrap();
    assert!(ifp.flags().get().contains(IfFlags::IFF_UP));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunifioctl_siocsifmtu_has_no_range_check() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    // The generic layer checks the range...
    assert_eq!(
        ifioctl(&*ifp, SIOCSIFMTU, IfIoctlArg::Int(10), &env.root()),
        Err(EINVAL)
    );
    ifioctl(&*ifp, SIOCSIFMTU, IfIoctlArg::Int(9000), &env.root()).unwrap();
    assert_eq!(ifp.mtu(), 9000);
    // ...the driver does not (§6.18); an int sign-extends into the u_long.
    ifp.driver_ioctl(SIOCSIFMTU, Some(&mut ifreq_mtu(10)), &env.root())
        .unwrap();
    assert_eq!(ifp.mtu(), 10);
    ifp.driver_ioctl(SIOCSIFMTU, Some(&mut ifreq_mtu(-1)), &env.root())
        .unwrap();
    assert_eq!(ifp.mtu(), u64::MAX);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunifioctl_flags_and_multicast_are_noops() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    let before = ifp.flags().get();
    for cmd in [SIOCSIFFLAGS, SIOCADDMULTI, SIOCDELMULTI] {
        assert_eq!(ifp.driver_ioctl(cmd, None, &env.root()), Ok(()));
        let mut req = [0u8; IFREQ_SIZE];
        assert_eq!(ifp.driver_ioctl(cmd, Some(&mut req), &env.root()), Ok(()));
    }
    assert_eq!(ifp.flags().get(), before);
    ifioctl(&*ifp, SIOCADDMULTI, IfIoctlArg::None, &env.root()).unwrap();
    ifioctl(&*ifp, SIOCDELMULTI, IfIoctlArg::None, &env.root()).unwrap();
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunifioctl_einval_for_unknown() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    let mut req = [0u8; IFREQ_SIZE];
    for cmd in [SIOCGIFMTU, TUNSIFMODE, FIONREAD, 0] {
        assert_eq!(
            ifp.driver_ioctl(cmd, Some(&mut req), &env.root()),
            Err(EINVAL),
            "{cmd:#x}"
        );
    }
    assert_eq!(
        ifioctl(&*ifp, SIOCGIFMTU, IfIoctlArg::None, &env.root()),
        Err(EINVAL)
    );
    fd.close().unwrap();
    env.finish();
}

// ------------------------------------------------------------- tunoutput (312–418)

#[test]
fn tunoutput_ehostdown_when_not_ready() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    fd.close().unwrap();
    let st0 = ifp.stats();
    assert_eq!(env.output_inet(&ifp, &bytes(500, 1)), Err(EHOSTDOWN));
    let mut dst = SockAddr::new(AF_UNSPEC, 16);
    assert_eq!(
        env.output(&ifp, &dlt_null(2, b"x"), &mut dst),
        Err(EHOSTDOWN)
    );
    // No counter, nothing queued, nothing leaked; the AF_UNSPEC dst is untouched.
    assert_eq!(ifp.stats(), st0);
    assert_eq!(drops(&ifp), 0);
    assert_eq!(qlen(&ifp), 0);
    assert_eq!(dst.sa_family(), AF_UNSPEC);
    env.finish();
}

#[test]
fn tunoutput_queues_and_counts() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    env.k.record_events(true);
    let mut m = env.pkt(&bytes(200, 3), 0, None);
    m.set_flag(MbufFlags::M_MCAST, true);
    ifp.output(m, &mut SockAddr::inet([10, 0, 0, 2])).unwrap();
    env.output_inet(&ifp, &bytes(10, 4)).unwrap();
    let s = ifp.stats();
    assert_eq!(
        (s.opackets, s.obytes, s.omcasts, s.oerrors, s.collisions),
        (2, 210, 1, 0, 0)
    );
    let ev = env.k.take_events();
    assert!(ev.contains(&Event::Enqueue {
        ifname: "tun0".into(),
        len: 200,
        mbufs: 3,
        qlen: 1
    }));
    assert_eq!(read_nb(&fd, 4096).unwrap(), bytes(200, 3));
    assert_eq!(read_nb(&fd, 4096).unwrap(), bytes(10, 4));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_eafnosupport() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    let cap = Capture::attach(&ifp);
    let st0 = ifp.stats();
    let mut dst6 = SockAddr::inet6();
    assert_eq!(
        env.output(&ifp, &bytes(300, 1), &mut dst6),
        Err(EAFNOSUPPORT)
    );
    assert_eq!(
        env.output(&ifp, b"x", &mut SockAddr::new(99, 16)),
        Err(EAFNOSUPPORT)
    );
    // In LMODE too (after the sockaddr was prepended).
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    assert_eq!(
        env.output(&ifp, &bytes(100, 2), &mut dst6),
        Err(EAFNOSUPPORT)
    );
    // No counter (line 382–383), nothing queued; bpf saw them (the tap precedes the check).
    assert_eq!(ifp.stats(), st0);
    assert_eq!(drops(&ifp), 0);
    assert_eq!(qlen(&ifp), 0);
    let taps = cap.take();
    assert_eq!(taps.len(), 3);
    assert_eq!(taps[0], (DLT_NULL, dlt_null(28, &bytes(300, 1))));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_lmode_prepends_sockaddr() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    let p = bytes(150, 9);
    let mut want = sin_bytes([10, 0, 0, 2]);
    want.extend_from_slice(&p);
    // Without leading space (a new mbuf) and with enough of it (in place).
    for lead in [0, 15, 16, 40] {
        let m = env.pkt(&p, lead, None);
        let live = env.k.mbufs().live();
        ifp.output(m, &mut SockAddr::inet([10, 0, 0, 2])).unwrap();
        let extra = if lead >= 16 { 0 } else { 1 };
        assert_eq!(env.k.mbufs().live(), live + extra, "lead {lead}");
        assert_eq!(ioctl_get(&mut fd, FIONREAD).unwrap(), 166);
        assert_eq!(read_nb(&fd, 4096).unwrap(), want, "lead {lead}");
    }
    assert_eq!(ifp.stats().obytes, 4 * 166);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_lmode_sa_len_equal_to_mhlen_fits() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    let mut dst = SockAddr::new(AF_INET, MHLEN as u8);
    for (i, b) in dst.raw_mut()[2..MHLEN].iter_mut().enumerate() {
        *b = i as u8 + 1;
    }
    let want_prefix = dst.as_bytes().to_vec();
    env.output(&ifp, b"payload", &mut dst).unwrap();
    let got = read_nb(&fd, 4096).unwrap();
    assert_eq!(&got[..MHLEN], &want_prefix[..]);
    assert_eq!(&got[MHLEN..], b"payload");
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_lmode_sa_len_above_mhlen_enobufs() {
    // §6.7: the C overflows the mbuf; the port fails the prepend instead.
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    let mut n = 0;
    for sa_len in [57u8, 64, 120, 121, 200, 255] {
        for (lead, len) in [(0, 10), (56, 0), (56, 500), (8, 48)] {
            let mut dst = SockAddr::new(AF_INET, sa_len);
            let m = env.pkt(&bytes(len, sa_len), lead, None);
            assert_eq!(
                ifp.output(m, &mut dst),
                Err(ENOBUFS),
                "{sa_len} {lead} {len}"
            );
            n += 1;
            assert_eq!(env.k.mbufs().live(), 0);
        }
    }
    let s = ifp.stats();
    assert_eq!((s.oerrors, s.opackets, s.collisions), (n, 0, 0));
    assert_eq!(drops(&ifp), n);
    assert_eq!(qlen(&ifp), 0);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_ifhead_prepends_be32_family() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    let p = bytes(77, 5);
    for (mut dst, fam) in [
        (SockAddr::inet([1, 1, 1, 1]), 2u32),
        (SockAddr::inet6(), 28),
        (SockAddr::new(99, 16), 99),
    ] {
        for lead in [0, 4] {
            let m = env.pkt(&p, lead, None);
            ifp.output(m, &mut dst).unwrap();
            assert_eq!(read_nb(&fd, 4096).unwrap(), ifhead(fam, &p));
        }
    }
    assert_eq!(ifp.stats().opackets, 6);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_enobufs_when_prepend_fails() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    for (i, mode) in [TUNSLMODE, TUNSIFHEAD].into_iter().enumerate() {
        ioctl_set(&mut fd, mode, 1).unwrap();
        let before: IfStats = ifp.stats();
        // No leading space: M_PREPEND must allocate, and that allocation fails.
        let m = env.pkt(&bytes(300, 1), 0, None);
        env.k.mbufs().set_failalloc(Some(1));
        assert_eq!(
            ifp.output(m, &mut SockAddr::inet([10, 0, 0, 2])),
            Err(ENOBUFS)
        );
        env.k.mbufs().set_failalloc(None);
        let after = ifp.stats();
        assert_eq!(after.oerrors, before.oerrors + 1);
        assert_eq!(after.opackets, before.opackets);
        assert_eq!(after.collisions, before.collisions);
        assert_eq!(drops(&ifp), i as u64 + 1);
        assert_eq!(qlen(&ifp), 0);
        assert_eq!(env.k.mbufs().live(), 0, "chain freed by m_prepend");
    }
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_collision_when_queue_full() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    env.k.record_events(true);
    for i in 0..250 {
        env.output_inet(&ifp, &bytes(60, i as u8)).unwrap();
    }
    assert_eq!(qlen(&ifp), 250);
    let live = env.k.mbufs().live();
    assert_eq!(env.output_inet(&ifp, &bytes(200, 0)), Err(ENOBUFS));
    assert_eq!(env.k.mbufs().live(), live, "the refused packet is freed");
    let s = ifp.stats();
    assert_eq!((s.opackets, s.collisions, s.oerrors), (250, 1, 0));
    assert_eq!(s.obytes, 250 * 60);
    assert_eq!(drops(&ifp), 0, "ifq_handoff does not count a drop");
    assert!(env.k.take_events().contains(&Event::QueueFull {
        ifname: "tun0".into(),
        qlen: 250
    }));
    // FIFO order.
    assert_eq!(read_nb(&fd, 100).unwrap(), bytes(60, 0));
    env.output_inet(&ifp, &bytes(1, 1)).unwrap();
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_af_unspec_bpf_write_path() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    let cap = Capture::attach(&ifp);
    let p = bytes(100, 7);
    let mut dst = SockAddr::new(AF_UNSPEC, 16);
    env.output(&ifp, &dlt_null(2, &p), &mut dst).unwrap();
    // The family was written back into the caller's sockaddr and stripped.
    assert_eq!(dst.sa_family(), AF_INET);
    assert_eq!(cap.take(), vec![(DLT_NULL, dlt_null(2, &p))]);
    assert_eq!(ifp.stats().obytes, 100);
    assert_eq!(read_nb(&fd, 4096).unwrap(), p);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_af_unspec_in_lmode_and_ifhead_modes() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    let p = bytes(30, 1);
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    let mut dst = SockAddr::new(AF_UNSPEC, 16);
    env.output(&ifp, &dlt_null(28, &p), &mut dst).unwrap();
    assert_eq!(dst.sa_family(), AF_INET6);
    assert_eq!(read_nb(&fd, 4096).unwrap(), ifhead(28, &p));
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    let mut dst = SockAddr::new(AF_UNSPEC, 16);
    env.output(&ifp, &dlt_null(2, &p), &mut dst).unwrap();
    let mut want = dst.as_bytes().to_vec();
    assert_eq!(want[1], AF_INET);
    want.extend_from_slice(&p);
    assert_eq!(read_nb(&fd, 4096).unwrap(), want);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_af_unspec_family_truncated_to_u8() {
    // §6.6: the int is truncated to sa_family_t.
    let env = boot();
    let (fd, ifp) = open0(&env);
    let mut dst = SockAddr::new(AF_UNSPEC, 16);
    env.output(&ifp, &dlt_null(0x0102, b"abc"), &mut dst)
        .unwrap();
    assert_eq!(dst.sa_family(), AF_INET);
    assert_eq!(read_nb(&fd, 100).unwrap(), b"abc");
    if cfg!(target_endian = "little") {
        // A network-order header reads as family 0: not AF_INET.
        let mut dst = SockAddr::new(AF_UNSPEC, 16);
        assert_eq!(
            env.output(&ifp, &ifhead(2, b"abc"), &mut dst),
            Err(EAFNOSUPPORT)
        );
        assert_eq!(dst.sa_family(), 0);
    }
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_af_unspec_short_first_mbuf_is_pulled_up() {
    // The fix: the C reads 4 bytes from a 1–3 byte first mbuf and makes m_len negative.
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    let cap = Capture::attach(&ifp);
    let p = bytes(200, 2);
    let pkt = dlt_null(2, &p);
    for segs in [
        vec![1, 3, 100, 100],
        vec![2, 120, 82],
        vec![3, 1, 120, 80],
        vec![0, 4, 120, 80],
    ] {
        let m = env.pkt(&pkt, 0, Some(&segs));
        let mut dst = SockAddr::new(AF_UNSPEC, 16);
        ifp.output(m, &mut dst).unwrap();
        assert_eq!(dst.sa_family(), AF_INET);
        let n = ioctl_get(&mut fd, FIONREAD).unwrap();
        assert_eq!(n, 200, "{segs:?}");
        assert_eq!(read_nb(&fd, 4096).unwrap(), p, "{segs:?}");
        assert_eq!(cap.take(), vec![(DLT_NULL, dlt_null(2, &p))]);
    }
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_af_unspec_enobufs_below_4_bytes() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    let cases: Vec<(Vec<u8>, Option<Vec<usize>>)> = vec![
        (vec![], None),
        (vec![2], None),
        (vec![2, 0, 0], None),
        (vec![2, 0, 0], Some(vec![1, 2])),
        (vec![2, 0, 0], Some(vec![1, 0, 1, 1])),
    ];
    for (i, (b, segs)) in cases.iter().enumerate() {
        let m = env.pkt(b, 0, segs.as_deref());
        let mut dst = SockAddr::new(AF_UNSPEC, 16);
        assert_eq!(ifp.output(m, &mut dst), Err(ENOBUFS), "{b:?} {segs:?}");
        assert_eq!(env.k.mbufs().live(), 0, "{b:?} {segs:?}");
        let s = ifp.stats();
        assert_eq!(s.oerrors, i as u64 + 1);
        assert_eq!((s.opackets, s.collisions), (0, 0));
    }
    assert_eq!(qlen(&ifp), 0);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_af_unspec_enobufs_when_pullup_allocation_fails() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    // The first mbuf's data ends at the end of its buffer: m_pullup must allocate.
    let m = env.pkt(&dlt_null(2, &bytes(10, 1)), 54, Some(&[2, 12]));
    env.k.mbufs().set_failalloc(Some(1));
    let mut dst = SockAddr::new(AF_UNSPEC, 16);
    assert_eq!(ifp.output(m, &mut dst), Err(ENOBUFS));
    env.k.mbufs().set_failalloc(None);
    assert_eq!(env.k.mbufs().live(), 0);
    assert_eq!(ifp.stats().oerrors, 1);
    // Without the failure the same packet goes through.
    let m = env.pkt(&dlt_null(2, &bytes(10, 1)), 54, Some(&[2, 12]));
    ifp.output(m, &mut SockAddr::new(AF_UNSPEC, 16)).unwrap();
    assert_eq!(read_nb(&fd, 100).unwrap(), bytes(10, 1));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_bpf_taps_with_host_order_family() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    assert_eq!(ifp.bpf().dlt(), DLT_NULL);
    let p = bytes(90, 4);
    // No listener: no tap at all.
    env.k.record_events(true);
    env.output_inet(&ifp, &p).unwrap();
    assert!(!env
        .k
        .take_events()
        .iter()
        .any(|e| matches!(e, Event::Bpf { .. })));
    let cap = Capture::attach(&ifp);
    env.output_inet(&ifp, &p).unwrap();
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    env.output_inet(&ifp, &p).unwrap();
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    env.output(&ifp, &p, &mut SockAddr::inet6()).unwrap();
    // The tap precedes any framing: family header then the bare packet.
    assert_eq!(
        cap.take(),
        vec![
            (DLT_NULL, dlt_null(2, &p)),
            (DLT_NULL, dlt_null(2, &p)),
            (DLT_NULL, dlt_null(28, &p)),
        ]
    );
    assert!(ifp.bpf().detach_last());
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_sigio_to_pid_with_fioasync() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    ioctl_set(&mut fd, FIOASYNC, 1).unwrap();
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    env.k.record_events(true);
    env.output_inet(&ifp, b"one").unwrap();
    env.output_inet(&ifp, b"two").unwrap();
    assert_eq!(env.k.proc_signals(PID), vec![SIGIO, SIGIO]);
    let sig: Vec<Event> = env
        .k
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Sigio { .. }))
        .collect();
    assert_eq!(
        sig,
        vec![
            Event::Sigio {
                pid: PID,
                pgrp: None,
                sig: SIGIO
            };
            2
        ]
    );
    // No SIGIO for a failed output.
    assert_eq!(
        env.output(&ifp, b"x", &mut SockAddr::inet6()),
        Err(EAFNOSUPPORT)
    );
    assert_eq!(env.k.proc_signals(PID).len(), 2);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_sigio_to_pgrp_with_tiocspgrp() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    env.k.proc_set(201, 500, 1, 0).unwrap();
    env.k.proc_set(200, 500, 1, 0).unwrap();
    ioctl_set(&mut fd, FIOASYNC, 1).unwrap();
    ioctl_set(&mut fd, TIOCSPGRP, 500).unwrap();
    env.k.record_events(true);
    env.output_inet(&ifp, b"one").unwrap();
    assert_eq!(env.k.proc_signals(200), vec![SIGIO]);
    assert_eq!(env.k.proc_signals(201), vec![SIGIO]);
    assert!(env.k.proc_signals(PID).is_empty());
    let sig: Vec<Event> = env
        .k
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Sigio { .. }))
        .collect();
    assert_eq!(
        sig,
        vec![
            Event::Sigio {
                pid: 200,
                pgrp: Some(500),
                sig: SIGIO
            },
            Event::Sigio {
                pid: 201,
                pgrp: Some(500),
                sig: SIGIO
            }
        ]
    );
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_knote_on_output() {
    let env = boot();
    let (fd, ifp) = open0(&env);
    let kn = Knote::new(42, EVFILT_READ);
    fd.kqfilter(&kn).unwrap();
    env.k.record_events(true);
    env.output_inet(&ifp, b"1").unwrap();
    env.output_inet(&ifp, b"2").unwrap();
    assert_eq!(kn.activations(), 2);
    let kev: Vec<Event> = env
        .k
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Knote { .. }))
        .collect();
    assert_eq!(
        kev,
        vec![
            Event::Knote {
                id: 42,
                filter: EVFILT_READ,
                ready: true
            };
            2
        ]
    );
    // No KNOTE for a refused packet.
    assert_eq!(
        env.output(&ifp, b"x", &mut SockAddr::inet6()),
        Err(EAFNOSUPPORT)
    );
    assert_eq!(kn.activations(), 2);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunoutput_notifies_in_the_c_order() {
    // Enqueue, then wakeup (RWAIT), SIGIO, KNOTE (lines 387–401).
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    ioctl_set(&mut fd, FIOASYNC, 1).unwrap();
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    fd.kqfilter(&Knote::new(5, EVFILT_READ)).unwrap();
    // A stale TUN_RWAIT from an interrupted read (§6.10).
    env.k.post_signal(PID, false).unwrap();
    assert_eq!(fd.read(&mut [0u8; 4], false), Err(EINTR));
    env.k.clear_signal(PID);
    env.k.record_events(true);
    env.output_inet(&ifp, b"x").unwrap();
    let chan = env.softc("tun0").wait_channel();
    let ev: Vec<Event> = env
        .k
        .take_events()
        .into_iter()
        .filter(|e| !matches!(e, Event::Kprintf { .. }))
        .collect();
    assert_eq!(
        ev,
        vec![
            Event::Enqueue {
                ifname: "tun0".into(),
                len: 1,
                mbufs: 1,
                qlen: 1
            },
            Event::Wakeup {
                ident: chan,
                woken: 0
            },
            Event::Sigio {
                pid: PID,
                pgrp: None,
                sig: SIGIO
            },
            Event::Knote {
                id: 5,
                filter: EVFILT_READ,
                ready: true
            },
        ]
    );
    fd.close().unwrap();
    env.finish();
}

// ---------------------------------------------------------------- tunstart (777–798)

#[test]
fn tunstart_does_nothing_without_altq() {
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    ioctl_set(&mut fd, FIOASYNC, 1).unwrap();
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    env.output_inet(&ifp, b"1").unwrap();
    assert_eq!(env.k.proc_signals(PID).len(), 1);
    ifp.start();
    assert_eq!(env.k.proc_signals(PID).len(), 1);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunstart_with_altq_repeats_sigio_and_knote() {
    // §6.11: with ALTQ enabled tunstart runs inside ifq_handoff and notifies too.
    let env = boot();
    let (mut fd, ifp) = open0(&env);
    ioctl_set(&mut fd, FIOASYNC, 1).unwrap();
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    let kn = Knote::new(1, EVFILT_READ);
    fd.kqfilter(&kn).unwrap();
    ifp.with_snd(&mut |q| q.set_altq_enabled(true));
    env.output_inet(&ifp, b"1").unwrap();
    assert_eq!(env.k.proc_signals(PID), vec![SIGIO, SIGIO]);
    assert_eq!(kn.activations(), 2);
    // tunstart alone, with a packet queued: one more of each.
    ifp.start();
    assert_eq!(env.k.proc_signals(PID).len(), 3);
    assert_eq!(kn.activations(), 3);
    // IFF_OACTIVE keeps ifq_handoff from calling if_start.
    ifp.flags().insert(IfFlags::IFF_OACTIVE);
    env.output_inet(&ifp, b"2").unwrap();
    assert_eq!(env.k.proc_signals(PID).len(), 4);
    ifp.flags().remove(IfFlags::IFF_OACTIVE);
    // Empty queue: tunstart does nothing.
    read_nb(&fd, 10).unwrap();
    read_nb(&fd, 10).unwrap();
    ifp.start();
    assert_eq!(env.k.proc_signals(PID).len(), 4);
    ifp.with_snd(&mut |q| q.set_altq_enabled(false));
    fd.close().unwrap();
    env.finish();
}
