// SPDX-License-Identifier: BSD-2-Clause
//! Conservation under load: real threads — writers, outputs, a blocking and a non-blocking
//! reader, ioctl churn, close/reopen churn, allocation failures injected concurrently — for
//! a bounded time under a watchdog, then exact accounting:
//!
//! - every output attempt is accepted or refused with a counted errno;
//! - accepted outputs = packets read + packets purged by a close (each read packet was
//!   accepted, none read twice);
//! - every accepted write reaches netisr exactly once, in the writer's order;
//! - no mbuf is left and no thread sleeps at the end.
//!
//! `TUN_STRESS_SECS` (default 2) sets the load time.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc as StdArc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use if_tun::abi::*;
use kernel::bsd::devfs::File;
use kernel::bsd::mbuf::MbufBox;
use kernel::bsd::netisr::NETISR_IP;
use kernel::bsd::socket::{SockAddr, AF_INET};
use kernel::error::Error;
use kernel::event::Event;

const MAGIC: &[u8; 8] = b"TUNSTRES";

/// A packet carrying `MAGIC`, the sender's id and its sequence number.
fn tagged(id: u8, seq: u32) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 40, 0, 0, 0, 0];
    p.extend_from_slice(MAGIC);
    p.push(id);
    p.extend_from_slice(&seq.to_be_bytes());
    // Vary the size around the mbuf boundaries.
    p.resize(p.len() + (seq as usize * 37) % 200, 0xa5);
    p
}

/// Finds the tag in a packet as read or delivered (whatever framing precedes it).
fn tag_of(b: &[u8]) -> Option<(u8, u32)> {
    let i = b.windows(MAGIC.len()).position(|w| w == MAGIC)?;
    let t = b.get(i + MAGIC.len()..i + MAGIC.len() + 5)?;
    Some((t[0], u32::from_be_bytes([t[1], t[2], t[3], t[4]])))
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errs: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, r: Result<(), Error>) {
        match r {
            Ok(()) => self.ok += 1,
            Err(e) => *self.errs.entry(format!("{e:?}")).or_default() += 1,
        }
    }
    fn attempts(&self) -> u64 {
        self.ok + self.errs.values().sum::<u64>()
    }
}

type SharedFd = StdArc<RwLock<Option<StdArc<File>>>>;

fn current(fd: &SharedFd) -> Option<StdArc<File>> {
    fd.read().unwrap().clone()
}

#[test]
fn conservation_under_load() {
    let secs: u64 = std::env::var("TUN_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    watchdog(secs + 60, move || run(Duration::from_secs(secs)));
}

fn run(load: Duration) {
    let env = boot();
    let k = env.k.clone();
    let fd: SharedFd = StdArc::new(RwLock::new(Some(StdArc::new(env.open("tun0")))));
    let ifp = env.ifp("tun0");
    let stop = StdArc::new(AtomicBool::new(false));

    // netisr: what the stack receives, by writer.
    let delivered: StdArc<Mutex<BTreeMap<u8, Vec<u32>>>> = StdArc::default();
    let d2 = delivered.clone();
    k.netisr().set_handler(NETISR_IP, move |m: MbufBox| {
        if let Some((id, seq)) = tag_of(&m.to_vec()) {
            d2.lock().unwrap().entry(id).or_default().push(seq);
        }
    });
    k.record_events(true);

    let mut handles = Vec::new();
    let spawn = |f: Box<dyn FnOnce() + Send>| thread::spawn(f);

    // Writers 1 and 2: accepted sequence numbers, in order.
    let accepted_writes: StdArc<Mutex<BTreeMap<u8, Vec<u32>>>> = StdArc::default();
    let write_tally: StdArc<Mutex<Tally>> = StdArc::default();
    for id in [1u8, 2] {
        let (k, fd, stop, acc, tally) = (
            k.clone(),
            fd.clone(),
            stop.clone(),
            accepted_writes.clone(),
            write_tally.clone(),
        );
        handles.push(spawn(Box::new(move || {
            let _c = k.enter(PID);
            let mut seq = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let Some(f) = current(&fd) else { continue };
                seq += 1;
                let p = tagged(id, seq);
                // In IFHEAD mode a write needs its family first.
                let ifhead = matches!(
                    {
                        let mut b = [0u8; 4];
                        f.ioctl(TUNGIFHEAD, &mut b).map(|_| i32::from_ne_bytes(b))
                    },
                    Ok(1)
                );
                let data = if ifhead { ifhead_frame(&p) } else { p };
                let r = f.write(&data).map(|_| ());
                if r.is_ok() {
                    acc.lock().unwrap().entry(id).or_default().push(seq);
                }
                tally.lock().unwrap().add(r);
            }
        })));
    }

    // Outputs 10 and 11: accepted (id, seq) pairs.
    let accepted_outputs: StdArc<Mutex<HashSet<(u8, u32)>>> = StdArc::default();
    let out_tally: StdArc<Mutex<Tally>> = StdArc::default();
    for id in [10u8, 11] {
        let (k, ifp, stop, acc, tally) = (
            k.clone(),
            ifp.clone(),
            stop.clone(),
            accepted_outputs.clone(),
            out_tally.clone(),
        );
        handles.push(spawn(Box::new(move || {
            let _c = k.enter(0);
            let mut seq = 0u32;
            while !stop.load(Ordering::Relaxed) {
                seq += 1;
                let m = k.mbufs().packet_from(&tagged(id, seq), 0, None).unwrap();
                let r = ifp.output(m, &mut SockAddr::inet([10, 0, 0, 2]));
                if r.is_ok() {
                    acc.lock().unwrap().insert((id, seq));
                }
                tally.lock().unwrap().add(r);
                if seq.is_multiple_of(64) {
                    thread::yield_now();
                }
            }
        })));
    }

    // Readers: one blocking, one non-blocking.
    let read: StdArc<Mutex<Vec<(u8, u32)>>> = StdArc::default();
    let read_errs: StdArc<Mutex<Tally>> = StdArc::default();
    for nonblock in [false, true] {
        let (k, fd, stop, read, errs) = (
            k.clone(),
            fd.clone(),
            stop.clone(),
            read.clone(),
            read_errs.clone(),
        );
        handles.push(spawn(Box::new(move || {
            let _c = k.enter(PID);
            let mut buf = vec![0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                let Some(f) = current(&fd) else { continue };
                match f.read(&mut buf, nonblock) {
                    Ok(n) => {
                        let t = tag_of(&buf[..n]).expect("every packet read carries its tag");
                        read.lock().unwrap().push(t);
                    }
                    Err(e) => errs.lock().unwrap().add(Err(e)),
                }
                k.clear_signal(PID);
            }
        })));
    }

    // ioctl churn: framing, async, status reads.
    {
        let (k, fd, stop) = (k.clone(), fd.clone(), stop.clone());
        handles.push(spawn(Box::new(move || {
            let _c = k.enter(PID);
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                if let Some(f) = current(&fd) {
                    let (cmd, v) = match i % 6 {
                        0 => (TUNSIFHEAD, 1),
                        1 => (TUNSIFHEAD, 0),
                        2 => (TUNSLMODE, 1),
                        3 => (TUNSLMODE, 0),
                        4 => (FIOASYNC, (i / 6 % 2) as i32),
                        _ => (FIONREAD, 0),
                    };
                    let _ = f.ioctl(cmd, &mut v.to_ne_bytes());
                }
                thread::sleep(Duration::from_micros(200));
            }
        })));
    }

    // close/reopen churn.
    let reopens = StdArc::new(AtomicU64::new(0));
    {
        let (k, fd, stop, reopens) = (k.clone(), fd.clone(), stop.clone(), reopens.clone());
        handles.push(spawn(Box::new(move || {
            let _c = k.enter(PID);
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(3));
                let old = fd.write().unwrap().take();
                if let Some(f) = old {
                    let _ = f.close();
                }
                // Reopen (EBUSY while an operation of the old descriptor is still inside).
                let deadline = Instant::now() + Duration::from_secs(5);
                loop {
                    match k.dev_open("tun0", PID) {
                        Ok(f) => {
                            *fd.write().unwrap() = Some(StdArc::new(f));
                            reopens.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        Err(_) if Instant::now() < deadline => {
                            let _ = k.post_signal(PID, false);
                            thread::yield_now();
                        }
                        Err(e) => panic!("reopen: {e:?}"),
                    }
                }
            }
        })));
    }

    // Allocation failures, injected concurrently.
    let injected = StdArc::new(AtomicU64::new(0));
    {
        let (k, stop, injected) = (k.clone(), stop.clone(), injected.clone());
        handles.push(spawn(Box::new(move || {
            let mut n = 1u64;
            while !stop.load(Ordering::Relaxed) {
                n = n % 17 + 1;
                k.fail_alloc_nth(n);
                if n.is_multiple_of(5) {
                    k.mbufs().set_failalloc(Some(3));
                }
                injected.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_micros(300));
            }
            k.clear_alloc_faults();
            k.mbufs().set_failalloc(None);
        })));
    }

    // The monitor: purges by close, counted from the events.
    let purged = StdArc::new(AtomicU64::new(0));
    let monitor = {
        let (k, stop, purged) = (k.clone(), stop.clone(), purged.clone());
        thread::spawn(move || loop {
            let done = stop.load(Ordering::Relaxed);
            for e in k.take_events() {
                if let Event::Purge { count, .. } = e {
                    purged.fetch_add(count as u64, Ordering::Relaxed);
                }
            }
            if done {
                break;
            }
            thread::sleep(Duration::from_millis(5));
        })
    };

    thread::sleep(load);
    stop.store(true, Ordering::Relaxed);
    // Release the blocking reader: signal until every thread is back.
    for h in handles {
        while !h.is_finished() {
            let _ = k.post_signal(PID, false);
            thread::sleep(Duration::from_millis(1));
        }
        h.join().unwrap();
    }
    k.clear_signal(PID);
    k.clear_alloc_faults();
    k.mbufs().set_failalloc(None);
    // The final close purges what is left.
    if let Some(f) = fd.write().unwrap().take() {
        f.close().unwrap();
    }
    // Let the monitor see the last events.
    thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::Relaxed);
    monitor.join().unwrap();
    for e in k.take_events() {
        if let Event::Purge { count, .. } = e {
            purged.fetch_add(count as u64, Ordering::Relaxed);
        }
    }

    // ---- the accounting
    let out = out_tally.lock().unwrap();
    let accepted = accepted_outputs.lock().unwrap();
    let read = read.lock().unwrap();
    let purged = purged.load(Ordering::Relaxed);
    assert_eq!(out.attempts(), out.ok + out.errs.values().sum::<u64>());
    assert_eq!(out.ok as usize, accepted.len());
    let read_set: HashSet<(u8, u32)> = read.iter().copied().collect();
    assert_eq!(read_set.len(), read.len(), "a packet was read twice");
    assert!(
        read_set.is_subset(&accepted),
        "a packet read was never accepted"
    );
    assert_eq!(
        out.ok,
        read.len() as u64 + purged,
        "accepted = read + purged by close"
    );

    let wr = write_tally.lock().unwrap();
    let acc_w = accepted_writes.lock().unwrap();
    let del = delivered.lock().unwrap();
    let accepted_w: u64 = acc_w.values().map(|v| v.len() as u64).sum();
    assert_eq!(wr.ok, accepted_w);
    for id in [1u8, 2] {
        let a = acc_w.get(&id).cloned().unwrap_or_default();
        let d = del.get(&id).cloned().unwrap_or_default();
        assert_eq!(
            a, d,
            "writer {id}: every accepted write reaches netisr once, in order"
        );
    }
    assert!(k.sleepers().is_empty(), "a thread still sleeps");
    drop(del);
    k.netisr().clear_handler(NETISR_IP);
    println!(
        "stress {:?}: outputs {} (accepted {}, refused {:?}); read {}; purged {}; writes {} (accepted {}, refused {:?}); reads refused {:?}; reopens {}; failure plans armed {}",
        load,
        out.attempts(),
        out.ok,
        out.errs,
        read.len(),
        purged,
        wr.attempts(),
        wr.ok,
        wr.errs,
        read_errs.lock().unwrap().errs,
        reopens.load(Ordering::Relaxed),
        injected.load(Ordering::Relaxed),
    );
    assert!(
        out.ok > 0 && wr.ok > 0 && !read.is_empty(),
        "the load moved packets"
    );
    drop((out, accepted, read, wr, acc_w));
    env.finish();
}

/// `p` with the IFHEAD family word in front.
fn ifhead_frame(p: &[u8]) -> Vec<u8> {
    let mut v = u32::from(AF_INET).to_be_bytes().to_vec();
    v.extend_from_slice(p);
    v
}
