// SPDX-License-Identifier: BSD-2-Clause
//! Unit-level tests of kmock's kernel services through their public API: ifq, ifnet and the
//! generic `ifioctl` layer, bpf, netisr, devfs, uio, sleep/wakeup, sigio and errno names.
//!
//! The expected behaviour is DragonFly's, as summarised in `tun-facts.md` §3–§4. Every test
//! that makes mbufs ends by checking that none is left live.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc as StdArc};
use std::time::Duration;

use kmock::alloc::flags::GFP_KERNEL;
use kmock::bsd::bpf::{bpf_mtap, bpf_ptap, BpfListener, DLT_NULL};
use kmock::bsd::cred::{Ucred, GID_DIALER, UID_UUCP};
use kmock::bsd::devfs::{
    devfs_clone_bitmap_get, devfs_clone_bitmap_put, devfs_clone_bitmap_set, make_autoclone_dev,
    make_dev, make_only_dev, CloneFn, DevCloneArgs, DevCloseArgs, DevIoctlArgs, DevKqfilterArgs,
    DevOpenArgs, DevOps, DevReadArgs, DevfsCloneBitmap,
};
use kmock::bsd::errno::*;
use kmock::bsd::ifnet::{
    bpfattach, if_attach, if_down, if_purgeaddrs_nolink, if_up, ifioctl, ifnet_serialize_all,
    IfFlags, IfIoctlArg, Ifnet, IfnetDyn, IfnetOps, RtEntry, SerializeGuard,
};
use kmock::bsd::ifnet::{ifq_handoff, IfHost};
use kmock::bsd::ifq::{
    if_drop, ifq_classify, ifq_dequeue, ifq_is_empty, ifq_is_enabled, ifq_poll, ifq_purge,
    ifq_set_maxlen, ifq_set_ready, AltqPktattr, ALTQF_READY, IFQ_MAXLEN,
};
use kmock::bsd::ioccom::{
    FIOASYNC, FIONBIO, SIOCADDMULTI, SIOCDELMULTI, SIOCSIFADDR, SIOCSIFDSTADDR, SIOCSIFFLAGS,
    SIOCSIFMTU,
};
use kmock::bsd::kqueue::{knote_insert, knote_remove, FilterOps, KList, Knote, EVFILT_READ};
use kmock::bsd::mbuf::{MbufBox, MbufFlags};
use kmock::bsd::netisr::{netisr_queue, NETISR_IP, NETISR_IPV6, NETISR_MAX, NETISR_QLEN};
use kmock::bsd::sigio::{fgetown, fsetown, funsetown, pgsigio, SigioSlot, SIGIO};
use kmock::bsd::sleep::{tsleep, wakeup, PCATCH};
use kmock::bsd::socket::{SockAddr, AF_INET, AF_INET6, AF_LINK};
use kmock::bsd::uio::{uiomove, Uio, UioRw};
use kmock::error::code::*;
use kmock::event::Event;
use kmock::sync::{Arc, Mutex};
use kmock::{Kernel, Result};

// ---------------------------------------------------------------------------------------
// A dummy network driver
// ---------------------------------------------------------------------------------------

/// The softc of a dummy interface: counts `if_start` calls and records driver ioctls.
struct Dummy {
    ifp: Arc<Ifnet<Dummy>>,
    starts: AtomicUsize,
    ioctls: Mutex<Vec<(u32, bool)>>,
}

impl IfnetOps for Dummy {
    type Serialized = ();

    fn if_output(
        ifp: &Ifnet<Self>,
        m: MbufBox,
        _dst: &mut SockAddr,
        _rt: Option<&RtEntry>,
    ) -> Result {
        let mut g = ifnet_serialize_all(ifp);
        ifq_handoff(ifp, &mut g, m, &AltqPktattr::default())
    }

    fn if_ioctl(ifp: &Ifnet<Self>, cmd: u32, data: Option<&mut [u8]>, _cred: &Ucred) -> Result {
        if let Some(sc) = ifp.if_softc() {
            sc.ioctls.lock().push((cmd, data.is_some()));
        }
        Ok(())
    }

    fn if_start(ifp: &Ifnet<Self>, _ser: &mut SerializeGuard<'_, Self>) {
        if let Some(sc) = ifp.if_softc() {
            sc.starts.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Creates and attaches `dummy<unit>` in the current kernel context.
fn dummy(unit: u32) -> Arc<Dummy> {
    let sc = Arc::new(
        Dummy {
            ifp: Ifnet::new("dummy", unit, (), GFP_KERNEL).unwrap(),
            starts: AtomicUsize::new(0),
            ioctls: Mutex::new(Vec::new()),
        },
        GFP_KERNEL,
    )
    .unwrap();
    sc.ifp.set_softc(sc.clone());
    if_attach(&sc.ifp);
    sc
}

fn root() -> Ucred {
    Ucred::default()
}

fn user() -> Ucred {
    Ucred {
        cr_uid: 1000,
        cr_gid: 1000,
    }
}

/// A packet of `len` bytes, all equal to `tag`.
fn pkt(k: &Kernel, tag: u8, len: usize) -> MbufBox {
    k.mbufs().packet_from(&vec![tag; len], 0, None).unwrap()
}

fn handoff(sc: &Dummy, m: MbufBox) -> Result {
    let mut g = ifnet_serialize_all(&sc.ifp);
    ifq_handoff(&sc.ifp, &mut g, m, &AltqPktattr::default())
}

fn qlen(sc: &Dummy) -> usize {
    ifnet_serialize_all(&sc.ifp).if_snd.len()
}

fn purge(sc: &Dummy) {
    ifq_purge(&mut ifnet_serialize_all(&sc.ifp).if_snd);
}

// ---------------------------------------------------------------------------------------
// ifq
// ---------------------------------------------------------------------------------------

#[test]
fn ifq_handoff_enqueues_counts_bytes_and_starts() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    k.record_events(true);

    handoff(&sc, pkt(&k, 1, 100)).unwrap();
    assert_eq!(qlen(&sc), 1);
    assert_eq!(sc.ifp.if_obytes.get(), 100);
    assert_eq!(sc.ifp.if_omcasts.get(), 0);
    assert_eq!(sc.starts.load(Ordering::SeqCst), 1);

    let mut m = pkt(&k, 2, 30);
    m.set_flag(MbufFlags::M_MCAST, true);
    handoff(&sc, m).unwrap();
    assert_eq!(qlen(&sc), 2);
    assert_eq!(sc.ifp.if_obytes.get(), 130);
    assert_eq!(sc.ifp.if_omcasts.get(), 1);
    assert_eq!(sc.starts.load(Ordering::SeqCst), 2);

    let ev = k.take_events();
    assert_eq!(
        ev,
        vec![
            Event::Enqueue {
                ifname: "dummy0".into(),
                len: 100,
                mbufs: 2,
                qlen: 1
            },
            Event::Enqueue {
                ifname: "dummy0".into(),
                len: 30,
                mbufs: 1,
                qlen: 2
            },
        ]
    );
    // Through the driver's if_output too.
    let mut dst = SockAddr::inet([10, 0, 0, 1]);
    sc.ifp.output(pkt(&k, 3, 5), &mut dst).unwrap();
    assert_eq!(qlen(&sc), 3);
    assert_eq!(sc.starts.load(Ordering::SeqCst), 3);

    purge(&sc);
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn ifq_full_queue_frees_packet_with_enobufs() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    ifq_set_maxlen(&mut ifnet_serialize_all(&sc.ifp).if_snd, 2);
    handoff(&sc, pkt(&k, 1, 10)).unwrap();
    handoff(&sc, pkt(&k, 2, 10)).unwrap();
    assert_eq!(k.mbufs().live(), 2);
    k.record_events(true);

    assert_eq!(handoff(&sc, pkt(&k, 3, 10)), Err(ENOBUFS));
    // The packet was freed, nothing else changed: no drop counted, no bytes, no start.
    assert_eq!(k.mbufs().live(), 2);
    assert_eq!(qlen(&sc), 2);
    assert_eq!(ifnet_serialize_all(&sc.ifp).if_snd.drops(), 0);
    assert_eq!(sc.ifp.if_obytes.get(), 20);
    assert_eq!(sc.starts.load(Ordering::SeqCst), 2);
    assert_eq!(
        k.take_events(),
        vec![Event::QueueFull {
            ifname: "dummy0".into(),
            qlen: 2
        }]
    );

    purge(&sc);
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn ifq_dequeue_is_fifo_and_poll_does_not_remove() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    for tag in 1..=4u8 {
        handoff(&sc, pkt(&k, tag, tag as usize)).unwrap();
    }
    let mut g = ifnet_serialize_all(&sc.ifp);
    let q = &mut g.if_snd;
    assert_eq!(ifq_poll(q).map(|m| m.to_vec()), Some(vec![1]));
    assert_eq!(ifq_poll(q).map(|m| m.to_vec()), Some(vec![1]));
    assert_eq!(q.len(), 4);
    let tags: Vec<u8> = q.iter().map(|m| m.data()[0]).collect();
    assert_eq!(tags, vec![1, 2, 3, 4]);
    for tag in 1..=4u8 {
        let m = ifq_dequeue(q).unwrap();
        assert_eq!(m.to_vec(), vec![tag; tag as usize]);
        assert_eq!(q.len(), 4 - tag as usize);
    }
    assert!(ifq_dequeue(q).is_none());
    assert!(ifq_poll(q).is_none());
    assert!(ifq_is_empty(q));
    drop(g);
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn ifq_purge_frees_everything_and_reports_count() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    for tag in 0..3u8 {
        handoff(&sc, pkt(&k, tag, 200)).unwrap();
    }
    assert_eq!(k.mbufs().live(), 3 * 3);
    k.record_events(true);
    purge(&sc);
    assert_eq!(qlen(&sc), 0);
    assert_eq!(k.mbufs().live(), 0);
    // Purging an empty queue reports nothing.
    purge(&sc);
    assert_eq!(
        k.take_events(),
        vec![Event::Purge {
            ifname: "dummy0".into(),
            count: 3
        }]
    );
}

#[test]
fn if_drop_counts_and_altq_enables() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    let mut g = ifnet_serialize_all(&sc.ifp);
    let q = &mut g.if_snd;
    assert_eq!(q.maxlen(), IFQ_MAXLEN);
    assert_eq!(q.drops(), 0);
    if_drop(q);
    if_drop(q);
    assert_eq!(q.drops(), 2);

    assert!(!ifq_is_enabled(q));
    ifq_set_ready(q);
    assert_eq!(q.altq_flags() & ALTQF_READY, ALTQF_READY);
    assert!(!ifq_is_enabled(q), "ALTQF_READY alone does not enable");
    let m = pkt(&k, 0, 4);
    let mut pa = AltqPktattr::default();
    ifq_classify(q, &m, AF_INET, &mut pa);
    assert_eq!(
        pa,
        AltqPktattr::default(),
        "classify is a no-op while disabled"
    );

    q.set_altq_enabled(true);
    assert!(ifq_is_enabled(q));
    ifq_classify(q, &m, AF_INET6, &mut pa);
    assert_eq!(
        pa,
        AltqPktattr {
            pattr_af: AF_INET6,
            classified: true
        }
    );
    q.set_altq_enabled(false);
    assert!(!ifq_is_enabled(q));
    assert_eq!(q.drops(), 2);
    drop(g);
    drop(m);
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn oactive_suppresses_if_start() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    sc.ifp.if_flags.insert(IfFlags::IFF_OACTIVE);
    handoff(&sc, pkt(&k, 1, 10)).unwrap();
    assert_eq!(qlen(&sc), 1, "still enqueued");
    assert_eq!(sc.ifp.if_obytes.get(), 10, "still counted");
    assert_eq!(sc.starts.load(Ordering::SeqCst), 0);
    sc.ifp.if_flags.remove(IfFlags::IFF_OACTIVE);
    handoff(&sc, pkt(&k, 2, 10)).unwrap();
    assert_eq!(sc.starts.load(Ordering::SeqCst), 1);
    purge(&sc);
    assert_eq!(k.mbufs().live(), 0);
}

// ---------------------------------------------------------------------------------------
// ifnet
// ---------------------------------------------------------------------------------------

#[test]
fn if_attach_assigns_index_and_link_address_first() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    k.record_events(true);
    let a = dummy(0);
    let b = dummy(7);
    assert_eq!(a.ifp.if_index(), 1);
    assert_eq!(b.ifp.if_index(), 2);
    assert_eq!(b.ifp.if_xname(), "dummy7");
    assert_eq!(b.ifp.if_dunit(), 7);
    let addrs = a.ifp.if_addrs();
    assert_eq!(addrs.len(), 1);
    assert_eq!(addrs[0].family(), Some(AF_LINK));
    assert_eq!(addr_str(&addrs[0]), "link");
    assert_eq!(ifnet_serialize_all(&a.ifp).if_snd.maxlen(), IFQ_MAXLEN);
    assert_eq!(k.ifunit("dummy7").map(|i| i.index()), Some(2));
    assert!(k.ifunit("dummy1").is_none());
    let names: Vec<String> = k.ifnets().iter().map(|i| i.name().to_string()).collect();
    assert_eq!(names, vec!["dummy0", "dummy7"]);
    assert_eq!(
        k.take_events(),
        vec![
            Event::IfAttach {
                ifname: "dummy0".into()
            },
            Event::IfAttach {
                ifname: "dummy7".into()
            },
        ]
    );
    // The link address stays first when more addresses come.
    ifioctl(
        &*a.ifp,
        SIOCSIFADDR,
        IfIoctlArg::Inet([10, 0, 0, 1]),
        &root(),
    )
    .unwrap();
    assert_eq!(a.ifp.if_addrs()[0].family(), Some(AF_LINK));
    assert_eq!(addr_str(&a.ifp.if_addrs()[1]), "inet:10.0.0.1");
}

#[test]
fn if_down_and_if_up_purge_and_flip_iff_up_in_order() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    sc.ifp.if_flags.insert(IfFlags::IFF_UP);
    handoff(&sc, pkt(&k, 1, 10)).unwrap();
    handoff(&sc, pkt(&k, 2, 10)).unwrap();
    k.record_events(true);

    if_down(&*sc.ifp);
    assert!(!sc.ifp.if_flags.get().contains(IfFlags::IFF_UP));
    assert_eq!(qlen(&sc), 0);
    assert_eq!(k.mbufs().live(), 0);
    assert_eq!(
        k.take_events(),
        vec![
            Event::IfDown {
                ifname: "dummy0".into()
            },
            Event::Purge {
                ifname: "dummy0".into(),
                count: 2
            },
        ]
    );

    // A packet queued while down is purged by if_up, before IFF_UP is set.
    handoff(&sc, pkt(&k, 3, 10)).unwrap();
    k.take_events();
    if_up(&*sc.ifp);
    assert!(sc.ifp.if_flags.get().contains(IfFlags::IFF_UP));
    assert_eq!(qlen(&sc), 0);
    assert_eq!(
        k.take_events(),
        vec![
            Event::Purge {
                ifname: "dummy0".into(),
                count: 1
            },
            Event::IfUp {
                ifname: "dummy0".into()
            },
        ]
    );
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn if_purgeaddrs_nolink_keeps_only_link() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    ifioctl(
        &*sc.ifp,
        SIOCSIFADDR,
        IfIoctlArg::Inet([10, 0, 0, 1]),
        &root(),
    )
    .unwrap();
    sc.ifp.with_addrs(&mut |l| {
        l.push(kmock::bsd::ifnet::IfAddr {
            addr: Some(SockAddr::inet6()),
            dstaddr: None,
        });
        l.push(kmock::bsd::ifnet::IfAddr {
            addr: None,
            dstaddr: None,
        });
    });
    assert_eq!(sc.ifp.if_addrs().len(), 4);
    k.record_events(true);
    if_purgeaddrs_nolink(&*sc.ifp);
    let addrs = sc.ifp.if_addrs();
    assert_eq!(addrs.len(), 1);
    assert_eq!(addrs[0].family(), Some(AF_LINK));
    let removed: Vec<String> = k
        .take_events()
        .into_iter()
        .map(|e| match e {
            Event::PurgeAddr { ifname, addr } => {
                assert_eq!(&*ifname, "dummy0");
                addr_str(&addr)
            }
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(removed, vec!["inet:10.0.0.1", "inet6", "null"]);
}

#[test]
fn ifioctl_sifaddr_adds_inet_address_and_calls_driver() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    assert_eq!(
        ifioctl(
            &*sc.ifp,
            SIOCSIFADDR,
            IfIoctlArg::Inet([10, 0, 0, 1]),
            &user()
        ),
        Err(EPERM)
    );
    assert_eq!(sc.ifp.if_addrs().len(), 1);
    ifioctl(
        &*sc.ifp,
        SIOCSIFADDR,
        IfIoctlArg::Inet([10, 0, 0, 1]),
        &root(),
    )
    .unwrap();
    let addrs = sc.ifp.if_addrs();
    assert_eq!(addrs.len(), 2);
    assert_eq!(addrs[1].family(), Some(AF_INET));
    assert_eq!(
        addrs[1].addr.as_ref().unwrap().inet_addr(),
        Some([10, 0, 0, 1])
    );
    assert_eq!(*sc.ioctls.lock(), vec![(SIOCSIFADDR, true)]);
}

#[test]
fn ifioctl_sifdstaddr_needs_inet_address_and_pointopoint() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    let dst = IfIoctlArg::Inet([10, 0, 0, 2]);
    sc.ifp.if_flags.insert(IfFlags::IFF_POINTOPOINT);
    assert_eq!(
        ifioctl(&*sc.ifp, SIOCSIFDSTADDR, dst, &root()),
        Err(EADDRNOTAVAIL)
    );
    sc.ifp.if_flags.remove(IfFlags::IFF_POINTOPOINT);
    ifioctl(
        &*sc.ifp,
        SIOCSIFADDR,
        IfIoctlArg::Inet([10, 0, 0, 1]),
        &root(),
    )
    .unwrap();
    assert_eq!(ifioctl(&*sc.ifp, SIOCSIFDSTADDR, dst, &root()), Err(EINVAL));
    sc.ifp.if_flags.insert(IfFlags::IFF_POINTOPOINT);
    assert_eq!(ifioctl(&*sc.ifp, SIOCSIFDSTADDR, dst, &user()), Err(EPERM));
    ifioctl(&*sc.ifp, SIOCSIFDSTADDR, dst, &root()).unwrap();
    assert_eq!(addr_str(&sc.ifp.if_addrs()[1]), "inet:10.0.0.1>10.0.0.2");
    assert_eq!(
        *sc.ioctls.lock(),
        vec![(SIOCSIFADDR, true), (SIOCSIFDSTADDR, true)]
    );
}

#[test]
fn ifioctl_sifmtu_checks_range_and_privilege() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    let mtu = |v| ifioctl(&*sc.ifp, SIOCSIFMTU, IfIoctlArg::Int(v), &root());
    assert_eq!(mtu(71), Err(EINVAL));
    assert_eq!(mtu(65536), Err(EINVAL));
    assert_eq!(mtu(-1), Err(EINVAL));
    assert!(
        sc.ioctls.lock().is_empty(),
        "driver not called on range errors"
    );
    assert_eq!(mtu(72), Ok(String::new()));
    assert_eq!(mtu(65535), Ok(String::new()));
    assert_eq!(
        ifioctl(&*sc.ifp, SIOCSIFMTU, IfIoctlArg::Int(1500), &user()),
        Err(EPERM)
    );
    assert_eq!(
        *sc.ioctls.lock(),
        vec![(SIOCSIFMTU, true), (SIOCSIFMTU, true)]
    );
}

#[test]
fn ifioctl_multicast_needs_iff_multicast() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    for cmd in [SIOCADDMULTI, SIOCDELMULTI] {
        assert_eq!(
            ifioctl(&*sc.ifp, cmd, IfIoctlArg::None, &root()),
            Err(EOPNOTSUPP)
        );
    }
    assert!(sc.ioctls.lock().is_empty());
    sc.ifp.if_flags.insert(IfFlags::IFF_MULTICAST);
    assert_eq!(
        ifioctl(&*sc.ifp, SIOCADDMULTI, IfIoctlArg::None, &user()),
        Err(EPERM)
    );
    ifioctl(&*sc.ifp, SIOCADDMULTI, IfIoctlArg::None, &root()).unwrap();
    ifioctl(&*sc.ifp, SIOCDELMULTI, IfIoctlArg::None, &root()).unwrap();
    // The driver sees the request with no data (NULL).
    assert_eq!(
        *sc.ioctls.lock(),
        vec![(SIOCADDMULTI, false), (SIOCDELMULTI, false)]
    );
}

#[test]
fn ifioctl_sifflags_up_transitions_call_if_up_and_if_down() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    sc.ifp
        .if_flags
        .set(IfFlags::IFF_POINTOPOINT | IfFlags::IFF_MULTICAST);
    k.record_events(true);
    let up = IfFlags::IFF_UP.bits() as i32;
    assert_eq!(
        ifioctl(&*sc.ifp, SIOCSIFFLAGS, IfIoctlArg::Int(up), &user()),
        Err(EPERM)
    );
    ifioctl(&*sc.ifp, SIOCSIFFLAGS, IfIoctlArg::Int(up), &root()).unwrap();
    // IFF_CANTCHANGE bits are kept although the request did not carry them.
    assert_eq!(
        sc.ifp.if_flags.get(),
        IfFlags::IFF_UP | IfFlags::IFF_POINTOPOINT | IfFlags::IFF_MULTICAST
    );
    ifioctl(&*sc.ifp, SIOCSIFFLAGS, IfIoctlArg::Int(0), &root()).unwrap();
    assert_eq!(
        sc.ifp.if_flags.get(),
        IfFlags::IFF_POINTOPOINT | IfFlags::IFF_MULTICAST
    );
    assert_eq!(
        k.take_events(),
        vec![
            Event::IfUp {
                ifname: "dummy0".into()
            },
            Event::IfDown {
                ifname: "dummy0".into()
            },
        ]
    );
}

// ---------------------------------------------------------------------------------------
// bpf
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Collector {
    got: std::sync::Mutex<Vec<(u32, Vec<u8>)>>,
}

impl BpfListener for Collector {
    fn tap(&self, dlt: u32, packet: &[u8]) {
        self.got.lock().unwrap().push((dlt, packet.to_vec()));
    }
}

/// What a driver does: tap only if `if_bpf` is non-NULL.
fn driver_tap(sc: &Dummy, m: &kmock::bsd::mbuf::Mbuf, hdr: Option<&[u8]>) -> bool {
    match sc.ifp.if_bpf() {
        Some(bp) => {
            match hdr {
                Some(h) => bpf_ptap(&bp, m, h),
                None => bpf_mtap(&bp, m),
            }
            true
        }
        None => false,
    }
}

#[test]
fn bpf_without_listener_delivers_nothing() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    k.record_events(true);
    let m = k
        .mbufs()
        .packet_from(&[1, 2, 3, 4, 5], 0, Some(&[2, 3]))
        .unwrap();
    let l = StdArc::new(Collector::default());
    // Not attached yet: no listener can be added, if_bpf stays NULL.
    assert!(!sc.ifp.bpf().attach_listener(l.clone()));
    assert!(sc.ifp.if_bpf().is_none());
    bpfattach(&*sc.ifp, DLT_NULL, 4);
    assert!(sc.ifp.bpf().is_attached());
    assert_eq!((sc.ifp.bpf().dlt(), sc.ifp.bpf().hdrlen()), (DLT_NULL, 4));
    // Attached but nobody listens: still NULL.
    assert!(sc.ifp.if_bpf().is_none());
    assert!(!driver_tap(&sc, &m, None));
    assert!(!driver_tap(&sc, &m, Some(&2u32.to_le_bytes())));
    assert!(l.got.lock().unwrap().is_empty());
    assert!(k.take_events().is_empty());
    drop(m);
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn bpf_ptap_and_mtap_reach_listeners() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let sc = dummy(0);
    bpfattach(&*sc.ifp, DLT_NULL, 4);
    let l = StdArc::new(Collector::default());
    let l2 = StdArc::new(Collector::default());
    assert!(sc.ifp.bpf().attach_listener(l.clone()));
    assert!(sc.ifp.bpf().attach_listener(l2.clone()));
    assert_eq!(sc.ifp.bpf().listener_count(), 2);
    k.record_events(true);

    let m = k
        .mbufs()
        .packet_from(&[1, 2, 3, 4, 5], 8, Some(&[2, 0, 3]))
        .unwrap();
    let af = (AF_INET as u32).to_le_bytes();
    assert!(driver_tap(&sc, &m, Some(&af)));
    assert!(driver_tap(&sc, &m, None));
    let want = vec![
        (DLT_NULL, vec![2, 0, 0, 0, 1, 2, 3, 4, 5]),
        (DLT_NULL, vec![1, 2, 3, 4, 5]),
    ];
    assert_eq!(*l.got.lock().unwrap(), want);
    assert_eq!(*l2.got.lock().unwrap(), want);
    assert_eq!(
        k.take_events(),
        vec![
            Event::Bpf {
                ifname: "dummy0".into(),
                dlt: DLT_NULL,
                data: want[0].1.clone()
            },
            Event::Bpf {
                ifname: "dummy0".into(),
                dlt: DLT_NULL,
                data: want[1].1.clone()
            },
        ]
    );
    // The tap does not consume or change the packet.
    assert_eq!(m.to_vec(), vec![1, 2, 3, 4, 5]);

    let l2d: StdArc<dyn BpfListener> = l2.clone();
    assert!(sc.ifp.bpf().detach_listener(&l2d));
    assert!(sc.ifp.bpf().detach_last());
    assert!(sc.ifp.if_bpf().is_none());
    assert!(!driver_tap(&sc, &m, None));
    assert_eq!(l.got.lock().unwrap().len(), 2);
    drop(m);
    assert_eq!(k.mbufs().live(), 0);
}

// ---------------------------------------------------------------------------------------
// netisr
// ---------------------------------------------------------------------------------------

#[test]
fn netisr_queue_is_fifo_per_protocol() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    k.record_events(true);
    netisr_queue(NETISR_IP, pkt(&k, 1, 3)).unwrap();
    netisr_queue(NETISR_IPV6, pkt(&k, 9, 2)).unwrap();
    netisr_queue(NETISR_IP, pkt(&k, 2, 4)).unwrap();
    let ni = k.netisr();
    assert_eq!((ni.len(NETISR_IP), ni.len(NETISR_IPV6)), (2, 1));
    assert!(!ni.is_empty());
    assert_eq!(ni.dequeue(NETISR_IP).unwrap().to_vec(), vec![1; 3]);
    assert_eq!(ni.dequeue(NETISR_IP).unwrap().to_vec(), vec![2; 4]);
    assert!(ni.dequeue(NETISR_IP).is_none());
    assert_eq!(ni.dequeue(NETISR_IPV6).unwrap().to_vec(), vec![9; 2]);
    assert!(ni.is_empty());
    let isrs: Vec<(u32, usize)> = k
        .take_events()
        .into_iter()
        .map(|e| match e {
            Event::Netisr { isr, len, .. } => (isr, len),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(isrs, vec![(NETISR_IP, 3), (NETISR_IPV6, 2), (NETISR_IP, 4)]);
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn netisr_handler_mode_receives_packets_at_once() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    let seen = StdArc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    k.netisr().set_handler(NETISR_IP, move |m: MbufBox| {
        s2.lock().unwrap().push(m.to_vec())
    });
    netisr_queue(NETISR_IP, pkt(&k, 5, 2)).unwrap();
    netisr_queue(NETISR_IP, pkt(&k, 6, 1)).unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![vec![5, 5], vec![6]]);
    assert_eq!(k.netisr().len(NETISR_IP), 0);
    // The handler owned (and dropped) the packets.
    assert_eq!(k.mbufs().live(), 0);
    // Other protocols still queue; clearing the handler makes IP queue again.
    netisr_queue(NETISR_IPV6, pkt(&k, 7, 1)).unwrap();
    assert_eq!(k.netisr().len(NETISR_IPV6), 1);
    k.netisr().clear_handler(NETISR_IP);
    netisr_queue(NETISR_IP, pkt(&k, 8, 1)).unwrap();
    assert_eq!(k.netisr().len(NETISR_IP), 1);
    assert_eq!(seen.lock().unwrap().len(), 2);
    let all: Vec<(u32, Vec<u8>)> = k
        .netisr()
        .drain_all()
        .into_iter()
        .map(|(n, m)| (n, m.to_vec()))
        .collect();
    assert_eq!(all, vec![(NETISR_IP, vec![8]), (NETISR_IPV6, vec![7])]);
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn netisr_out_of_range_is_einval_and_frees() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    k.record_events(true);
    assert_eq!(netisr_queue(NETISR_MAX, pkt(&k, 1, 10)), Err(EINVAL));
    assert_eq!(netisr_queue(u32::MAX, pkt(&k, 1, 10)), Err(EINVAL));
    assert_eq!(k.mbufs().live(), 0);
    assert!(k.netisr().is_empty());
    assert!(k.take_events().is_empty());
}

#[test]
fn netisr_full_queue_is_enobufs_and_frees() {
    let k = Kernel::new();
    let _ctx = k.enter(1);
    for _ in 0..NETISR_QLEN {
        netisr_queue(NETISR_IP, pkt(&k, 0, 1)).unwrap();
    }
    assert_eq!(k.mbufs().live(), NETISR_QLEN);
    assert_eq!(netisr_queue(NETISR_IP, pkt(&k, 1, 1)), Err(ENOBUFS));
    assert_eq!(k.mbufs().live(), NETISR_QLEN);
    assert_eq!(k.netisr().len(NETISR_IP), NETISR_QLEN);
    // Another protocol's queue is independent.
    netisr_queue(NETISR_IPV6, pkt(&k, 2, 1)).unwrap();
    drop(k.netisr().drain_all());
    assert_eq!(k.mbufs().live(), 0);
}

#[test]
fn netisr_outside_a_kernel_is_enxio_and_frees() {
    let k = Kernel::new();
    let m = pkt(&k, 1, 10);
    assert_eq!(netisr_queue(NETISR_IP, m), Err(ENXIO));
    assert_eq!(k.mbufs().live(), 0);
}

// ---------------------------------------------------------------------------------------
// devfs
// ---------------------------------------------------------------------------------------

/// Shared state of the dummy character device.
#[derive(Default)]
struct DevState {
    log: std::sync::Mutex<Vec<String>>,
    klist: KList,
    /// Events recorded up to the moment `d_close` ran.
    events_at_close: std::sync::Mutex<Option<Vec<Event>>>,
}

impl DevState {
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    fn push(&self, s: impl Into<String>) {
        self.log.lock().unwrap().push(s.into());
    }
}

struct DevDummy {
    st: Arc<DevState>,
    bitmap: Arc<DevfsCloneBitmap>,
}

/// A kmock `Arc` in a test (allocation cannot fail here: no failure is armed).
fn karc<T>(x: T) -> Arc<T> {
    Arc::new(x, GFP_KERNEL).unwrap()
}

fn dev_detach(kn: &Knote) {
    if let Some(st) = kn.hook::<DevState>() {
        st.push(format!("detach {}", kn.id()));
        knote_remove(&st.klist, kn);
    }
}

fn dev_event(_kn: &Knote, _hint: i64) -> bool {
    true
}

static DEV_FOPS: FilterOps = FilterOps {
    f_flags: 1,
    f_attach: None,
    f_detach: dev_detach,
    f_event: dev_event,
};

impl DevOps for DevDummy {
    fn d_name(&self) -> &'static str {
        "dummy"
    }
    fn d_open(&self, ap: &mut DevOpenArgs<'_>) -> Result {
        self.st
            .push(format!("open {} uid {}", ap.a_dev.name(), ap.a_cred.cr_uid));
        Ok(())
    }
    fn d_close(&self, ap: &mut DevCloseArgs<'_>) -> Result {
        self.st.push(format!("close {}", ap.a_dev.name()));
        let ev = kmock::host::kernel::current_kernel().map(|k| k.take_events());
        *self.st.events_at_close.lock().unwrap() = ev;
        Ok(())
    }
    fn d_ioctl(&self, ap: &mut DevIoctlArgs<'_>) -> Result {
        self.st.push(format!("ioctl {:#x}", ap.a_cmd));
        Ok(())
    }
    fn d_kqfilter(&self, ap: &mut DevKqfilterArgs<'_>) -> Result {
        ap.a_kn.set_fop(&DEV_FOPS);
        ap.a_kn.set_hook(self.st.clone());
        knote_insert(&self.st.klist, ap.a_kn);
        Ok(())
    }
}

/// A `DevOps` that implements nothing but its name.
struct Bare;

impl DevOps for Bare {
    fn d_name(&self) -> &'static str {
        "bare"
    }
}

fn dev_kernel() -> (Kernel, Arc<DevState>, Arc<DevDummy>) {
    let k = Kernel::new();
    k.proc_set(1, 1, 1, 0).unwrap(); // root
    k.proc_set(10, 10, 1, 1000).unwrap(); // an ordinary user
    k.proc_set(66, 66, 1, UID_UUCP).unwrap(); // the node's owner
    let st = karc(DevState::default());
    let ops = karc(DevDummy {
        st: st.clone(),
        bitmap: karc(DevfsCloneBitmap::new()),
    });
    (k, st, ops)
}

#[test]
fn devfs_make_dev_lookup_and_open_permissions() {
    let (k, st, ops) = dev_kernel();
    {
        let _ctx = k.enter(1);
        let d = make_dev(
            &ops,
            3,
            UID_UUCP,
            GID_DIALER,
            0o600,
            format_args!("dummy{}", 3),
        )
        .unwrap();
        assert_eq!(d.name(), "dummy3");
        assert_eq!(d.minor(), 3);
        assert_eq!(d.perms(), (UID_UUCP, GID_DIALER, 0o600));
        assert_eq!(
            make_dev(&ops, 3, 0, 0, 0o600, format_args!("dummy3")).unwrap_err(),
            EBUSY
        );
        d.set_si_drv1(karc(42u32));
        assert_eq!(d.si_drv1::<u32>().as_deref(), Some(&42));
        assert!(d.si_drv1::<String>().is_none());
    }
    assert!(k.devfs().lookup("dummy3").is_some());
    assert!(k.devfs().lookup("dummy4").is_none());
    assert_eq!(k.devfs().names(), vec!["dummy3".to_string()]);

    assert_eq!(k.dev_open("nothere", 1).unwrap_err(), ENOENT);
    assert_eq!(k.dev_open("dummy3", 999).unwrap_err(), ESRCH);
    assert_eq!(k.dev_open("dummy3", 10).unwrap_err(), EACCES);
    assert!(st.log().is_empty(), "d_open not reached on EACCES");
    let f = k.dev_open("dummy3", 66).unwrap();
    assert!(f.dev().is_open());
    drop(f);
    let f = k.dev_open("dummy3", 1).unwrap();
    assert_eq!(f.pid(), 1);
    f.close().unwrap();
    assert!(!k.devfs().lookup("dummy3").unwrap().is_open());
    assert_eq!(
        st.log(),
        vec![
            "open dummy3 uid 66",
            "close dummy3",
            "open dummy3 uid 0",
            "close dummy3"
        ]
    );
}

#[test]
fn devfs_clone_bitmap_get_set_put() {
    let b = DevfsCloneBitmap::new();
    assert_eq!(devfs_clone_bitmap_get(&b, 0), Some(0));
    assert!(b.chk(0));
    assert_eq!(devfs_clone_bitmap_get(&b, 0), Some(1));
    devfs_clone_bitmap_set(&b, 2);
    devfs_clone_bitmap_set(&b, 4);
    assert!(b.chk(2) && b.chk(4) && !b.chk(3));
    assert_eq!(devfs_clone_bitmap_get(&b, 0), Some(3));
    assert_eq!(devfs_clone_bitmap_get(&b, 0), Some(5));
    devfs_clone_bitmap_put(&b, 1);
    assert!(!b.chk(1));
    assert_eq!(devfs_clone_bitmap_get(&b, 0), Some(1));
    // Putting a unit never taken (or out of range) is harmless.
    devfs_clone_bitmap_put(&b, 1000);
    assert!(!b.chk(1000));
    // A limit bounds the search.
    assert_eq!(devfs_clone_bitmap_get(&b, 6), None);
    assert_eq!(devfs_clone_bitmap_get(&b, 7), Some(6));
}

/// The dummy's autoclone handler: the lowest free unit of its bitmap.
fn dummy_clone(ops: &Arc<DevDummy>, ap: &mut DevCloneArgs<'_>) -> Result {
    let unit = devfs_clone_bitmap_get(&ops.bitmap, 0).ok_or(ENXIO)?;
    ap.a_dev = Some(make_only_dev(
        ops,
        unit,
        UID_UUCP,
        GID_DIALER,
        0o600,
        format_args!("dummy{unit}"),
    )?);
    Ok(())
}

#[test]
fn devfs_autoclone_takes_lowest_free_unit() {
    let (k, st, ops) = dev_kernel();
    let bitmap = ops.bitmap.clone();
    {
        let _ctx = k.enter(1);
        for unit in 0..4 {
            make_dev(
                &ops,
                unit,
                UID_UUCP,
                GID_DIALER,
                0o600,
                format_args!("dummy{unit}"),
            )
            .unwrap();
            devfs_clone_bitmap_set(&bitmap, unit);
        }
        let clone: CloneFn<DevDummy> = dummy_clone;
        make_autoclone_dev(
            &ops,
            &bitmap,
            clone,
            UID_UUCP,
            GID_DIALER,
            0o600,
            format_args!("dummy"),
        )
        .unwrap();
    }
    k.record_events(true);
    let f4 = k.dev_open("dummy", 1).unwrap();
    assert_eq!((f4.dev().name(), f4.dev().minor()), ("dummy4", 4));
    // A refused open still consumes the clone unit (the clone precedes the access check).
    assert_eq!(k.dev_open("dummy", 10).unwrap_err(), EACCES);
    assert!(bitmap.chk(5));
    let f6 = k.dev_open("dummy", 66).unwrap();
    assert_eq!(f6.dev().name(), "dummy6");
    let clones: Vec<String> = k
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Clone { node, dev } => {
                assert_eq!(node, "dummy");
                Some(dev)
            }
            _ => None,
        })
        .collect();
    assert_eq!(clones, vec!["dummy4", "dummy5", "dummy6"]);
    // The cloned nodes stay in devfs and can be opened by name.
    drop(f4);
    let again = k.dev_open("dummy4", 1).unwrap();
    assert_eq!(again.dev().minor(), 4);
    drop((again, f6));
    assert_eq!(st.log().iter().filter(|s| s.starts_with("open")).count(), 3);
}

#[test]
fn file_ioctl_fionbio_is_generic_others_reach_driver() {
    let (k, st, ops) = dev_kernel();
    {
        let _ctx = k.enter(1);
        make_dev(&ops, 0, 0, 0, 0o600, format_args!("dummy0")).unwrap();
    }
    let f = k.dev_open("dummy0", 1).unwrap();
    assert!(!f.nonblock());
    f.ioctl(FIONBIO, &mut 1i32.to_ne_bytes()).unwrap();
    assert!(f.nonblock());
    f.ioctl(FIONBIO, &mut 0i32.to_ne_bytes()).unwrap();
    assert!(!f.nonblock());
    assert_eq!(st.log(), vec!["open dummy0 uid 0"], "d_ioctl not called");
    f.ioctl(FIOASYNC, &mut 1i32.to_ne_bytes()).unwrap();
    assert_eq!(st.log()[1], format!("ioctl {FIOASYNC:#x}"));
    // An argument buffer shorter than IOCPARM_LEN fails as a copyin would.
    assert_eq!(f.ioctl(FIONBIO, &mut [0u8; 2]), Err(EFAULT));
    assert_eq!(f.ioctl_as(999, FIOASYNC, &mut [0u8; 4]), Err(ESRCH));
    assert_eq!(st.log().len(), 2);
    // The driver path takes any number, FIONBIO's included, and leaves the flag alone.
    f.driver_ioctl_as(1, FIONBIO, &mut 1i32.to_ne_bytes())
        .unwrap();
    assert_eq!(st.log()[2], format!("ioctl {FIONBIO:#x}"));
    assert!(!f.nonblock());
}

#[test]
fn file_close_detaches_knotes_before_d_close() {
    let (k, st, ops) = dev_kernel();
    {
        let _ctx = k.enter(1);
        make_dev(&ops, 0, 0, 0, 0o600, format_args!("dummy0")).unwrap();
    }
    let f = k.dev_open("dummy0", 1).unwrap();
    let a = Knote::new(7, EVFILT_READ);
    let b = Knote::new(8, EVFILT_READ);
    assert_eq!(f.kqfilter(&a), Ok(true));
    assert_eq!(f.kqfilter(&b), Ok(true));
    assert_eq!(st.klist.snapshot().len(), 2);
    assert_eq!(f.knotes().len(), 2);
    k.record_events(true);
    f.close().unwrap();
    // d_close ran after both detaches, which it saw as events already recorded.
    assert_eq!(
        st.log(),
        vec!["open dummy0 uid 0", "detach 7", "detach 8", "close dummy0"]
    );
    assert_eq!(
        st.events_at_close.lock().unwrap().clone(),
        Some(vec![
            Event::KnoteDetached { id: 7 },
            Event::KnoteDetached { id: 8 }
        ])
    );
    assert!(st.klist.snapshot().is_empty());
}

#[test]
fn devops_defaults_answer_enodev() {
    let k = Kernel::new();
    k.proc_set(1, 1, 1, 0).unwrap();
    let ops = karc(Bare);
    let dev = {
        let _ctx = k.enter(1);
        make_dev(&ops, 0, 0, 0, 0o600, format_args!("bare")).unwrap()
    };
    assert_eq!(ops.d_name(), "bare");
    assert_eq!(k.dev_open("bare", 1).unwrap_err(), ENODEV);
    assert!(!dev.is_open());
    let cred = Ucred::default();
    assert_eq!(
        ops.d_open(&mut DevOpenArgs {
            a_dev: &dev,
            a_oflags: 0,
            a_devtype: 0,
            a_cred: &cred
        }),
        Err(ENODEV)
    );
    assert_eq!(
        ops.d_close(&mut DevCloseArgs {
            a_dev: &dev,
            a_fflag: 0,
            a_devtype: 0
        }),
        Err(ENODEV)
    );
    let mut buf = [0u8; 4];
    let mut uio = Uio::new_read(&mut buf);
    assert_eq!(
        ops.d_read(&mut DevReadArgs {
            a_dev: &dev,
            a_uio: &mut uio,
            a_ioflag: 0
        }),
        Err(ENODEV)
    );
    let data = [1u8; 4];
    let mut uio = Uio::new_write(&data);
    assert_eq!(
        ops.d_write(&mut DevReadArgs {
            a_dev: &dev,
            a_uio: &mut uio,
            a_ioflag: 0
        }),
        Err(ENODEV)
    );
    let mut arg = [0u8; 4];
    assert_eq!(
        ops.d_ioctl(&mut DevIoctlArgs {
            a_dev: &dev,
            a_cmd: FIOASYNC,
            a_data: &mut arg,
            a_fflag: 0,
            a_cred: &cred
        }),
        Err(ENODEV)
    );
    let kn = Knote::new(1, EVFILT_READ);
    assert_eq!(
        ops.d_kqfilter(&mut DevKqfilterArgs {
            a_dev: &dev,
            a_kn: &kn,
            a_result: 0
        }),
        Err(ENODEV)
    );
}

// ---------------------------------------------------------------------------------------
// uio
// ---------------------------------------------------------------------------------------

#[test]
fn uiomove_read_direction_copies_to_user() {
    let mut user = [0u8; 6];
    let mut uio = Uio::new_read(&mut user);
    assert_eq!(uio.rw(), UioRw::Read);
    assert_eq!(uio.resid(), 6);
    uiomove(&mut [1, 2, 3, 4], &mut uio).unwrap();
    assert_eq!((uio.resid(), uio.done()), (2, 4));
    // Only min(n, resid) bytes move.
    uiomove(&mut [5, 6, 7, 8], &mut uio).unwrap();
    assert_eq!((uio.resid(), uio.done()), (0, 6));
    uiomove(&mut [9], &mut uio).unwrap();
    assert_eq!(uio.done(), 6);
    assert_eq!(user, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn uiomove_write_direction_copies_from_user() {
    let data = [10u8, 20, 30, 40, 50];
    let mut uio = Uio::new_write(&data);
    assert_eq!(uio.rw(), UioRw::Write);
    let mut a = [0u8; 3];
    uiomove(&mut a, &mut uio).unwrap();
    assert_eq!(a, [10, 20, 30]);
    let mut b = [0u8; 4];
    uiomove(&mut b, &mut uio).unwrap();
    assert_eq!(b, [40, 50, 0, 0], "only the residue is copied");
    assert_eq!((uio.resid(), uio.done()), (0, 5));
    let mut empty = [0u8; 0];
    uiomove(&mut empty, &mut uio).unwrap();
}

#[test]
fn uiomove_efault_moves_the_bytes_before_the_fault() {
    let mut user = [0u8; 8];
    {
        let mut uio = Uio::new_read(&mut user).with_fault_at(3);
        assert_eq!(uiomove(&mut [1, 2], &mut uio), Ok(()));
        assert_eq!(uiomove(&mut [3, 4, 5], &mut uio), Err(EFAULT));
        assert_eq!(uio.done(), 3);
        assert_eq!(uiomove(&mut [6], &mut uio), Err(EFAULT));
        assert_eq!(uio.done(), 3);
    }
    assert_eq!(user, [1, 2, 3, 0, 0, 0, 0, 0]);

    let data = [7u8; 8];
    let mut uio = Uio::new_write(&data).with_fault_at(0);
    let mut k = [0u8; 4];
    assert_eq!(uiomove(&mut k, &mut uio), Err(EFAULT));
    assert_eq!((k, uio.done()), ([0; 4], 0));
}

// ---------------------------------------------------------------------------------------
// sleep / wakeup
// ---------------------------------------------------------------------------------------

/// Runs `f` on a worker thread; fails the test if it has not finished after 20 s (a lost
/// wakeup would hang it forever).
fn with_watchdog(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: propagate its panic.
            if let Err(p) = worker.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("watchdog: sleep/wakeup handshake hung for 20 s (lost wakeup?)")
        }
    }
}

#[derive(Default)]
struct Handshake {
    /// (produced, consumed): the last round each side completed.
    state: Mutex<(u32, u32)>,
    to_consumer: u8,
    to_producer: u8,
}

#[test]
fn tsleep_wakeup_handshake_loses_no_wakeup() {
    const ROUNDS: u32 = 200;
    with_watchdog(|| {
        let k = Kernel::new();
        k.proc_set(1, 1, 1, 0).unwrap();
        k.proc_set(2, 2, 1, 0).unwrap();
        let h = StdArc::new(Handshake::default());

        let (kc, hc) = (k.clone(), h.clone());
        let consumer = std::thread::spawn(move || {
            let _ctx = kc.enter(2);
            for round in 1..=ROUNDS {
                let mut g = hc.state.lock();
                while g.0 < round {
                    tsleep(&hc.to_consumer, PCATCH, "t", 0, g).unwrap();
                    g = hc.state.lock();
                }
                assert_eq!(g.0, round, "producer ran ahead");
                g.1 = round;
                wakeup(&hc.to_producer);
            }
        });

        let _ctx = k.enter(1);
        for round in 1..=ROUNDS {
            let mut g = h.state.lock();
            g.0 = round;
            wakeup(&h.to_consumer);
            while g.1 < round {
                tsleep(&h.to_producer, PCATCH, "t", 0, g).unwrap();
                g = h.state.lock();
            }
        }
        consumer.join().unwrap();
        assert_eq!(*h.state.lock(), (ROUNDS, ROUNDS));
    });
}

#[test]
fn wakeup_wakes_every_sleeper_on_the_channel() {
    with_watchdog(|| {
        let k = Kernel::new();
        let sleeping = StdArc::new(Mutex::new(0usize));
        let other = 0u8;
        let mut threads = Vec::new();
        for pid in [11, 12] {
            k.proc_set(pid, pid, 1, 0).unwrap();
            let (k2, s2) = (k.clone(), sleeping.clone());
            threads.push(std::thread::spawn(move || {
                let _ctx = k2.enter(pid);
                let mut g = s2.lock();
                *g += 1;
                // The guard is the interlock: released only once this thread is queued.
                tsleep(&*s2, PCATCH, "both", 0, g)
            }));
        }
        let _ctx = k.enter(1);
        loop {
            let g = sleeping.lock();
            if *g == 2 {
                // Both are on the sleep queue: a wakeup on another channel wakes nobody.
                assert_eq!(wakeup(&other), 0);
                assert_eq!(wakeup(&*sleeping), 2);
                break;
            }
            drop(g);
            std::thread::yield_now();
        }
        for t in threads {
            assert_eq!(t.join().unwrap(), Ok(()));
        }
        assert_eq!(wakeup(&*sleeping), 0);
    });
}

// ---------------------------------------------------------------------------------------
// sigio
// ---------------------------------------------------------------------------------------

fn sigio_kernel() -> Kernel {
    let k = Kernel::new();
    k.proc_set(100, 100, 1, 1000).unwrap(); // the caller, session 1
    k.proc_set(201, 500, 1, 1000).unwrap(); // group 500, session 1
    k.proc_set(200, 500, 1, 1000).unwrap();
    k.proc_set(202, 500, 1, 2000).unwrap(); // other uid
    k.proc_set(300, 300, 2, 1000).unwrap(); // session 2
    k.proc_set(301, 600, 2, 1000).unwrap(); // group 600, session 2
    k
}

#[test]
fn fsetown_fgetown_funsetown() {
    let k = sigio_kernel();
    let _ctx = k.enter(100);
    k.record_events(true);
    let s = SigioSlot::new();
    assert_eq!(fgetown(&s), 0);
    fsetown(200, &s).unwrap();
    assert_eq!(fgetown(&s), 200);
    assert_eq!(s.get().unwrap().sio_ucred.cr_uid, 1000);
    // Replacing the owner removes the old one first.
    fsetown(-500, &s).unwrap();
    assert_eq!(fgetown(&s), -500);
    // pgid 0 is funsetown.
    fsetown(0, &s).unwrap();
    assert_eq!(fgetown(&s), 0);
    assert!(s.get().is_none());
    fsetown(100, &s).unwrap();
    funsetown(&s);
    assert_eq!(fgetown(&s), 0);
    funsetown(&s); // no owner: nothing to report
    assert_eq!(
        k.take_events(),
        vec![
            Event::Funsetown { pgid: 200 },
            Event::Funsetown { pgid: -500 },
            Event::Funsetown { pgid: 100 },
        ]
    );
}

#[test]
fn fsetown_checks_existence_and_session() {
    let k = sigio_kernel();
    let _ctx = k.enter(100);
    let s = SigioSlot::new();
    assert_eq!(fsetown(300, &s), Err(EPERM), "process in another session");
    assert_eq!(fsetown(-600, &s), Err(EPERM), "group in another session");
    assert_eq!(fsetown(4242, &s), Err(ESRCH), "unknown pid");
    assert_eq!(fsetown(-4242, &s), Err(ESRCH), "unknown process group");
    assert_eq!(fsetown(i32::MIN, &s), Err(ESRCH));
    assert_eq!(fgetown(&s), 0, "failures leave no owner");
    fsetown(-500, &s).unwrap();
    assert_eq!(fsetown(300, &s), Err(EPERM));
    assert_eq!(fgetown(&s), -500, "a failure keeps the old owner");
}

#[test]
fn pgsigio_signals_process_or_group_members_it_may_signal() {
    let k = sigio_kernel();
    let _ctx = k.enter(100);
    k.record_events(true);
    let s = SigioSlot::new();
    pgsigio(&s, SIGIO, 0); // no owner: nothing
    assert!(k.take_events().is_empty());

    fsetown(-500, &s).unwrap();
    pgsigio(&s, SIGIO, 0);
    // Members in ascending pid order; 202 has another uid and the setter is not root.
    assert_eq!(
        k.take_events(),
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
            },
        ]
    );
    assert_eq!(k.proc_signals(200), vec![SIGIO]);
    assert_eq!(k.proc_signals(201), vec![SIGIO]);
    assert!(k.proc_signals(202).is_empty());

    fsetown(201, &s).unwrap();
    k.take_events();
    pgsigio(&s, SIGIO, 0);
    assert_eq!(
        k.take_events(),
        vec![Event::Sigio {
            pid: 201,
            pgrp: None,
            sig: SIGIO
        }]
    );
    assert_eq!(k.proc_signals(201), vec![SIGIO, SIGIO]);

    // A root setter may signal anyone in the group.
    k.proc_set(1, 1, 1, 0).unwrap();
    {
        let _root = k.enter(1);
        fsetown(-500, &s).unwrap();
    }
    pgsigio(&s, SIGIO, 0);
    assert_eq!(k.proc_signals(202), vec![SIGIO]);
    assert_eq!(k.proc_signals(200), vec![SIGIO, SIGIO]);
}

// ---------------------------------------------------------------------------------------
// errno names
// ---------------------------------------------------------------------------------------

#[test]
fn every_errno_constant_is_named_after_itself() {
    macro_rules! check {
        ($($name:ident = $val:expr),* $(,)?) => {
            $(
                assert_eq!($name.name(), Some(stringify!($name)));
                assert_eq!($name.to_errno(), $val, stringify!($name));
                assert_eq!(format!("{:?}", $name), stringify!($name));
            )*
        };
    }
    check!(
        EPERM = 1,
        ENOENT = 2,
        ESRCH = 3,
        EINTR = 4,
        EIO = 5,
        ENXIO = 6,
        ENOMEM = 12,
        EACCES = 13,
        EFAULT = 14,
        EBUSY = 16,
        ENODEV = 19,
        EINVAL = 22,
        ENOTTY = 25,
        EWOULDBLOCK = 35,
        EOPNOTSUPP = 45,
        EAFNOSUPPORT = 47,
        EADDRNOTAVAIL = 49,
        ENOBUFS = 55,
        EHOSTDOWN = 64,
        ERESTART = -1,
    );
    // EAGAIN is the one alias: the same number as EWOULDBLOCK, so it carries that name.
    assert_eq!(EAGAIN, EWOULDBLOCK);
    assert_eq!(EAGAIN.name(), Some("EWOULDBLOCK"));
}

/// An address in the notation of the scenario transcripts (what tunsim prints).
fn addr_str(a: &kmock::bsd::ifnet::IfAddr) -> String {
    let inet = |x: [u8; 4]| format!("{}.{}.{}.{}", x[0], x[1], x[2], x[3]);
    match &a.addr {
        None => "null".to_string(),
        Some(s) => match s.sa_family() {
            AF_LINK => "link".to_string(),
            AF_INET6 => "inet6".to_string(),
            AF_INET => {
                let mut t = format!("inet:{}", inet(s.inet_addr().unwrap_or_default()));
                if let Some(d) = a.dstaddr.as_ref().and_then(|d| d.inet_addr()) {
                    t = format!("{t}>{}", inet(d));
                }
                t
            }
            n => format!("af:{n}"),
        },
    }
}
