// SPDX-License-Identifier: BSD-2-Clause
//! Model checking with loom (`make loom`, i.e. `RUSTFLAGS="--cfg loom" cargo test
//! --release -p if_tun --test loom`): kmock's host locks, condition variables and sleep
//! queues are loom's under `--cfg loom`, so loom runs the real `tunread` (and its `tsleep`
//! with the serializer as interlock) against the real `tunoutput` and `tunclose` in every
//! interleaving it can tell apart. A lost wakeup would leave the reader asleep with no
//! thread to wake it: loom reports that as a deadlock.
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};

use kernel::bsd::socket::SockAddr;
use kernel::Kernel;

/// Executions loom explored, per test.
static RUNS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

fn boot() -> (Kernel, kernel::module::LoadedModule<if_tun::TunModule>) {
    let k = Kernel::new();
    k.proc_set(100, 100, 1, 0).unwrap();
    let m = kernel::module::load::<if_tun::TunModule>(&k).unwrap();
    (k, m)
}

fn packet(k: &Kernel, tag: u8) -> kernel::bsd::mbuf::MbufBox {
    k.mbufs()
        .packet_from(&[0x45, 0, 0, 20, tag], 0, None)
        .unwrap()
}

type Reader = loom::thread::JoinHandle<kernel::Result<Vec<u8>>>;

/// tun0 opened by pid 100, and a loom thread blocking in `read` on it (what it read).
fn open_and_read(k: &Kernel) -> (std::sync::Arc<kernel::bsd::devfs::File>, Reader) {
    let fd = std::sync::Arc::new(k.dev_open("tun0", 100).unwrap());
    let (k2, fd2) = (k.clone(), fd.clone());
    let reader = loom::thread::spawn(move || {
        let _c = k2.enter(100);
        let mut buf = [0u8; 64];
        fd2.read(&mut buf, false).map(|n| buf[..n].to_vec())
    });
    (fd, reader)
}

/// A blocking reader against one output: the reader always gets the packet.
#[test]
fn tunread_against_tunoutput_loses_no_wakeup() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(|| {
        RUNS[0].fetch_add(1, Ordering::Relaxed);
        let (k, _m) = boot();
        let (fd, reader) = open_and_read(&k);
        {
            let _c = k.enter(0);
            let ifp = k.ifunit("tun0").unwrap();
            ifp.output(packet(&k, 7), &mut SockAddr::inet([10, 0, 0, 2]))
                .unwrap();
        }
        let got = reader.join().unwrap().unwrap();
        assert_eq!(got, vec![0x45, 0, 0, 20, 7]);
        fd.close().unwrap();
        assert_eq!(k.mbufs().live(), 0);
    });
    let n = RUNS[0].load(Ordering::Relaxed);
    println!("loom: tunread vs tunoutput: {n} interleavings");
    assert!(n > 1, "loom explored more than one interleaving");
}

/// A blocking reader, an output and a close racing: the close is the last reference only
/// once the read returns, so the reader gets the packet and the unit ends closed.
#[test]
fn tunread_against_tunoutput_and_tunclose() {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(2);
    b.check(|| {
        RUNS[1].fetch_add(1, Ordering::Relaxed);
        let (k, _m) = boot();
        let (fd, reader) = open_and_read(&k);
        let (k3, fd3) = (k.clone(), fd.clone());
        let closer = loom::thread::spawn(move || {
            let _c = k3.enter(100);
            fd3.close()
        });
        {
            let _c = k.enter(0);
            let ifp = k.ifunit("tun0").unwrap();
            // EHOSTDOWN if the close (and tunclose) already ran: then the reader never
            // started (ENXIO) or was told so.
            let _ = ifp.output(packet(&k, 9), &mut SockAddr::inet([10, 0, 0, 2]));
        }
        closer.join().unwrap().unwrap();
        let r = reader.join().unwrap();
        // The read either took the packet, or never got in (the file was closed first).
        assert!(
            r == Ok(vec![0x45, 0, 0, 20, 9]) || r == Err(kernel::error::code::ENXIO),
            "{r:?}"
        );
        drop(k.netisr().drain_all());
        assert_eq!(k.mbufs().live(), 0);
    });
    let n = RUNS[1].load(Ordering::Relaxed);
    println!("loom: tunread vs tunoutput vs tunclose: {n} interleavings");
    assert!(n > 1, "loom explored more than one interleaving");
}
