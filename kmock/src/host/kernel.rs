// SPDX-License-Identifier: BSD-2-Clause
//! The kernel instance and the current context.
//!
//! One [`Kernel`] value owns everything a real kernel keeps in globals: the devfs table, the
//! interface list, the netisr queues, the mbuf zone and its accounting, the process table,
//! the sysctl tree, the sleep queues, the allocation-failure plan and the event sink. Tests
//! create their own kernel, so `cargo test` runs them in parallel with no shared state.
//!
//! A thread enters a kernel as a process with [`Kernel::enter`]; until the returned
//! [`ContextGuard`] drops, services called on that thread find their kernel, `curproc`
//! and its credentials there (BSD's `curthread`/`curproc`, Rust-for-Linux's `current!()`).

use core::cell::RefCell;
use core::panic::Location;
use core::sync::atomic::{AtomicU64, Ordering};
use std::collections::BTreeMap;
use std::string::String;
use std::sync::{Arc, Weak};

use crate::platform::Mutex;
use std::vec::Vec;

use super::devfs::Devfs;
use super::event::{Event, EventSink};
use super::faults::AllocFaults;
use super::ifnet::IfList;
use super::mbuf::MbufZone;
use super::netisr::Netisr;
use super::proc::ProcTable;
use super::ring::Ring;
use super::sleepq::SleepQueues;
use super::sync::lock;
use super::sysctl::SysctlInt;
use crate::bsd::cred::Ucred;
use crate::error::{code, Result};

static NEXT_KERNEL_ID: AtomicU64 = AtomicU64::new(1);
static NEXT_TID: AtomicU64 = AtomicU64::new(1);

/// A kernel instance. Cloning gives another handle to the same kernel.
#[derive(Clone)]
pub struct Kernel(pub(crate) Arc<KernelInner>);

pub(crate) struct KernelInner {
    pub(crate) id: u64,
    pub(crate) mbufs: Arc<MbufZone>,
    pub(crate) devfs: Devfs,
    pub(crate) ifnets: IfList,
    pub(crate) netisr: Netisr,
    pub(crate) procs: Mutex<ProcTable>,
    pub(crate) sysctls: Mutex<BTreeMap<String, Arc<SysctlInt>>>,
    pub(crate) sleepq: SleepQueues,
    /// The idle OS threads kernel threads run on.
    pub(crate) workers: Arc<super::workers::Workers>,
    pub(crate) faults: Arc<AllocFaults>,
    pub(crate) events: Arc<EventSink>,
    pub(crate) log: Mutex<Ring<String>>,
}

impl Drop for KernelInner {
    fn drop(&mut self) {
        // Free mbuf storage holds its zone: let it go with the kernel.
        self.mbufs.shutdown();
        self.workers.shutdown();
    }
}

/// How many console lines a kernel keeps (the newest; older ones are counted):
/// [`Kernel::console`].
pub const CONSOLE_LINES: usize = 10_000;

/// A handle on a kernel that does not keep it alive (for objects that remember the kernel
/// they were made in; the host's own business, never seen by the driver).
#[derive(Clone, Default)]
pub struct KernelRef(Weak<KernelInner>);

impl KernelRef {
    /// The kernel, if it still exists.
    pub fn upgrade(&self) -> Option<Kernel> {
        self.0.upgrade().map(Kernel)
    }

    /// Enters the kernel as `pid` unless the calling thread is already inside it.
    pub(crate) fn enter_if_outside(&self, pid: i32) -> Option<ContextGuard> {
        // Checked without cloning the context or upgrading: the per-packet case.
        if with_current(|_| ()).is_some() {
            return None;
        }
        self.upgrade().map(|k| k.enter(pid))
    }

    /// Whether the calling thread is inside this kernel (no reference count is touched).
    pub(crate) fn is_current(&self) -> bool {
        with_current(|c| core::ptr::eq(self.0.as_ptr(), Arc::as_ptr(&c.kernel.0))).unwrap_or(false)
    }

    /// Records an event in this kernel.
    pub(crate) fn emit(&self, f: impl FnOnce() -> Event) {
        if let Some(k) = self.0.upgrade() {
            k.events.emit(f);
        }
    }
}

impl Default for Kernel {
    fn default() -> Self {
        Self::new()
    }
}

impl Kernel {
    /// Boots an empty kernel: no processes, devices, interfaces or sysctls.
    pub fn new() -> Kernel {
        let events = Arc::new(EventSink::new());
        let faults = Arc::new(AllocFaults::new());
        Kernel(Arc::new(KernelInner {
            id: NEXT_KERNEL_ID.fetch_add(1, Ordering::Relaxed),
            mbufs: Arc::new(MbufZone::new(events.clone(), faults.clone())),
            devfs: Devfs::new(),
            ifnets: IfList::new(),
            netisr: Netisr::new(),
            procs: Mutex::new(ProcTable::default()),
            sysctls: Mutex::new(BTreeMap::new()),
            sleepq: SleepQueues::new(),
            workers: Arc::new(super::workers::Workers::new()),
            faults,
            events,
            log: Mutex::new(Ring::new(CONSOLE_LINES)),
        }))
    }

    /// A number that identifies this kernel among all kernels of the process.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// A handle that does not keep the kernel alive.
    pub fn downgrade(&self) -> KernelRef {
        KernelRef(Arc::downgrade(&self.0))
    }

    /// Makes the calling thread run as process `pid` in this kernel until the guard drops.
    /// Nested calls stack; dropping restores the previous context.
    pub fn enter(&self, pid: i32) -> ContextGuard {
        let tid = CURRENT.with(|c| {
            c.borrow()
                .last()
                .map(|ctx| ctx.tid)
                .unwrap_or_else(thread_tid)
        });
        self.enter_as(pid, tid)
    }

    pub(crate) fn enter_as(&self, pid: i32, tid: u64) -> ContextGuard {
        CURRENT.with(|c| {
            c.borrow_mut().push(Context {
                kernel: self.clone(),
                pid,
                tid,
            })
        });
        ContextGuard { _priv: () }
    }

    /// Turns event recording on or off (off at boot).
    pub fn record_events(&self, on: bool) {
        self.0.events.set_recording(on);
    }

    /// Takes every event recorded so far, oldest first.
    pub fn take_events(&self) -> Vec<Event> {
        self.0.events.take()
    }

    pub(crate) fn emit(&self, f: impl FnOnce() -> Event) {
        self.0.events.emit(f)
    }

    /// The mbuf zone: accounting, leak checks and mbuf failure injection.
    pub fn mbufs(&self) -> &Arc<MbufZone> {
        &self.0.mbufs
    }

    /// The device filesystem.
    pub fn devfs(&self) -> &Devfs {
        &self.0.devfs
    }

    /// The netisr queues (the protocol side of `netisr_queue`).
    pub fn netisr(&self) -> &Netisr {
        &self.0.netisr
    }

    /// The interface list.
    pub fn iflist(&self) -> &IfList {
        &self.0.ifnets
    }

    /// Looks up an integer sysctl by its dotted name (`"debug.if_tun_debug"`).
    pub fn sysctl(&self, name: &str) -> Option<Arc<SysctlInt>> {
        lock(&self.0.sysctls).get(name).cloned()
    }

    /// Creates process `pid` (or changes it) with the given process group, session and uid.
    pub fn proc_set(&self, pid: i32, pgrp: i32, sess: i32, uid: u32) -> Result {
        lock(&self.0.procs).set(pid, pgrp, sess, uid)
    }

    /// Process `pid`'s process group, session and uid.
    pub fn proc_info(&self, pid: i32) -> Option<(i32, i32, u32)> {
        lock(&self.0.procs)
            .get(pid)
            .map(|p| (p.pgrp, p.sess, p.uid))
    }

    /// Number of processes.
    pub fn proc_count(&self) -> usize {
        lock(&self.0.procs).len()
    }

    /// The credentials of process `pid`.
    pub fn proc_cred(&self, pid: i32) -> Option<Ucred> {
        lock(&self.0.procs).get(pid).map(|p| p.cred())
    }

    /// Whether process `pid` exists.
    pub fn proc_exists(&self, pid: i32) -> bool {
        lock(&self.0.procs).get(pid).is_some()
    }

    /// The signals delivered to process `pid` (by `pgsigio` and `psignal`), oldest
    /// first: the newest [`SIGNALS_KEPT`](super::proc::SIGNALS_KEPT) of them (see
    /// [`Kernel::set_signal_limit`]); older ones are counted by
    /// [`Kernel::proc_signals_dropped`].
    pub fn proc_signals(&self, pid: i32) -> Vec<i32> {
        lock(&self.0.procs)
            .get(pid)
            .map(|p| p.received.to_vec())
            .unwrap_or_default()
    }

    /// Takes the signals recorded for process `pid` (as [`Kernel::proc_signals`] returns
    /// them), leaving its record empty.
    pub fn take_proc_signals(&self, pid: i32) -> Vec<i32> {
        lock(&self.0.procs)
            .get_mut(pid)
            .map(|p| p.received.take())
            .unwrap_or_default()
    }

    /// How many signals delivered to process `pid` its record let go (the oldest, beyond
    /// the limit).
    pub fn proc_signals_dropped(&self, pid: i32) -> u64 {
        lock(&self.0.procs)
            .get(pid)
            .map_or(0, |p| p.received.dropped())
    }

    /// Keeps at most `limit` received signals per process (existing processes lose their
    /// oldest beyond it now).
    pub fn set_signal_limit(&self, limit: usize) {
        lock(&self.0.procs).set_signal_limit(limit);
    }

    /// Marks a signal pending for process `pid`: interruptible sleeps of its threads
    /// (`tsleep` with `PCATCH`, `CondVar::wait_interruptible`) return early.
    pub fn post_signal(&self, pid: i32, restart: bool) -> Result {
        {
            let mut procs = lock(&self.0.procs);
            let p = procs.get_mut(pid).ok_or(code::ESRCH)?;
            p.pending = Some(restart);
        }
        self.0.sleepq.signal_pid(pid, restart);
        Ok(())
    }

    /// Clears a pending signal of process `pid` (the signal was "delivered").
    pub fn clear_signal(&self, pid: i32) {
        if let Some(p) = lock(&self.0.procs).get_mut(pid) {
            p.pending = None;
        }
    }

    /// Lines printed by `kprintf`/`pr_*!` on this kernel's console, oldest first: the
    /// newest [`CONSOLE_LINES`] of them (see [`Kernel::set_console_limit`]); older ones are
    /// counted by [`Kernel::console_dropped`].
    pub fn console(&self) -> Vec<String> {
        lock(&self.0.log).to_vec()
    }

    /// Takes the console's lines (as [`Kernel::console`] returns them), leaving it empty:
    /// a caller that reads the console as it goes keeps every line.
    pub fn take_console(&self) -> Vec<String> {
        lock(&self.0.log).take()
    }

    /// How many console lines were let go (the oldest, beyond the limit) since boot.
    pub fn console_dropped(&self) -> u64 {
        lock(&self.0.log).dropped()
    }

    /// Keeps at most `limit` console lines (the oldest beyond it go now).
    pub fn set_console_limit(&self, limit: usize) {
        lock(&self.0.log).set_limit(limit);
    }

    /// Appends a line to the console.
    pub(crate) fn console_push(&self, line: String) {
        lock(&self.0.log).push(line);
    }

    /// Makes the `n`-th allocation from now (n ≥ 1) fail, once: any `KBox`, `KVec`,
    /// `Arc` or mbuf allocation made in this kernel counts. `n == 0` disarms.
    pub fn fail_alloc_nth(&self, n: u64) {
        self.0.faults.arm_nth(n);
    }

    /// Makes every allocation whose call site ends with `site` fail, until
    /// [`Kernel::clear_alloc_faults`]: `site` is matched against `file:line:column`,
    /// `file:line` and `file`, so `"if_tun.rs:210"` names a line of the driver and
    /// `"if_tun.rs"` every allocation in it.
    pub fn fail_alloc_at(&self, site: &str) {
        self.0.faults.arm_site(site);
    }

    /// Disarms every injected allocation failure.
    pub fn clear_alloc_faults(&self) {
        self.0.faults.clear();
    }

    /// Allocations made in this kernel so far (each `KBox`/`KVec` growth/`Arc`/mbuf).
    pub fn alloc_count(&self) -> u64 {
        self.0.faults.count()
    }

    /// Injected failures that fired so far.
    pub fn alloc_failures(&self) -> u64 {
        self.0.faults.fired()
    }

    /// Starts (or stops) recording the call site of every allocation.
    pub fn trace_allocs(&self, on: bool) {
        self.0.faults.trace(on);
    }

    /// The call sites recorded since tracing started, in allocation order.
    pub fn alloc_trace(&self) -> Vec<String> {
        self.0.faults.take_trace()
    }

    /// Whether an allocation at `site` must fail (the door's `alloc_fails`).
    pub(crate) fn alloc_fails(&self, site: &'static Location<'static>) -> bool {
        self.0.faults.fails(site, &self.0.events)
    }
}

/// The context of the calling thread inside a kernel.
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) kernel: Kernel,
    pub(crate) pid: i32,
    pub(crate) tid: u64,
}

#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: RefCell<Vec<Context>> = const { RefCell::new(Vec::new()) };
    static THREAD_TID: u64 = NEXT_TID.fetch_add(1, Ordering::Relaxed);
}

// Under loom the model's threads are not OS threads: their locals are loom's.
#[cfg(loom)]
crate::platform::thread_local! {
    static CURRENT: RefCell<Vec<Context>> = RefCell::new(Vec::new());
    static THREAD_TID: u64 = NEXT_TID.fetch_add(1, Ordering::Relaxed);
}

/// Restores the previous context of the thread when dropped. Not `Send`: it belongs to the
/// thread that entered.
pub struct ContextGuard {
    _priv: (),
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| {
            c.borrow_mut().pop();
        });
    }
}

pub(crate) fn thread_tid() -> u64 {
    THREAD_TID.with(|t| *t)
}

pub(crate) fn new_tid() -> u64 {
    NEXT_TID.fetch_add(1, Ordering::Relaxed)
}

/// The calling thread's context, if it has entered a kernel.
pub(crate) fn current() -> Option<Context> {
    CURRENT.with(|c| c.borrow().last().cloned())
}

/// Runs `f` on the calling thread's context without cloning it (for per-packet paths);
/// `None` outside any kernel.
pub(crate) fn with_current<R>(f: impl FnOnce(&Context) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().last().map(f))
}

/// Runs `f` on the calling thread's context, or on `None` outside any kernel.
pub(crate) fn with_current_or<R>(f: impl FnOnce(Option<&Context>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().last()))
}

/// The calling thread's kernel, if it has entered one.
pub fn current_kernel() -> Option<Kernel> {
    current().map(|c| c.kernel)
}

/// Whether the current process has a signal pending.
pub(crate) fn current_signal_pending() -> bool {
    with_current(|ctx| {
        lock(&ctx.kernel.0.procs)
            .get(ctx.pid)
            .is_some_and(|p| p.pending.is_some())
    })
    .unwrap_or(false)
}

/// A bpf attachment point whose events go to `kernel` (or nowhere, if it is gone).
pub(crate) fn new_bpf(ifname: Arc<str>, kernel: &KernelRef) -> Arc<super::bpf::BpfIf> {
    let events = match kernel.0.upgrade() {
        Some(k) => k.events.clone(),
        None => Arc::new(EventSink::new()),
    };
    Arc::new(super::bpf::BpfIf::new(ifname, events))
}
