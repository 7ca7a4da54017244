// SPDX-License-Identifier: BSD-2-Clause
//! The character-device side: `tunopen`, `tunclone`, `tunclose`, `tunioctl`, `tunkqfilter`
//! (if_tun.c lines 123–229, 424–523, 708–769). Test names follow the C's entry points and
//! error branches.

mod common;

use common::*;
use if_tun::abi::*;
use if_tun::{TunFlags, TunSoftc};
use kernel::bsd::bpf::DLT_NULL;
use kernel::bsd::devfs::DevKqfilterArgs;
use kernel::bsd::errno::*;
use kernel::bsd::ifnet::{ifioctl, IfFlags, IfIoctlArg, IFT_PPP};
use kernel::bsd::kqueue::{Knote, EVFILT_READ, EVFILT_TIMER, EVFILT_VNODE, EVFILT_WRITE};
use kernel::bsd::sigio::SIGIO;
use kernel::bsd::socket::AF_LINK;
use kernel::error::code::*;
use kernel::event::Event;

// ---------------------------------------------------------------- tunopen (169–192)

#[test]
fn tunopen_creates_softc_on_first_open() {
    let env = boot();
    let dev = env.k.devfs().lookup("tun0").unwrap();
    assert!(
        dev.si_drv1::<TunSoftc>().is_none(),
        "tuncreate runs at open"
    );
    assert!(env.k.ifunit("tun0").is_none());
    let fd = env.open("tun0");
    let st = env.status("tun0");
    assert_eq!(st.flags, TunFlags::TUN_INITED | TunFlags::TUN_OPEN);
    assert_eq!(st.pid, PID);
    let ifp = env.ifp("tun0");
    assert_eq!(ifp.mtu(), 1500);
    assert_eq!(ifp.if_type(), IFT_PPP);
    assert_eq!(
        ifp.flags().get(),
        IfFlags::IFF_POINTOPOINT | IfFlags::IFF_MULTICAST
    );
    let mut maxlen = 0;
    ifp.with_snd(&mut |q| maxlen = q.maxlen());
    assert_eq!(maxlen, 250);
    assert_eq!(ifp.bpf().dlt(), DLT_NULL);
    assert_eq!(ifp.bpf().hdrlen(), 4);
    let addrs = ifp.addrs();
    assert_eq!(addrs.len(), 1);
    assert_eq!(addrs[0].family(), Some(AF_LINK));
    assert_eq!(dev.perms(), (66, 68, 0o600));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunopen_eperm_for_non_root() {
    let env = boot();
    // uid 66 (uucp) owns the node: devfs lets it through, the driver's priv check refuses.
    env.k.proc_set(300, 300, 1, 66).unwrap();
    assert_eq!(env.k.dev_open("tun0", 300).unwrap_err(), EPERM);
    // The check precedes tuncreate: nothing was created.
    assert!(env
        .k
        .devfs()
        .lookup("tun0")
        .unwrap()
        .si_drv1::<TunSoftc>()
        .is_none());
    assert!(env.k.ifunit("tun0").is_none());
    env.finish();
}

#[test]
fn tunopen_eacces_from_devfs_for_other_users() {
    let env = boot();
    env.k.proc_set(400, 400, 1, 1000).unwrap();
    assert_eq!(env.k.dev_open("tun0", 400).unwrap_err(), EACCES);
    env.finish();
}

#[test]
fn tunopen_ebusy_on_second_open() {
    let env = boot();
    let fd = env.open("tun0");
    assert_eq!(env.k.dev_open("tun0", PID).unwrap_err(), EBUSY);
    env.k.proc_set(777, 777, 1, 0).unwrap();
    assert_eq!(env.k.dev_open("tun0", 777).unwrap_err(), EBUSY);
    // Still open by the first descriptor, whose pid is kept.
    assert!(env.flags("tun0").contains(TunFlags::TUN_OPEN));
    assert_eq!(env.status("tun0").pid, PID);
    fd.close().unwrap();
    // And openable again after the close (softc reused).
    let sc = env.softc("tun0");
    let fd = env.open("tun0");
    assert!(kernel::sync::Arc::ptr_eq(&sc, &env.softc("tun0")));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunopen_eperm_before_ebusy() {
    // §6.17: a non-root open of a busy unit reports EPERM, not EBUSY.
    let env = boot();
    let fd = env.open("tun0");
    env.k.proc_set(300, 300, 1, 66).unwrap();
    assert_eq!(env.k.dev_open("tun0", 300).unwrap_err(), EPERM);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunopen_records_the_opener_pid() {
    let env = boot();
    env.k.proc_set(777, 777, 1, 0).unwrap();
    let fd = env.k.dev_open("tun1", 777).unwrap();
    assert_eq!(env.status("tun1").pid, 777);
    fd.close().unwrap();
    assert_eq!(env.status("tun1").pid, 0);
    env.finish();
}

// --------------------------------------------------------- tunattach / tunclone (110–133)

#[test]
fn tunattach_creates_clone_node_and_four_units() {
    let env = boot();
    let names = env.k.devfs().names();
    for n in ["tun", "tun0", "tun1", "tun2", "tun3"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    assert!(!names.iter().any(|x| x == "tun4"));
    assert_eq!(env.k.sysctl("debug.if_tun_debug").unwrap().get(), 0);
    env.finish();
}

#[test]
fn tunclone_gives_tun4_then_tun5() {
    let env = boot();
    env.k.record_events(true);
    let a = env.open("tun");
    let b = env.open("tun");
    assert_eq!(a.dev().name(), "tun4");
    assert_eq!(b.dev().name(), "tun5");
    let clones: Vec<_> = env
        .k
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Clone { node, dev } => Some((node, dev)),
            _ => None,
        })
        .collect();
    assert_eq!(
        clones,
        vec![
            ("tun".to_string(), "tun4".to_string()),
            ("tun".to_string(), "tun5".to_string())
        ]
    );
    assert!(env.k.ifunit("tun4").is_some() && env.k.ifunit("tun5").is_some());
    a.close().unwrap();
    b.close().unwrap();
    env.finish();
}

#[test]
fn tunclone_non_root_gets_eacces_or_eperm_and_consumes_a_unit() {
    // §6.16: a failed open of /dev/tun still consumes a unit.
    let env = boot();
    env.k.proc_set(400, 400, 1, 1000).unwrap();
    env.k.proc_set(300, 300, 1, 66).unwrap();
    assert_eq!(env.k.dev_open("tun", 400).unwrap_err(), EACCES);
    assert!(env.k.devfs().lookup("tun4").is_some());
    assert_eq!(env.k.dev_open("tun", 300).unwrap_err(), EPERM);
    assert!(env.k.devfs().lookup("tun5").is_some());
    let fd = env.open("tun");
    assert_eq!(fd.dev().name(), "tun6");
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunclose_does_not_release_clone_units() {
    // The close-time devfs_clone_bitmap_put is `#if 0` (lines 223–227).
    let env = boot();
    let a = env.open("tun");
    assert_eq!(a.dev().name(), "tun4");
    a.close().unwrap();
    let b = env.open("tun");
    assert_eq!(b.dev().name(), "tun5");
    b.close().unwrap();
    // The closed clone can still be opened by name.
    let c = env.open("tun4");
    c.close().unwrap();
    env.finish();
}

// ---------------------------------------------------------------- tunclose (198–229)

#[test]
fn tunclose_purges_queue() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    for i in 0..5u8 {
        env.output_inet(&ifp, &bytes(300, i)).unwrap();
    }
    assert_eq!(qlen(&ifp), 5);
    assert!(env.k.mbufs().live() > 0);
    env.k.record_events(true);
    fd.close().unwrap();
    assert_eq!(qlen(&ifp), 0);
    assert_eq!(env.k.mbufs().live(), 0);
    assert!(env.k.take_events().contains(&Event::Purge {
        ifname: "tun0".into(),
        count: 5
    }));
    env.finish();
}

#[test]
fn tunclose_clears_up_and_running_and_purges_addresses() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    env.set_addrs(&ifp, [10, 0, 0, 1], [10, 0, 0, 2]).unwrap();
    assert!(ifp
        .flags()
        .get()
        .contains(IfFlags::IFF_UP | IfFlags::IFF_RUNNING));
    assert_eq!(ifp.addrs().len(), 2);
    env.output_inet(&ifp, b"queued").unwrap();
    env.k.record_events(true);
    fd.close().unwrap();
    let f = ifp.flags().get();
    assert!(!f.intersects(IfFlags::IFF_UP | IfFlags::IFF_RUNNING));
    assert!(f.contains(IfFlags::IFF_POINTOPOINT | IfFlags::IFF_MULTICAST));
    let addrs = ifp.addrs();
    assert_eq!(addrs.len(), 1);
    assert_eq!(addrs[0].family(), Some(AF_LINK));
    // The C's order: purge, if_down, (RUNNING), purge addresses, KNOTE.
    let ev = env.k.take_events();
    let kinds: Vec<&str> = ev
        .iter()
        .map(|e| match e {
            Event::Purge { .. } => "purge",
            Event::IfDown { .. } => "ifdown",
            Event::PurgeAddr { .. } => "purgeaddr",
            _ => "other",
        })
        .filter(|s| *s != "other")
        .collect();
    assert_eq!(kinds, vec!["purge", "ifdown", "purgeaddr"]);
    assert!(ev.contains(&Event::PurgeAddr {
        ifname: "tun0".into(),
        addr: kernel::bsd::ifnet::IfAddr {
            addr: Some(kernel::bsd::socket::SockAddr::inet([10, 0, 0, 1])),
            dstaddr: Some(kernel::bsd::socket::SockAddr::inet([10, 0, 0, 2])),
        }
    }));
    env.finish();
}

#[test]
fn tunclose_skips_if_down_when_not_up() {
    let env = boot();
    let fd = env.open("tun0");
    env.k.record_events(true);
    fd.close().unwrap();
    assert!(!env
        .k
        .take_events()
        .iter()
        .any(|e| matches!(e, Event::IfDown { .. })));
    env.finish();
}

#[test]
fn tunclose_keeps_lmode_async_iaset_mtu_type_baudrate() {
    // §6.16: the kept quirks.
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    ioctl_set(&mut fd, FIOASYNC, 1).unwrap();
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    set_info(
        &mut fd,
        TunInfo {
            baudrate: 9600,
            mtu: 1400,
            type_: 0x42,
            dummy: 0,
        },
    )
    .unwrap();
    env.set_addr(&ifp, [10, 0, 0, 1]).unwrap();
    fd.close().unwrap();
    let st = env.status("tun0");
    assert_eq!(
        st.flags,
        TunFlags::TUN_INITED | TunFlags::TUN_LMODE | TunFlags::TUN_ASYNC | TunFlags::TUN_IASET
    );
    assert_eq!(st.pid, 0);
    assert_eq!(st.sigio, None, "funsetown on close");
    assert_eq!(
        (ifp.mtu(), ifp.if_type(), ifp.baudrate()),
        (1400, 0x42, 9600)
    );
    // The next opener inherits them.
    let mut fd = env.open("tun0");
    assert!(env
        .flags("tun0")
        .contains(TunFlags::TUN_LMODE | TunFlags::TUN_ASYNC));
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    fd.close().unwrap();
    assert!(env.flags("tun0").contains(TunFlags::TUN_IFHEAD));
    let mut fd = env.open("tun0");
    assert_eq!(ioctl_get(&mut fd, TUNGIFHEAD).unwrap(), 1);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunclose_funsetown_and_knote() {
    let env = boot();
    let mut fd = env.open("tun0");
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    // A knote not owned by the descriptor (so the descriptor's close does not detach it
    // first): registered straight through the driver's kqfilter.
    let dev = env.k.devfs().lookup("tun0").unwrap();
    let kn = Knote::new(9, EVFILT_WRITE);
    let mut ap = DevKqfilterArgs {
        a_dev: &dev,
        a_kn: &kn,
        a_result: 0,
    };
    if_tun::if_tun::tunkqfilter(&mut ap).unwrap();
    assert_eq!(ap.a_result, 0);
    env.k.record_events(true);
    fd.close().unwrap();
    let ev = env.k.take_events();
    // funsetown, then KNOTE (lines 219–220).
    let fun = ev
        .iter()
        .position(|e| *e == Event::Funsetown { pgid: PID })
        .expect("funsetown");
    let kno = ev
        .iter()
        .position(|e| {
            *e == Event::Knote {
                id: 9,
                filter: EVFILT_WRITE,
                ready: true,
            }
        })
        .expect("KNOTE");
    assert!(fun < kno);
    assert_eq!(kn.activations(), 1);
    kn.detach();
    assert!(env.status("tun0").knotes.is_empty());
    env.finish();
}

// ---------------------------------------------------------------- tunioctl (424–523)

#[test]
fn tunioctl_tunsifinfo_sets_mtu_type_baudrate_unchecked() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    // §6.14: any type, negative baudrate sign-extended into the u_long.
    set_info(
        &mut fd,
        TunInfo {
            baudrate: -1,
            mtu: 72,
            type_: 0xff,
            dummy: 0,
        },
    )
    .unwrap();
    assert_eq!(ifp.mtu(), 72);
    assert_eq!(ifp.if_type(), 0xff);
    assert_eq!(ifp.baudrate(), u64::MAX);
    assert_eq!(
        get_info(&mut fd),
        TunInfo {
            baudrate: -1,
            mtu: 72,
            type_: 0xff,
            dummy: 0
        }
    );
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tunsifinfo_einval_below_if_minmtu() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let r = set_info(
        &mut fd,
        TunInfo {
            baudrate: 1,
            mtu: 71,
            type_: 1,
            dummy: 0,
        },
    );
    assert_eq!(r, Err(EINVAL));
    // Nothing changed.
    assert_eq!(
        (ifp.mtu(), ifp.if_type(), ifp.baudrate()),
        (1500, IFT_PPP, 0)
    );
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tungifinfo_truncates() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ifp.set_mtu(70000);
    assert_eq!(get_info(&mut fd).mtu, (70000u32 & 0xffff) as u16);
    assert_eq!(get_info(&mut fd).type_, IFT_PPP);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tunsdebug_tungdebug_is_global() {
    let env = boot();
    let mut a = env.open("tun0");
    let mut b = env.open("tun1");
    assert_eq!(ioctl_get(&mut a, TUNGDEBUG).unwrap(), 0);
    ioctl_set(&mut a, TUNSDEBUG, 3).unwrap();
    assert_eq!(ioctl_get(&mut b, TUNGDEBUG).unwrap(), 3);
    assert_eq!(env.k.sysctl("debug.if_tun_debug").unwrap().get(), 3);
    assert_eq!(env.status("tun1").tundebug, 3);
    // TUNDEBUG output now reaches the console.
    let ifp = env.ifp("tun0");
    env.output_inet(&ifp, b"x").unwrap();
    assert!(env.k.console().iter().any(|l| l == "tun0: tunoutput"));
    ioctl_set(&mut b, TUNSDEBUG, 0).unwrap();
    a.close().unwrap();
    b.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tunslmode_and_tunsifhead_are_exclusive() {
    let env = boot();
    let mut fd = env.open("tun0");
    let mode = |env: &Env| {
        env.flags("tun0")
            .intersection(TunFlags::TUN_LMODE | TunFlags::TUN_IFHEAD)
    };
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    assert_eq!(mode(&env), TunFlags::TUN_LMODE);
    assert_eq!(ioctl_get(&mut fd, TUNGIFHEAD).unwrap(), 0);
    ioctl_set(&mut fd, TUNSIFHEAD, 7).unwrap();
    assert_eq!(mode(&env), TunFlags::TUN_IFHEAD);
    assert_eq!(ioctl_get(&mut fd, TUNGIFHEAD).unwrap(), 1);
    // Clearing the other mode's bit leaves this one alone.
    ioctl_set(&mut fd, TUNSLMODE, 0).unwrap();
    assert_eq!(mode(&env), TunFlags::TUN_IFHEAD);
    ioctl_set(&mut fd, TUNSLMODE, -1).unwrap();
    assert_eq!(mode(&env), TunFlags::TUN_LMODE);
    ioctl_set(&mut fd, TUNSIFHEAD, 0).unwrap();
    assert_eq!(mode(&env), TunFlags::TUN_LMODE);
    ioctl_set(&mut fd, TUNSLMODE, 0).unwrap();
    assert_eq!(mode(&env), TunFlags::empty());
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tunsifmode_ebusy_while_up() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    env.set_addr(&ifp, [10, 0, 0, 1]).unwrap();
    let before = ifp.flags().get();
    assert_eq!(
        ioctl_set(&mut fd, TUNSIFMODE, IfFlags::IFF_BROADCAST.bits() as i32),
        Err(EBUSY)
    );
    assert_eq!(ifp.flags().get(), before);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tunsifmode_einval() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let before = ifp.flags().get();
    let p2p = IfFlags::IFF_POINTOPOINT.bits() as i32;
    let bcast = IfFlags::IFF_BROADCAST.bits() as i32;
    let mcast = IfFlags::IFF_MULTICAST.bits() as i32;
    for bad in [0, p2p | bcast, mcast, bcast | 0x1, p2p | 0x800, -1] {
        assert_eq!(ioctl_set(&mut fd, TUNSIFMODE, bad), Err(EINVAL), "{bad:#x}");
    }
    assert_eq!(ifp.flags().get(), before);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tunsifmode_switches_and_never_clears_multicast() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, TUNSIFMODE, IfFlags::IFF_BROADCAST.bits() as i32).unwrap();
    assert_eq!(
        ifp.flags().get(),
        IfFlags::IFF_BROADCAST | IfFlags::IFF_MULTICAST
    );
    let v = (IfFlags::IFF_POINTOPOINT | IfFlags::IFF_MULTICAST).bits() as i32;
    ioctl_set(&mut fd, TUNSIFMODE, v).unwrap();
    assert_eq!(
        ifp.flags().get(),
        IfFlags::IFF_POINTOPOINT | IfFlags::IFF_MULTICAST
    );
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tunsifpid_records_caller_and_is_tiocsig() {
    assert_eq!(TUNSIFPID, TIOCSIG);
    let env = boot();
    let fd = env.open("tun0");
    env.k.proc_set(555, 555, 1, 0).unwrap();
    let mut d = [0u8; 4];
    fd.ioctl_as(555, TUNSIFPID, &mut d).unwrap();
    assert_eq!(env.status("tun0").pid, 555);
    let ifp = env.ifp("tun0");
    let text = ifioctl(&*ifp, SIOCGIFSTATUS, IfIoctlArg::None, &env.root()).unwrap();
    assert_eq!(text, "\tOpened by PID 555\n");
    fd.ioctl(TIOCSIG, &mut d).unwrap();
    assert_eq!(env.status("tun0").pid, PID);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_fioasync_sets_and_clears() {
    let env = boot();
    let mut fd = env.open("tun0");
    ioctl_set(&mut fd, FIOASYNC, 5).unwrap();
    assert!(env.flags("tun0").contains(TunFlags::TUN_ASYNC));
    ioctl_set(&mut fd, FIOASYNC, 0).unwrap();
    assert!(!env.flags("tun0").contains(TunFlags::TUN_ASYNC));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_fionread_sums_first_packet_chain() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    assert_eq!(ioctl_get(&mut fd, FIONREAD).unwrap(), 0);
    let p = bytes(170, 1);
    let m = env.pkt(&p, 6, Some(&[10, 0, 100, 60]));
    ifp.output(m, &mut kernel::bsd::socket::SockAddr::inet([1, 2, 3, 4]))
        .unwrap();
    env.output_inet(&ifp, &bytes(1000, 2)).unwrap();
    assert_eq!(ioctl_get(&mut fd, FIONREAD).unwrap(), 170);
    read_nb(&fd, 2000).unwrap();
    assert_eq!(ioctl_get(&mut fd, FIONREAD).unwrap(), 1000);
    read_nb(&fd, 2000).unwrap();
    assert_eq!(ioctl_get(&mut fd, FIONREAD).unwrap(), 0);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_fiosetown_fiogetown_and_errors() {
    let env = boot();
    let mut fd = env.open("tun0");
    env.k.proc_set(200, 500, 1, 0).unwrap();
    env.k.proc_set(300, 300, 2, 0).unwrap();
    assert_eq!(ioctl_get(&mut fd, FIOGETOWN).unwrap(), 0);
    assert_eq!(ioctl_set(&mut fd, FIOSETOWN, 12345), Err(ESRCH));
    assert_eq!(ioctl_set(&mut fd, FIOSETOWN, -999), Err(ESRCH));
    assert_eq!(ioctl_set(&mut fd, FIOSETOWN, 300), Err(EPERM));
    assert_eq!(ioctl_set(&mut fd, FIOSETOWN, -300), Err(EPERM));
    ioctl_set(&mut fd, FIOSETOWN, 200).unwrap();
    assert_eq!(ioctl_get(&mut fd, FIOGETOWN).unwrap(), 200);
    assert_eq!(env.status("tun0").sigio.unwrap().sio_pgid, 200);
    ioctl_set(&mut fd, FIOSETOWN, -500).unwrap();
    assert_eq!(ioctl_get(&mut fd, FIOGETOWN).unwrap(), -500);
    ioctl_set(&mut fd, FIOSETOWN, 0).unwrap();
    assert_eq!(ioctl_get(&mut fd, FIOGETOWN).unwrap(), 0);
    assert_eq!(env.status("tun0").sigio, None);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_tiocspgrp_tiocgpgrp_negate() {
    let env = boot();
    let mut fd = env.open("tun0");
    env.k.proc_set(200, 500, 1, 0).unwrap();
    ioctl_set(&mut fd, TIOCSPGRP, 500).unwrap();
    assert_eq!(ioctl_get(&mut fd, FIOGETOWN).unwrap(), -500);
    assert_eq!(ioctl_get(&mut fd, TIOCGPGRP).unwrap(), 500);
    assert_eq!(ioctl_set(&mut fd, TIOCSPGRP, 4242), Err(ESRCH));
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    assert_eq!(ioctl_get(&mut fd, TIOCGPGRP).unwrap(), -PID);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunioctl_enotty_for_unknown() {
    let env = boot();
    let fd = env.open("tun0");
    let mut big = [0u8; 1024];
    for cmd in [
        SIOCSIFADDR,
        SIOCGIFSTATUS,
        kernel::bsd::ioccom::_IOW(b't', 98, 4),
        kernel::bsd::ioccom::_IO(b'x', 1),
    ] {
        assert_eq!(fd.ioctl(cmd, &mut big), Err(ENOTTY), "{cmd:#x}");
    }
    fd.close().unwrap();
    env.finish();
}

#[test]
fn fionbio_is_handled_by_the_generic_layer() {
    let env = boot();
    let mut fd = env.open("tun0");
    ioctl_set(&mut fd, FIONBIO, 1).unwrap();
    assert!(fd.nonblock());
    let mut buf = [0u8; 16];
    assert_eq!(fd.read(&mut buf, false), Err(EWOULDBLOCK));
    assert!(!env.flags("tun0").contains(TunFlags::TUN_RWAIT));
    fd.close().unwrap();
    env.finish();
}

// ------------------------------------------------------------- tunkqfilter (708–769)

#[test]
fn tunkqfilter_read_ready_iff_queue_nonempty() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let r = Knote::new(1, EVFILT_READ);
    assert!(!fd.kqfilter(&r).unwrap(), "nothing queued yet");
    env.k.record_events(true);
    env.output_inet(&ifp, b"pkt").unwrap();
    assert!(r.check(0));
    assert_eq!(r.activations(), 1);
    assert!(env.k.take_events().contains(&Event::Knote {
        id: 1,
        filter: EVFILT_READ,
        ready: true
    }));
    read_nb(&fd, 100).unwrap();
    assert!(!r.check(0));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunkqfilter_write_always_ready_and_shares_the_read_list() {
    // §6.12: EVFILT_WRITE knotes go on tun_rkq.
    let env = boot();
    let fd = env.open("tun0");
    let r = Knote::new(1, EVFILT_READ);
    let w = Knote::new(2, EVFILT_WRITE);
    assert!(!fd.kqfilter(&r).unwrap());
    assert!(fd.kqfilter(&w).unwrap());
    assert_eq!(
        env.status("tun0").knotes,
        vec![(2, EVFILT_WRITE), (1, EVFILT_READ)]
    );
    let ifp = env.ifp("tun0");
    env.output_inet(&ifp, b"pkt").unwrap();
    assert_eq!((r.activations(), w.activations()), (1, 1));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunkqfilter_eopnotsupp_for_other_filters() {
    let env = boot();
    let fd = env.open("tun0");
    for f in [EVFILT_TIMER, EVFILT_VNODE, -3, -5, -6, -8] {
        let kn = Knote::new(7, f);
        assert_eq!(fd.kqfilter(&kn), Err(EOPNOTSUPP), "filter {f}");
    }
    assert!(env.status("tun0").knotes.is_empty());
    assert!(fd.knotes().is_empty());
    // The driver itself returns 0 with a_result = EOPNOTSUPP.
    let dev = env.k.devfs().lookup("tun0").unwrap();
    let kn = Knote::new(8, EVFILT_TIMER);
    let mut ap = DevKqfilterArgs {
        a_dev: &dev,
        a_kn: &kn,
        a_result: 0,
    };
    assert_eq!(if_tun::if_tun::tunkqfilter(&mut ap), Ok(()));
    assert_eq!(ap.a_result, EOPNOTSUPP.to_errno());
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tun_filter_detach_on_kqdel_and_close() {
    let env = boot();
    let fd = env.open("tun0");
    fd.kqfilter(&Knote::new(1, EVFILT_READ)).unwrap();
    fd.kqfilter(&Knote::new(2, EVFILT_WRITE)).unwrap();
    fd.kqfilter(&Knote::new(3, EVFILT_READ)).unwrap();
    fd.kqdel(1).unwrap();
    assert_eq!(fd.kqdel(1), Err(ENOENT));
    assert_eq!(
        env.status("tun0").knotes,
        vec![(3, EVFILT_READ), (2, EVFILT_WRITE)]
    );
    env.k.record_events(true);
    fd.close().unwrap();
    assert!(env.status("tun0").knotes.is_empty());
    let det: Vec<u64> = env
        .k
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::KnoteDetached { id } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(det, vec![2, 3]);
    env.finish();
}

#[test]
fn sigio_is_sent_only_with_fioasync_and_an_owner() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    env.output_inet(&ifp, b"a").unwrap();
    assert!(env.k.proc_signals(PID).is_empty(), "no FIOASYNC");
    ioctl_set(&mut fd, FIOASYNC, 1).unwrap();
    ioctl_set(&mut fd, FIOSETOWN, 0).unwrap();
    env.output_inet(&ifp, b"b").unwrap();
    assert!(env.k.proc_signals(PID).is_empty(), "no owner");
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    env.output_inet(&ifp, b"c").unwrap();
    assert_eq!(env.k.proc_signals(PID), vec![SIGIO]);
    fd.close().unwrap();
    env.finish();
}
