// SPDX-License-Identifier: BSD-2-Clause
//! The data path through the descriptor: `tunread` (if_tun.c lines 530–575) and
//! `tunwrite` (lines 581–701), their error branches, the bpf taps of the input path and
//! the DF-0588 fix.

mod common;

use common::*;
use if_tun::abi::*;
use if_tun::TunFlags;
use kernel::bsd::bpf::DLT_NULL;
use kernel::bsd::devfs::DevReadArgs;
use kernel::bsd::errno::*;
use kernel::bsd::mbuf::{MHLEN, MLEN};
use kernel::bsd::netisr::{NETISR_IP, NETISR_IPV6};
use kernel::bsd::socket::{AF_APPLETALK, AF_INET, AF_INET6, AF_IPX};
use kernel::bsd::uio::Uio;
use kernel::error::code::*;
use kernel::event::Event;

// ---------------------------------------------------------------- tunread (530–575)

#[test]
fn tunread_ehostdown_when_not_ready() {
    // Unreachable through a descriptor (§6.15); the entry point is called directly.
    let env = boot();
    let fd = env.open("tun0");
    fd.close().unwrap();
    let dev = env.k.devfs().lookup("tun0").unwrap();
    let mut buf = [0u8; 16];
    let mut uio = Uio::new_read(&mut buf);
    let r = if_tun::if_tun::tunread(&mut DevReadArgs {
        a_dev: &dev,
        a_uio: &mut uio,
        a_ioflag: 0,
    });
    assert_eq!(r, Err(EHOSTDOWN));
    env.finish();
}

#[test]
fn tunread_ehostdown_prints_not_ready_when_debugging() {
    // The TUNDEBUG of tunread's not-ready branch (line 541), with debug.if_tun_debug on.
    let env = boot();
    let fd = env.open("tun0");
    fd.close().unwrap();
    let knob = env.k.sysctl("debug.if_tun_debug").unwrap();
    knob.set(1);
    let dev = env.k.devfs().lookup("tun0").unwrap();
    let mut buf = [0u8; 16];
    let mut uio = Uio::new_read(&mut buf);
    let r = if_tun::if_tun::tunread(&mut DevReadArgs {
        a_dev: &dev,
        a_uio: &mut uio,
        a_ioflag: 0,
    });
    knob.set(0);
    assert_eq!(r, Err(EHOSTDOWN));
    let console = env.k.console();
    let tail: Vec<&str> = console
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(tail, ["tun0: read", "tun0: not ready 02"]);
    env.finish();
}

#[test]
fn tunread_ewouldblock_nonblocking() {
    let env = boot();
    let mut fd = env.open("tun0");
    let mut buf = [0u8; 64];
    assert_eq!(fd.read(&mut buf, true), Err(EWOULDBLOCK));
    assert_eq!(EWOULDBLOCK, EAGAIN);
    // The non-blocking read does not leave TUN_RWAIT behind.
    assert!(!env.flags("tun0").contains(TunFlags::TUN_RWAIT));
    // FIONBIO gives the same.
    ioctl_set(&mut fd, FIONBIO, 1).unwrap();
    assert_eq!(fd.read(&mut buf, false), Err(EWOULDBLOCK));
    ioctl_set(&mut fd, FIONBIO, 0).unwrap();
    // A packet queued: the read succeeds.
    let ifp = env.ifp("tun0");
    env.output_inet(&ifp, b"hello").unwrap();
    assert_eq!(fd.read(&mut buf, true), Ok(5));
    assert_eq!(&buf[..5], b"hello");
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunread_eintr_with_a_signal_already_pending() {
    // A pending signal ends the PCATCH sleep at once; TUN_RWAIT stays set (§6.10).
    let env = boot();
    let fd = env.open("tun0");
    env.k.post_signal(PID, false).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(fd.read(&mut buf, false), Err(EINTR));
    assert!(env.flags("tun0").contains(TunFlags::TUN_RWAIT));
    env.k.post_signal(PID, true).unwrap();
    assert_eq!(fd.read(&mut buf, false), Err(ERESTART));
    env.k.clear_signal(PID);
    // The next output wakes nobody but clears the stale flag.
    let ifp = env.ifp("tun0");
    let chan = env.softc("tun0").wait_channel();
    env.k.record_events(true);
    env.output_inet(&ifp, b"x").unwrap();
    assert!(env.k.take_events().contains(&Event::Wakeup {
        ident: chan,
        woken: 0
    }));
    assert!(!env.flags("tun0").contains(TunFlags::TUN_RWAIT));
    // A successful read clears RWAIT too (line 545).
    assert_eq!(fd.read(&mut buf, false), Ok(1));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunread_truncates_long_packet_and_frees_the_rest() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let p = bytes(300, 8);
    env.output_inet(&ifp, &p).unwrap();
    env.output_inet(&ifp, b"next").unwrap();
    let live_before = env.k.mbufs().live();
    assert_eq!(live_before, 4 + 1);
    // 100 bytes: all of the first mbuf (56) and part of the second (44).
    assert_eq!(read_nb(&fd, 100).unwrap(), &p[..100]);
    assert_eq!(env.k.mbufs().live(), 1, "the rest of the packet was freed");
    assert_eq!(read_nb(&fd, 100).unwrap(), b"next");
    assert_eq!(read_nb(&fd, 100), Err(EWOULDBLOCK));
    // Boundaries: exactly the first mbuf, and one byte.
    env.output_inet(&ifp, &p).unwrap();
    assert_eq!(read_nb(&fd, MHLEN).unwrap(), &p[..MHLEN]);
    env.output_inet(&ifp, &p).unwrap();
    assert_eq!(read_nb(&fd, 1).unwrap(), &p[..1]);
    assert_eq!(env.k.mbufs().live(), 0);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunread_zero_length_read_discards_a_packet() {
    // §6.9.
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    env.output_inet(&ifp, &bytes(200, 1)).unwrap();
    env.output_inet(&ifp, b"second").unwrap();
    assert_eq!(fd.read(&mut [], false), Ok(0));
    assert_eq!(qlen(&ifp), 1);
    assert_eq!(read_nb(&fd, 100).unwrap(), b"second");
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunread_skips_empty_mbufs_of_a_chain() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let p = bytes(130, 3);
    let m = env.pkt(&p, 10, Some(&[0, 10, 0, 120, 0]));
    ifp.output(m, &mut kernel::bsd::socket::SockAddr::inet([1, 1, 1, 1]))
        .unwrap();
    assert_eq!(read_nb(&fd, 1000).unwrap(), p);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunread_efault_frees_the_packet() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    env.output_inet(&ifp, &bytes(300, 2)).unwrap();
    let mut buf = [0u8; 400];
    let mut uio = Uio::new_read(&mut buf).with_fault_at(100);
    assert_eq!(fd.read_uio(&mut uio, 0), Err((EFAULT, 100)));
    assert_eq!(qlen(&ifp), 0);
    assert_eq!(env.k.mbufs().live(), 0);
    fd.close().unwrap();
    env.finish();
}

// --------------------------------------------------------------- tunwrite (581–701)

#[test]
fn tunwrite_zero_length_is_a_noop() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let st = ifp.stats();
    assert_eq!(fd.write(&[]), Ok(0));
    assert_eq!(env.k.mbufs().stats().allocated, 0);
    assert!(env.k.netisr().is_empty());
    assert_eq!(ifp.stats(), st);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_delivers_to_netisr_ip() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let p = bytes(500, 6);
    assert_eq!(fd.write(&p), Ok(500));
    let m = env.k.netisr().dequeue(NETISR_IP).unwrap();
    assert_eq!(m.to_vec(), p);
    let h = *m.pkthdr().unwrap();
    assert_eq!(h.len, 500);
    assert_eq!(h.rcvif, Some(ifp.index()));
    // MHLEN, then MLEN-sized mbufs.
    let lens: Vec<usize> = m.iter().map(|x| x.len()).collect();
    assert_eq!(lens, vec![MHLEN, MLEN, MLEN, MLEN, 500 - MHLEN - 3 * MLEN]);
    drop(m);
    let s = ifp.stats();
    assert_eq!((s.ipackets, s.ibytes, s.ierrors), (1, 500, 0));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_eio_above_tunmru() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    assert_eq!(fd.write(&vec![0x45; TUNMRU + 1]), Err(EIO));
    assert_eq!(fd.write(&vec![0x45; 100_000]), Err(EIO));
    assert_eq!(env.k.mbufs().stats().allocated, 0);
    assert_eq!(ifp.stats().ierrors, 0);
    // TUNMRU itself is accepted.
    assert_eq!(fd.write(&vec![0x45; TUNMRU]), Ok(TUNMRU));
    assert_eq!(env.k.netisr().len(NETISR_IP), 1);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_enobufs_when_mgethdr_fails() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    env.k.mbufs().set_failalloc(Some(1));
    assert_eq!(fd.write(&bytes(100, 1)), Err(ENOBUFS));
    // §6.5: no ierrors for the header mbuf.
    let s = ifp.stats();
    assert_eq!((s.ierrors, s.ipackets), (0, 0));
    assert!(env.k.netisr().is_empty());
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_enobufs_when_mget_fails() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    for (n, len) in [(2u32, 100usize), (2, MHLEN + 1), (4, 1000), (9, TUNMRU)] {
        env.k.mbufs().set_failalloc(Some(n));
        assert_eq!(fd.write(&bytes(len, 1)), Err(ENOBUFS), "{n} {len}");
        assert_eq!(env.k.mbufs().live(), 0, "partial chain freed");
    }
    let s = ifp.stats();
    assert_eq!((s.ierrors, s.ipackets), (4, 0));
    assert!(env.k.netisr().is_empty());
    // Exactly MHLEN bytes need no second mbuf.
    env.k.mbufs().set_failalloc(Some(2));
    assert_eq!(fd.write(&bytes(MHLEN, 1)), Ok(MHLEN));
    env.k.mbufs().set_failalloc(None);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_efault_counts_an_input_error() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let dev = env.k.devfs().lookup("tun0").unwrap();
    for at in [0, 10, MHLEN, 200] {
        let data = bytes(300, 1);
        let mut uio = Uio::new_write(&data).with_fault_at(at);
        let r = if_tun::if_tun::tunwrite(&mut DevReadArgs {
            a_dev: &dev,
            a_uio: &mut uio,
            a_ioflag: 0,
        });
        assert_eq!(r, Err(EFAULT));
        assert_eq!(env.k.mbufs().live(), 0, "fault at {at}");
    }
    assert_eq!(ifp.stats().ierrors, 4);
    assert!(env.k.netisr().is_empty());
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_ifhead_strips_family() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    let p = bytes(400, 2);
    fd.write(&ifhead(AF_INET.into(), &p)).unwrap();
    fd.write(&ifhead(AF_INET6.into(), &p)).unwrap();
    let m4 = env.k.netisr().dequeue(NETISR_IP).unwrap();
    let m6 = env.k.netisr().dequeue(NETISR_IPV6).unwrap();
    assert_eq!(m4.to_vec(), p);
    assert_eq!(m6.to_vec(), p);
    assert_eq!(m4.pkthdr().unwrap().len, 400);
    drop((m4, m6));
    let s = ifp.stats();
    assert_eq!((s.ipackets, s.ibytes), (2, 800));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_ifhead_short_write_enobufs() {
    // §6.3: 1–3 bytes fail in m_pullup (ENOBUFS, nothing counted); 4 give an empty packet.
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    for n in 1..=3 {
        assert_eq!(fd.write(&[0, 0, 0, 2][..n]), Err(ENOBUFS), "{n} bytes");
        assert_eq!(env.k.mbufs().live(), 0);
    }
    assert_eq!(ifp.stats(), Default::default());
    assert_eq!(fd.write(&[0, 0, 0, 2]), Ok(4));
    let m = env.k.netisr().dequeue(NETISR_IP).unwrap();
    assert_eq!((m.chain_len(), m.pkthdr().unwrap().len), (0, 0));
    drop(m);
    let s = ifp.stats();
    assert_eq!((s.ipackets, s.ibytes), (1, 0));
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_eafnosupport_counts_input_first() {
    // §6.2: ipackets/ibytes count the rejected packet; the default build has no IPX or
    // AppleTalk.
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    let mut rejected = vec![0u32, 1, 0x0200_0000, 99];
    if cfg!(not(feature = "ipx")) {
        rejected.push(AF_IPX.into());
    }
    if cfg!(not(feature = "netatalk")) {
        rejected.push(AF_APPLETALK.into());
    }
    for &fam in &rejected {
        assert_eq!(fd.write(&ifhead(fam, b"abcd")), Err(EAFNOSUPPORT), "{fam}");
    }
    let s = ifp.stats();
    let n = rejected.len() as u64;
    assert_eq!((s.ipackets, s.ibytes, s.ierrors), (n, 4 * n, 0));
    assert!(env.k.netisr().is_empty());
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_ipx_and_appletalk_follow_the_kernel_configuration() {
    // Lines 684–693: AF_IPX and AF_APPLETALK reach a netisr only in kernels built with
    // IPX / NETATALK (the crate's `ipx` / `netatalk` features).
    let env = boot();
    let mut fd = env.open("tun0");
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    let ipx = fd.write(&ifhead(AF_IPX.into(), b"ipx!"));
    let atalk = fd.write(&ifhead(AF_APPLETALK.into(), b"ddp!"));
    if cfg!(feature = "ipx") {
        assert_eq!(ipx, Ok(8));
        let m = env
            .k
            .netisr()
            .dequeue(kernel::bsd::netisr::NETISR_IPX)
            .unwrap();
        assert_eq!(m.to_vec(), b"ipx!");
    } else {
        assert_eq!(ipx, Err(EAFNOSUPPORT));
    }
    if cfg!(feature = "netatalk") {
        assert_eq!(atalk, Ok(8));
        let m = env
            .k
            .netisr()
            .dequeue(kernel::bsd::netisr::NETISR_ATALK2)
            .unwrap();
        assert_eq!(m.to_vec(), b"ddp!");
    } else {
        assert_eq!(atalk, Err(EAFNOSUPPORT));
    }
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_eafnosupport_frees_whole_chain() {
    // DF-0588: the C frees only the last mbuf of a multi-mbuf packet (line 695).
    let env = boot();
    let mut fd = env.open("tun0");
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    env.k.mbufs().track_ids(true);
    for len in [1usize, 52, 53, 300, 5000, TUNMRU - 4] {
        let before = env.k.mbufs().stats().allocated;
        assert_eq!(fd.write(&ifhead(99, &bytes(len, 1))), Err(EAFNOSUPPORT));
        assert!(env.k.mbufs().stats().allocated > before);
        assert_eq!(env.k.mbufs().live_ids(), Vec::<u64>::new(), "len {len}");
        assert_eq!(env.k.mbufs().live(), 0, "len {len}");
    }
    // With a bpf listener: the one-mbuf case is the C's double free; longer ones leak.
    let ifp = env.ifp("tun0");
    let cap = Capture::attach(&ifp);
    for len in [1usize, 40, 300] {
        assert_eq!(fd.write(&ifhead(99, &bytes(len, 2))), Err(EAFNOSUPPORT));
        assert_eq!(env.k.mbufs().live(), 0, "len {len} with bpf");
    }
    assert_eq!(cap.take().len(), 3);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_bpf_tap_plain_prepends_af_inet() {
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    let cap = Capture::attach(&ifp);
    let p = bytes(250, 5);
    fd.write(&p).unwrap();
    assert_eq!(cap.take(), vec![(DLT_NULL, dlt_null(AF_INET.into(), &p))]);
    assert_eq!(env.k.netisr().dequeue(NETISR_IP).unwrap().to_vec(), p);
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_ifhead_with_bpf_listener() {
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    let cap = Capture::attach(&ifp);
    for len in [0usize, 1, 52, 53, 200, 2000] {
        let p = bytes(len, 9);
        for fam in [AF_INET, AF_INET6] {
            fd.write(&ifhead(fam.into(), &p)).unwrap();
            // The listener sees the family in host order (DLT_NULL), then the payload.
            assert_eq!(cap.take(), vec![(DLT_NULL, dlt_null(fam.into(), &p))]);
            let isr = if fam == AF_INET {
                NETISR_IP
            } else {
                NETISR_IPV6
            };
            let m = env.k.netisr().dequeue(isr).unwrap();
            assert_eq!(m.to_vec(), p, "len {len}");
            assert_eq!(m.pkthdr().unwrap().len, len);
        }
    }
    // 1–3 bytes: the tap's m_pullup fails before anything is tapped.
    assert_eq!(fd.write(&[0, 0]), Err(ENOBUFS));
    assert!(cap.take().is_empty());
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_ifhead_bpf_pullup_allocation_can_fail() {
    // §6.4: the tap's m_pullup reallocates a one-mbuf packet; its failure is ENOBUFS.
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    let cap = Capture::attach(&ifp);
    env.k.mbufs().set_failalloc(Some(2));
    assert_eq!(fd.write(&ifhead(2, b"0123456789")), Err(ENOBUFS));
    assert_eq!(env.k.mbufs().live(), 0);
    assert!(cap.take().is_empty());
    assert_eq!(ifp.stats(), Default::default());
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunwrite_ignores_ready_and_iff_up() {
    // §6.15: packets are injected even while the interface is down.
    let env = boot();
    let fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    assert!(!ifp
        .flags()
        .get()
        .contains(kernel::bsd::ifnet::IfFlags::IFF_UP));
    fd.write(b"\x45down").unwrap();
    assert_eq!(env.k.netisr().len(NETISR_IP), 1);
    fd.close().unwrap();
    env.finish();
}

// ------------------------------------------------- bounded console and signal records

/// Issue 10, deliverable 6: with `TUNSDEBUG` on and `FIOASYNC` set, every packet prints
/// two console lines (`tunoutput`, `read`) and sends a SIGIO. Under load the console keeps
/// its newest `CONSOLE_LINES` and the process its newest `SIGNALS_KEPT` signals; the rest
/// are counted, and a caller that drains as it goes sees every line.
#[test]
fn debug_prints_and_sigio_under_load_stay_bounded() {
    use kernel::bsd::ioccom::{FIOASYNC, FIOSETOWN};
    use kernel::bsd::sigio::SIGIO;
    use kernel::host::kernel::CONSOLE_LINES;
    use kernel::host::proc::SIGNALS_KEPT;

    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    ioctl_set(&mut fd, TUNSDEBUG, 1).unwrap();
    ioctl_set(&mut fd, FIOSETOWN, PID).unwrap();
    ioctl_set(&mut fd, FIOASYNC, 1).unwrap();
    let before = env.k.console().len();
    let n = CONSOLE_LINES / 2 + 1000;
    for i in 0..n {
        env.output_inet(&ifp, &bytes(20, i as u8)).unwrap();
        assert_eq!(read_nb(&fd, 64).unwrap(), bytes(20, i as u8));
    }
    let console = env.k.console();
    assert_eq!(console.len(), CONSOLE_LINES);
    assert_eq!(
        env.k.console_dropped() + console.len() as u64,
        (before + 2 * n) as u64
    );
    assert_eq!(
        &console[console.len() - 2..],
        ["tun0: tunoutput", "tun0: read"]
    );
    assert_eq!(env.k.proc_signals(PID), vec![SIGIO; SIGNALS_KEPT]);
    assert_eq!(env.k.proc_signals_dropped(PID), (n - SIGNALS_KEPT) as u64);

    // Drained as it goes, the console misses nothing.
    env.k.take_console();
    let dropped = env.k.console_dropped();
    let mut seen = 0;
    for _ in 0..n {
        env.output_inet(&ifp, b"y").unwrap();
        read_nb(&fd, 64).unwrap();
        seen += env.k.take_console().len();
    }
    assert_eq!(seen, 2 * n);
    assert_eq!(env.k.console_dropped(), dropped);
    fd.close().unwrap();
    env.finish();
}

// ------------------------------------------------- the allocation-failure event

/// Issue 10, deliverable 6: an armed `failalloc` names the allocator the driver called —
/// `m_gethdr`/`m_get` in tunwrite, `m_pullup` in tunwrite's IFHEAD paths, `m_prepend`
/// under tunoutput's `M_PREPEND`s — with the driver's line, and the mbuf allocation under
/// it (`mget`, what the C's `m_pullup`/`m_prepend` call and the reference transcripts
/// print).
#[test]
fn failalloc_event_names_the_drivers_allocator_and_line() {
    const SRC: &str = include_str!("../src/if_tun.rs");
    let env = boot();
    let mut fd = env.open("tun0");
    let ifp = env.ifp("tun0");
    env.k.record_events(true);
    let fired = |what: &str, mget: &str, call: &str| {
        let ev: Vec<Event> = env
            .k
            .take_events()
            .into_iter()
            .filter(|e| matches!(e, Event::AllocFail { .. }))
            .collect();
        let [Event::AllocFail {
            what: w,
            mget: g,
            site,
        }] = &ev[..]
        else {
            panic!("one failure expected for {what}: {ev:?}");
        };
        assert_eq!((*w, *g), (what, mget), "{site}");
        let mut parts = site.rsplitn(3, ':');
        let (_col, line, file) = (parts.next(), parts.next().unwrap(), parts.next().unwrap());
        assert!(file.ends_with("if_tun.rs"), "{site}");
        let text = SRC.lines().nth(line.parse::<usize>().unwrap() - 1).unwrap();
        assert!(text.contains(call), "{site}: {text}");
    };

    // tunwrite: the header mbuf, then the second mbuf of a long write.
    env.k.mbufs().set_failalloc(Some(1));
    assert_eq!(fd.write(&[0x45; 20]), Err(ENOBUFS));
    fired("m_gethdr", "m_gethdr", "m_gethdr(");
    env.k.mbufs().set_failalloc(Some(2));
    assert_eq!(fd.write(&[0x45; 150]), Err(ENOBUFS));
    fired("m_get", "m_get", "m_get(");

    // tunwrite with IFHEAD: the bpf tap's pullup, then the family's pullup of a short
    // write.
    ioctl_set(&mut fd, TUNSIFHEAD, 1).unwrap();
    let cap = Capture::attach(&ifp);
    env.k.mbufs().set_failalloc(Some(2));
    assert_eq!(fd.write(&ifhead(2, &[0x45; 4])), Err(ENOBUFS));
    fired("m_pullup", "m_gethdr", "m_pullup(");
    assert!(ifp.bpf().detach_last());
    drop(cap);
    env.k.mbufs().set_failalloc(Some(2));
    assert_eq!(fd.write(&[0, 0]), Err(ENOBUFS));
    fired("m_pullup", "m_gethdr", "m_pullup(");

    // tunoutput: M_PREPEND of the family (IFHEAD), then of the sockaddr (LMODE).
    env.k.mbufs().set_failalloc(Some(1));
    assert_eq!(env.output_inet(&ifp, &[0x45; 20]), Err(ENOBUFS));
    fired("m_prepend", "m_gethdr", "m_prepend_hdr(");
    ioctl_set(&mut fd, TUNSLMODE, 1).unwrap();
    env.k.mbufs().set_failalloc(Some(1));
    assert_eq!(env.output_inet(&ifp, &[0x45; 20]), Err(ENOBUFS));
    fired("m_prepend", "m_gethdr", "m_prepend_hdr(");

    env.k.mbufs().set_failalloc(None);
    fd.close().unwrap();
    env.finish();
}
