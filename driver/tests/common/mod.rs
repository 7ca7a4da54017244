// SPDX-License-Identifier: BSD-2-Clause
//! Shared fixtures for the driver's integration tests.
//!
//! Every test boots its own kernel ([`boot`]), loads the tun module into it, enters it as
//! the root process [`PID`] (pid 100, pgrp 100, session 1) and ends with [`Env::finish`],
//! which drains the netisr queues and asserts that no mbuf is left alive. Descriptors must
//! be closed (or dropped) before `finish`: closing purges the interface's send queue.
//!
//! Not every test file uses every helper.
#![allow(dead_code)]

use std::sync::{Arc as StdArc, Mutex};
use std::time::{Duration, Instant};

use if_tun::abi::TunInfo;
use if_tun::{TunFlags, TunModule, TunSoftc};
use kernel::bsd::bpf::BpfListener;
use kernel::bsd::cred::Ucred;
use kernel::bsd::devfs::File;
use kernel::bsd::ifnet::{ifioctl, IfIoctlArg, IfStats, IfnetDyn};
use kernel::bsd::ioccom::{SIOCSIFADDR, SIOCSIFDSTADDR};
use kernel::bsd::mbuf::MbufBox;
use kernel::bsd::sigio::Sigio;
use kernel::bsd::socket::{SockAddr, AF_INET};
use kernel::module::LoadedModule;
use kernel::sync::Arc;
use kernel::ContextGuard;
use kernel::{Kernel, Result};

/// The root process every fixture runs as.
pub const PID: i32 = 100;
/// Its process group.
pub const PGRP: i32 = 100;

/// A booted kernel with the tun module loaded, entered as [`PID`].
pub struct Env {
    /// The kernel.
    pub k: Kernel,
    /// The loaded module (kept alive for the test's duration).
    pub module: LoadedModule<TunModule>,
    finished: bool,
    _ctx: ContextGuard,
}

/// Boots a kernel, creates root process 100 and loads the tun driver.
pub fn boot() -> Env {
    let k = Kernel::new();
    k.proc_set(PID, PGRP, 1, 0).unwrap();
    let module = kernel::module::load::<TunModule>(&k).unwrap();
    let ctx = k.enter(PID);
    Env {
        k,
        module,
        finished: false,
        _ctx: ctx,
    }
}

/// Drains every netisr queue and asserts that the mbuf zone has no live mbuf.
pub fn assert_no_mbufs_live(k: &Kernel) {
    drop(k.netisr().drain_all());
    assert_eq!(k.mbufs().live(), 0, "mbufs leaked");
}

impl Env {
    /// The end of every test: netisr drained, no mbuf alive.
    pub fn finish(mut self) {
        self.finished = true;
        assert_no_mbufs_live(&self.k);
    }

    /// `open("/dev/NAME")` as [`PID`].
    pub fn open(&self, name: &str) -> File {
        self.k.dev_open(name, PID).unwrap()
    }

    /// The interface `name` (exists once its unit was opened).
    pub fn ifp(&self, name: &str) -> Arc<dyn IfnetDyn> {
        self.k.ifunit(name).unwrap()
    }

    /// The softc of unit `name`.
    pub fn softc(&self, name: &str) -> Arc<TunSoftc> {
        self.k
            .devfs()
            .lookup(name)
            .unwrap()
            .si_drv1::<TunSoftc>()
            .unwrap()
    }

    /// `status()` of unit `name`.
    pub fn status(&self, name: &str) -> TunStatus {
        status(&self.softc(name))
    }

    /// `tun_flags` of unit `name`.
    pub fn flags(&self, name: &str) -> TunFlags {
        self.status(name).flags
    }

    /// Root's credentials.
    pub fn root(&self) -> Ucred {
        self.k.proc_cred(PID).unwrap()
    }

    /// `ifconfig tunN A` (`SIOCSIFADDR` through the generic layer).
    pub fn set_addr(&self, ifp: &Arc<dyn IfnetDyn>, a: [u8; 4]) -> Result {
        ifioctl(&**ifp, SIOCSIFADDR, IfIoctlArg::Inet(a), &self.root()).map(|_| ())
    }

    /// `ifconfig tunN A B` (address, then destination).
    pub fn set_addrs(&self, ifp: &Arc<dyn IfnetDyn>, a: [u8; 4], b: [u8; 4]) -> Result {
        self.set_addr(ifp, a)?;
        ifioctl(&**ifp, SIOCSIFDSTADDR, IfIoctlArg::Inet(b), &self.root()).map(|_| ())
    }

    /// A packet built by the environment (see `MbufZone::packet_from`).
    pub fn pkt(&self, payload: &[u8], lead: usize, segs: Option<&[usize]>) -> MbufBox {
        self.k.mbufs().packet_from(payload, lead, segs).unwrap()
    }

    /// `if_output` of `payload` (default segmentation, no leading space) to `dst`.
    pub fn output(&self, ifp: &Arc<dyn IfnetDyn>, payload: &[u8], dst: &mut SockAddr) -> Result {
        let m = self.pkt(payload, 0, None);
        ifp.output(m, dst)
    }

    /// `if_output` of `payload` to an `AF_INET` destination.
    pub fn output_inet(&self, ifp: &Arc<dyn IfnetDyn>, payload: &[u8]) -> Result {
        self.output(ifp, payload, &mut SockAddr::inet([10, 0, 0, 2]))
    }

    /// The interface's counters.
    pub fn stats(&self, ifp: &Arc<dyn IfnetDyn>) -> IfStats {
        ifp.stats()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // A backstop for a test that forgot `finish`; never while unwinding.
        if !self.finished && !std::thread::panicking() {
            assert_no_mbufs_live(&self.k);
        }
    }
}

/// `ifp->if_snd.ifq_drops`.
pub fn drops(ifp: &Arc<dyn IfnetDyn>) -> u64 {
    let mut d = 0;
    ifp.with_snd(&mut |q| d = q.drops());
    d
}

/// `ifp->if_snd.ifq_len`.
pub fn qlen(ifp: &Arc<dyn IfnetDyn>) -> usize {
    let mut n = 0;
    ifp.with_snd(&mut |q| n = q.len());
    n
}

/// An ioctl with an `int` argument.
pub fn ioctl_set(fd: &mut File, cmd: u32, v: i32) -> Result {
    let mut b = v.to_ne_bytes();
    fd.ioctl(cmd, &mut b)
}

/// An ioctl returning an `int`.
pub fn ioctl_get(fd: &mut File, cmd: u32) -> Result<i32> {
    let mut b = [0u8; 4];
    fd.ioctl(cmd, &mut b)?;
    Ok(i32::from_ne_bytes(b))
}

/// `TUNSIFINFO`.
pub fn set_info(fd: &mut File, info: TunInfo) -> Result {
    let mut b = [0u8; 8];
    info.to_bytes(&mut b).unwrap();
    fd.ioctl(if_tun::abi::TUNSIFINFO, &mut b)
}

/// `TUNGIFINFO`.
pub fn get_info(fd: &mut File) -> TunInfo {
    let mut b = [0u8; 8];
    fd.ioctl(if_tun::abi::TUNGIFINFO, &mut b).unwrap();
    TunInfo::from_bytes(&b).unwrap()
}

/// Reads one packet without blocking (`EWOULDBLOCK` if none) into a buffer of `cap`
/// bytes; returns the bytes read.
pub fn read_nb(fd: &File, cap: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; cap];
    let n = fd.read(&mut buf, true)?;
    buf.truncate(n);
    Ok(buf)
}

/// A `sockaddr_in`'s 16 bytes for `a` (what `TUNSLMODE` puts in front of a packet).
pub fn sin_bytes(a: [u8; 4]) -> Vec<u8> {
    let mut v = vec![16, AF_INET, 0, 0];
    v.extend_from_slice(&a);
    v.extend_from_slice(&[0; 8]);
    v
}

/// `payload` with a 4-byte big-endian address family in front (the `TUNSIFHEAD` framing).
pub fn ifhead(family: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = family.to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

/// `payload` with a 4-byte host-order address family in front (the `DLT_NULL` header).
pub fn dlt_null(family: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = family.to_ne_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

/// Deterministic test bytes: `len` bytes derived from `seed`.
pub fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8))
        .collect()
}

/// A bpf listener that records what it is handed.
#[derive(Default)]
pub struct Capture {
    taps: Mutex<Vec<(u32, Vec<u8>)>>,
}

impl Capture {
    /// Attaches a new capture to `ifp`'s bpf tap.
    pub fn attach(ifp: &Arc<dyn IfnetDyn>) -> StdArc<Capture> {
        let c = StdArc::new(Capture::default());
        assert!(ifp.bpf().attach_listener(c.clone()));
        c
    }

    /// Everything tapped so far, oldest first.
    pub fn take(&self) -> Vec<(u32, Vec<u8>)> {
        std::mem::take(&mut *self.taps.lock().unwrap())
    }
}

impl BpfListener for Capture {
    fn tap(&self, dlt: u32, packet: &[u8]) {
        self.taps.lock().unwrap().push((dlt, packet.to_vec()));
    }
}

/// Polls `cond` until it holds, failing the test after `secs` seconds (a watchdog).
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "watchdog: timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether a thread sleeps in `tunread` on unit `name`'s wait channel.
pub fn reader_sleeping(env: &Env, name: &str) -> bool {
    let chan = env.softc(name).wait_channel();
    env.k
        .sleepers()
        .iter()
        .any(|&(_, ident, wmesg)| ident == chan && wmesg == "tunread")
}

/// Runs `f` on its own thread and fails the test if it has not finished after `secs`
/// seconds (a hung thread is abandoned; the harness still exits). A panic in `f` is
/// propagated.
pub fn watchdog<F: FnOnce() + Send + 'static>(secs: u64, f: F) {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    let (tx, rx) = channel();
    let h = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => h.join().unwrap(),
        Err(RecvTimeoutError::Disconnected) => {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
        Err(RecvTimeoutError::Timeout) => panic!("watchdog: test still running after {secs}s"),
    }
}

/// A unit's state (what tunsim's `show` prints), read with the serializer held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunStatus {
    pub flags: TunFlags,
    pub pid: i32,
    pub sigio: Option<Sigio>,
    pub tundebug: i32,
    pub knotes: Vec<(u64, i16)>,
}

pub fn status(sc: &TunSoftc) -> TunStatus {
    let (flags, pid) = {
        let g = kernel::bsd::ifnet::ifnet_serialize_all(&sc.tun_if);
        (g.sc.tun_flags, g.sc.tun_pid)
    };
    TunStatus {
        flags,
        pid,
        sigio: sc.tun_sigio.get(),
        tundebug: sc.tundebug.get(),
        knotes: sc
            .tun_rkq
            .snapshot()
            .iter()
            .map(|k| (k.id(), k.kn_filter()))
            .collect(),
    }
}
