// SPDX-License-Identifier: BSD-2-Clause
//! Blocking reads on real threads (kmock's default mode) and in turn-taking mode:
//! `tunread`'s sleep (if_tun.c lines 549–559) and `tunoutput`'s wakeup (lines 392–395).
//! Every test runs under a watchdog so a lost wakeup fails instead of hanging.

mod common;

use std::sync::mpsc::channel;
use std::time::Duration;

use common::*;
use if_tun::TunFlags;
use kernel::bsd::errno::*;
use kernel::error::code::*;
use kernel::event::Event;
use kernel::sched::KthreadState;

const WATCHDOG_SECS: u64 = 20;

#[test]
fn tunread_blocked_reader_is_woken_by_tunoutput_from_another_thread() {
    watchdog(WATCHDOG_SECS, || {
        let env = boot();
        let fd = env.open("tun0");
        let ifp = env.ifp("tun0");
        let (tx, rx) = channel();
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            let r = fd.read(&mut buf, false);
            let n = *r.as_ref().unwrap_or(&0);
            buf.truncate(n);
            tx.send((r, buf)).unwrap();
            fd
        });
        wait_until(WATCHDOG_SECS, "the reader to sleep in tunread", || {
            reader_sleeping(&env, "tun0")
        });
        assert!(env.flags("tun0").contains(TunFlags::TUN_RWAIT));
        assert!(rx.try_recv().is_err(), "the reader must still be asleep");
        env.k.record_events(true);
        let p = bytes(777, 3);
        env.output_inet(&ifp, &p).unwrap();
        let (r, buf) = rx
            .recv_timeout(Duration::from_secs(WATCHDOG_SECS))
            .expect("reader not woken");
        assert_eq!(r, Ok(777));
        assert_eq!(buf, p);
        let chan = env.softc("tun0").wait_channel();
        assert!(env.k.take_events().contains(&Event::Wakeup {
            ident: chan,
            woken: 1
        }));
        assert!(!env.flags("tun0").contains(TunFlags::TUN_RWAIT));
        let fd = reader.join().unwrap();
        fd.close().unwrap();
        env.finish();
    });
}

#[test]
fn tunread_producer_and_consumer_threads_lose_no_wakeup() {
    watchdog(WATCHDOG_SECS * 3, || {
        const N: usize = 300;
        let env = boot();
        let fd = env.open("tun0");
        let ifp = env.ifp("tun0");
        let k = env.k.clone();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = vec![0u8; 2048];
            for _ in 0..N {
                let n = fd.read(&mut buf, false).unwrap();
                got.push(buf[..n].to_vec());
            }
            (got, fd)
        });
        let producer = std::thread::spawn(move || {
            let _ctx = k.enter(PID);
            for i in 0..N {
                let p = bytes(1 + (i * 37) % 1500, i as u8);
                let m = k.mbufs().packet_from(&p, i % 57, None).unwrap();
                // The queue holds 250: back off while it is full.
                let mut dst = kernel::bsd::socket::SockAddr::inet([10, 0, 0, 2]);
                loop {
                    if qlen(&ifp) < 200 {
                        break;
                    }
                    std::thread::yield_now();
                }
                ifp.output(m, &mut dst).unwrap();
                if i % 7 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        producer.join().unwrap();
        let (got, fd) = reader.join().unwrap();
        assert_eq!(got.len(), N);
        for (i, g) in got.iter().enumerate() {
            assert_eq!(g, &bytes(1 + (i * 37) % 1500, i as u8), "packet {i}");
        }
        fd.close().unwrap();
        env.finish();
    });
}

fn interrupted_read(restart: bool) {
    let env = boot();
    let fd = env.open("tun0");
    let (tx, rx) = channel();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        tx.send(fd.read(&mut buf, false)).unwrap();
        fd
    });
    wait_until(WATCHDOG_SECS, "the reader to sleep in tunread", || {
        reader_sleeping(&env, "tun0")
    });
    env.k.post_signal(PID, restart).unwrap();
    let r = rx
        .recv_timeout(Duration::from_secs(WATCHDOG_SECS))
        .expect("reader not interrupted");
    assert_eq!(r, Err(if restart { ERESTART } else { EINTR }));
    env.k.clear_signal(PID);
    let fd = reader.join().unwrap();
    // §6.10: the interrupted read leaves TUN_RWAIT set; nothing was dequeued or leaked.
    assert!(env.flags("tun0").contains(TunFlags::TUN_RWAIT));
    assert!(env.k.sleepers().is_empty());
    // The descriptor still works.
    let ifp = env.ifp("tun0");
    env.output_inet(&ifp, b"after").unwrap();
    assert!(!env.flags("tun0").contains(TunFlags::TUN_RWAIT));
    assert_eq!(read_nb(&fd, 64).unwrap(), b"after");
    fd.close().unwrap();
    env.finish();
}

#[test]
fn tunread_eintr_when_signalled() {
    watchdog(WATCHDOG_SECS * 2, || interrupted_read(false));
}

#[test]
fn tunread_erestart_when_signalled_with_sa_restart() {
    watchdog(WATCHDOG_SECS * 2, || interrupted_read(true));
}

#[test]
fn tunread_sleeps_and_is_woken_in_turn_taking_mode() {
    watchdog(WATCHDOG_SECS, || {
        let env = boot();
        env.k.set_turn_taking(true);
        let fd = env.open("tun0");
        let ifp = env.ifp("tun0");
        let (mut th, st) = env.k.kthread_spawn(PID, move || {
            let mut buf = vec![0u8; 100];
            let r = fd.read(&mut buf, false);
            (r, buf, fd)
        });
        assert!(matches!(st, KthreadState::Sleeping));
        assert!(env.k.kthread_sleeping(th.tid()));
        assert!(!env.k.kthread_runnable(th.tid()));
        env.output_inet(&ifp, b"ping").unwrap();
        assert!(env.k.kthread_runnable(th.tid()));
        let KthreadState::Done((r, buf, fd)) = env.k.kthread_resume(&mut th).unwrap() else {
            panic!("the reader slept again");
        };
        assert_eq!(r, Ok(4));
        assert_eq!(&buf[..4], b"ping");
        // An interrupt through the scheduler: EINTR.
        let (mut th, st) = env.k.kthread_spawn(PID, move || {
            let mut buf = [0u8; 8];
            (fd.read(&mut buf, false), fd)
        });
        assert!(matches!(st, KthreadState::Sleeping));
        env.k.kthread_interrupt(th.tid(), false).unwrap();
        let KthreadState::Done((r, fd)) = env.k.kthread_resume(&mut th).unwrap() else {
            panic!("the reader slept again");
        };
        assert_eq!(r, Err(EINTR));
        env.k.set_turn_taking(false);
        fd.close().unwrap();
        env.finish();
    });
}

/// Issue 10, deliverable 6: closing the descriptor while a reader sleeps in `tunread` does
/// not run `tunclose` until the read returns (the file lives until its last reference
/// goes, as BSD's `fdrop` keeps it). Meanwhile the unit stays open — a reopen gets
/// `EBUSY` — and the next packet is the sleeping reader's, not a new opener's.
#[test]
fn close_while_a_reader_sleeps_runs_tunclose_after_the_read_returns() {
    watchdog(WATCHDOG_SECS, || {
        use if_tun::abi::TUNSDEBUG;
        use kernel::bsd::kqueue::{Knote, EVFILT_READ};
        use std::sync::Arc as StdArc;

        let env = boot();
        let fd = StdArc::new(env.open("tun0"));
        fd.ioctl(TUNSDEBUG, &mut 1i32.to_ne_bytes()).unwrap();
        fd.kqfilter(&Knote::new(1, EVFILT_READ)).unwrap();
        let ifp = env.ifp("tun0");
        let (tx, rx) = channel();
        let reader = {
            let fd = fd.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 4096];
                let r = fd.read(&mut buf, false);
                buf.truncate(*r.as_ref().unwrap_or(&0));
                tx.send((r, buf)).unwrap();
            })
        };
        wait_until(WATCHDOG_SECS, "the reader to sleep in tunread", || {
            reader_sleeping(&env, "tun0")
        });
        env.k.record_events(true);

        // close returns at once; tunclose has not run: TUN_OPEN is still set, a reopen
        // gets EBUSY, the reader still sleeps.
        assert_eq!(fd.close(), Ok(()));
        assert!(!fd.is_closed());
        assert!(env.flags("tun0").contains(TunFlags::TUN_OPEN));
        assert_eq!(env.k.dev_open("tun0", PID).unwrap_err(), EBUSY);
        assert!(reader_sleeping(&env, "tun0"));
        assert!(rx.try_recv().is_err());
        assert_eq!(fd.read(&mut [0u8; 8], true), Err(ENXIO));

        // An output wakes the reader, which gets the packet; only then does tunclose run.
        let p = bytes(300, 9);
        env.output_inet(&ifp, &p).unwrap();
        let (r, buf) = rx
            .recv_timeout(Duration::from_secs(WATCHDOG_SECS))
            .expect("reader not woken");
        reader.join().unwrap();
        assert_eq!(r, Ok(300));
        assert_eq!(buf, p);
        assert!(fd.is_closed());
        assert!(!env.flags("tun0").contains(TunFlags::TUN_OPEN));

        let ev = env.k.take_events();
        let at = |what: &str, f: &dyn Fn(&Event) -> bool| {
            ev.iter()
                .position(f)
                .unwrap_or_else(|| panic!("no {what} in {ev:?}"))
        };
        let chan = env.softc("tun0").wait_channel();
        let enqueue = at("enqueue", &|e| matches!(e, Event::Enqueue { .. }));
        let wakeup = at("wakeup", &|e| {
            *e == Event::Wakeup {
                ident: chan,
                woken: 1,
            }
        });
        let detached = at("knote detach", &|e| *e == Event::KnoteDetached { id: 1 });
        let closed = at("tunclose's print", &|e| {
            *e == Event::Kprintf {
                text: "tun0: closed".into(),
            }
        });
        assert!(
            enqueue < wakeup && wakeup < detached && detached < closed,
            "{ev:?}"
        );
        // The reader dequeued the packet before tunclose: nothing was purged.
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Purge { .. })),
            "{ev:?}"
        );
        // The refused reopen never reached tunopen's print.
        assert!(!ev.contains(&Event::Kprintf {
            text: "tun0: open".into()
        }));

        // Now the unit reopens, and the next packet is the new opener's.
        let fd2 = env.open("tun0");
        env.output_inet(&ifp, b"fresh").unwrap();
        assert_eq!(read_nb(&fd2, 64).unwrap(), b"fresh");
        fd2.close().unwrap();
        env.finish();
    });
}
