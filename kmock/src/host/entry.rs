// SPDX-License-Identifier: BSD-2-Clause
//! The host's entry points: the bodies of the door's functions that act on the *current*
//! kernel (the calling thread's context). The service modules below hold the state; this
//! module finds the kernel and calls them, so that no service module needs to name the
//! kernel.

use core::any::Any;
use std::string::ToString;
use std::sync::Arc;
use std::vec::Vec;

use super::devfs::NodeEntry;
use super::event::Event;
use super::ifnet::{IfHost, IfSlot};
use super::kernel::{current, current_kernel, with_current, KernelRef};
use super::netisr::{Packet, NETISR_MAX};
use super::proc::{Proc, ProcInfo};
use super::sleepq::{parker, SleepQueues, Sleeper, Turn};
use super::sync::lock;
use super::sysctl::SysctlInt;
use crate::bsd::cred::Ucred;
use crate::bsd::errno::ERESTART;
use crate::error::{code, Result};

// ---- devfs

/// Publishes `e` in the current kernel: `ENXIO` outside any, `EBUSY` if the name is taken.
pub fn devfs_publish(e: NodeEntry) -> Result<Arc<NodeEntry>> {
    let k = with_current(|c| c.kernel.clone()).ok_or(code::ENXIO)?;
    k.0.devfs.insert(e)
}

/// Removes node `name` from the current kernel (`destroy_dev`); open files keep working
/// on the node they hold.
pub fn devfs_remove(name: &str) {
    with_current(|c| c.kernel.0.devfs.remove(name));
}

/// The node named `name` in the current kernel.
pub fn devfs_node(name: &str) -> Option<Arc<NodeEntry>> {
    with_current(|c| c.kernel.0.devfs.lookup_entry(name)).flatten()
}

/// Calls `f` with the API object of every node of the current kernel, in name order.
pub fn devfs_foreach(f: &mut dyn FnMut(&(dyn Any + Send + Sync))) {
    let nodes: Vec<Arc<NodeEntry>> =
        with_current(|c| c.kernel.0.devfs.entries()).unwrap_or_default();
    for n in &nodes {
        f(&*n.obj);
    }
}

// ---- ifnet

/// `if_attach`'s list part: appends the interface to the current kernel's list and returns
/// its index (1-based; 0 outside a kernel).
pub fn ifnet_attach(ops: Arc<dyn IfHost>, obj: Arc<dyn Any + Send + Sync>) -> u32 {
    with_current(|c| {
        let k = &c.kernel;
        let name: Arc<str> = Arc::from(ops.name());
        let index = k.0.ifnets.push(IfSlot { ops, obj });
        k.emit(|| Event::IfAttach { ifname: name });
        index
    })
    .unwrap_or(0)
}

/// `if_detach`'s list part: takes interface `index` off `kernel`'s list.
pub fn ifnet_detach(kernel: &KernelRef, index: u32) {
    if let Some(k) = kernel.upgrade() {
        k.0.ifnets.remove(index);
    }
}

// ---- netisr

/// `netisr_queue(num, m)` in the current kernel: `ENXIO` outside any kernel, `EINVAL` for
/// a number ≥ [`NETISR_MAX`], `ENOBUFS` when the queue is full.
pub fn netisr_queue(num: u32, pkt: Packet) -> Result {
    let k = with_current(|c| c.kernel.clone()).ok_or(code::ENXIO)?;
    if num >= NETISR_MAX {
        return Err(code::EINVAL);
    }
    k.0.netisr.queue(num, pkt)
}

// ---- processes

/// The current process (the entered pid; credentials default to root's if the pid is not
/// in the table).
pub fn curproc() -> Option<ProcInfo> {
    with_current(|ctx| {
        let procs = lock(&ctx.kernel.0.procs);
        match procs.get(ctx.pid) {
            Some(p) => p.info(),
            None => ProcInfo {
                pid: ctx.pid,
                pgrp: 0,
                sess: 0,
                cred: Ucred::default(),
            },
        }
    })
}

/// Process `pid` of the current kernel.
pub fn lookup(pid: i32) -> Option<ProcInfo> {
    with_current(|ctx| lock(&ctx.kernel.0.procs).get(pid).map(Proc::info)).flatten()
}

/// The session of process group `pgrp` in the current kernel.
pub fn pgrp_session(pgrp: i32) -> Option<i32> {
    with_current(|ctx| lock(&ctx.kernel.0.procs).pgrp_session(pgrp)).flatten()
}

/// Calls `f` for every member of `pgrp`, in pid order.
pub fn pgrp_members(pgrp: i32, f: &mut dyn FnMut(&ProcInfo)) {
    let members: Vec<ProcInfo> = with_current(|ctx| {
        let procs = lock(&ctx.kernel.0.procs);
        procs
            .pgrp_members(pgrp)
            .into_iter()
            .filter_map(|pid| procs.get(pid).map(Proc::info))
            .collect()
    })
    .unwrap_or_default();
    for p in &members {
        f(p);
    }
}

/// Delivers `sig` to `pid` (recorded in its bounded record of received signals).
pub fn psignal(pid: i32, sig: i32) {
    with_current(|ctx| {
        if let Some(p) = lock(&ctx.kernel.0.procs).get_mut(pid) {
            p.received.push(sig);
        }
    });
}

// ---- sysctl

/// Registers `name` with `init` in the current kernel, or returns the knob already
/// registered under that name; outside a kernel the knob is private to the caller.
pub fn sysctl_register(name: &str, init: i32, descr: &str) -> Arc<SysctlInt> {
    let make = || Arc::new(SysctlInt::new(name, init, descr));
    with_current(|ctx| {
        lock(&ctx.kernel.0.sysctls)
            .entry(name.to_string())
            .or_insert_with(make)
            .clone()
    })
    .unwrap_or_else(make)
}

// ---- sleep and wakeup

/// `tsleep(ident, flags, wmesg, timo)` with an interlock.
///
/// The calling thread goes on the sleep queue of `ident`, then `interlock` is dropped (so a
/// guard passed here is released atomically with respect to `wakeup`), then the thread
/// sleeps. Returns `Ok(())` when woken, `EINTR` (or `ERESTART`) when `flags` has
/// `PCATCH` and a signal arrives. `timo` is accepted for fidelity and must be 0 (no
/// timeouts are modelled). Outside a kernel context it fails with `EINVAL` at once.
pub fn tsleep<L>(ident: usize, catch: bool, wmesg: &'static str, interlock: L) -> Result {
    let Some(ctx) = current() else {
        drop(interlock);
        return Err(code::EINVAL);
    };
    let k = &ctx.kernel;
    let q = &k.0.sleepq;
    let mut st = q.lock();
    if catch {
        let pending = lock(&k.0.procs).get(ctx.pid).and_then(|p| p.pending);
        if let Some(restart) = pending {
            drop(st);
            drop(interlock);
            return Err(if restart { ERESTART } else { code::EINTR });
        }
    }
    st.push(ctx.tid, ctx.pid, ident, wmesg, catch);
    k.emit(|| Event::Sleep { ident, wmesg });
    drop(interlock);
    let me = parker();
    if st.turn_taking {
        // Hand the turn back to the runner and wait until it resumes this thread.
        st.hand_turn_back(ctx.tid);
        SleepQueues::release(st);
        st = q.lock();
        while st.turn != Turn::Thread(ctx.tid) {
            st = SleepQueues::wait(&me, st);
        }
    } else {
        // Whoever waits for this thread to sleep (`kthread_spawn` in thread mode).
        st.notify_watcher(ctx.tid);
        SleepQueues::release(st);
        st = q.lock();
        loop {
            match st.sleepers.get(&ctx.tid) {
                Some(s) if s.woken || s.signal.is_some() => break,
                None => break,
                _ => st = SleepQueues::wait(&me, st),
            }
        }
    }
    match st.remove(ctx.tid) {
        Some(Sleeper {
            woken: false,
            signal: Some(restart),
            ..
        }) => Err(if restart { ERESTART } else { code::EINTR }),
        _ => Ok(()),
    }
}

/// `wakeup(ident)`: wakes every thread sleeping on `ident`. Returns how many it woke
/// (sleepers already woken and not yet run are not counted again).
pub fn wakeup(ident: usize) -> usize {
    let Some(k) = current_kernel() else {
        return 0;
    };
    let mut st = k.0.sleepq.lock();
    let n = st.wakeup(ident);
    k.emit(|| Event::Wakeup { ident, woken: n });
    SleepQueues::release(st);
    n
}
