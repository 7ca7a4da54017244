//! The kernel instance and the current context.
//!
//! One [`Kernel`] value owns everything a real kernel keeps in globals: the devfs table, the
//! interface list, the netisr queues, the mbuf zone and its accounting, the process table,
//! the sysctl tree, the sleep queues and the event sink. Tests create their own kernel, so
//! `cargo test` runs them in parallel with no shared mutable state.
//!
//! A thread enters a kernel as a process with [`Kernel::enter`]; until the returned
//! [`ContextGuard`] drops, BSD services called on that thread find their kernel, `curproc`
//! and its credentials there (BSD's `curthread`/`curproc`, Rust-for-Linux's `current!()`).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::bsd::cred::Ucred;
use crate::bsd::devfs::Devfs;
use crate::bsd::ifnet::IfnetDyn;
use crate::bsd::mbuf::MbufZone;
use crate::bsd::netisr::Netisr;
use crate::bsd::proc::ProcTable;
use crate::bsd::sleep::SleepQueues;
use crate::bsd::sysctl::SysctlInt;
use crate::error::{code, Result};
use crate::event::Event;
use crate::sync::Mutex;

static NEXT_KERNEL_ID: AtomicU64 = AtomicU64::new(1);
static NEXT_TID: AtomicU64 = AtomicU64::new(1);

/// A kernel instance. Cloning gives another handle to the same kernel.
#[derive(Clone)]
pub struct Kernel(pub(crate) Arc<KernelInner>);

pub(crate) struct KernelInner {
    pub(crate) id: u64,
    pub(crate) mbufs: Arc<MbufZone>,
    pub(crate) devfs: Devfs,
    pub(crate) ifnets: Mutex<Vec<Arc<dyn IfnetDyn>>>,
    pub(crate) netisr: Netisr,
    pub(crate) procs: Mutex<ProcTable>,
    pub(crate) sysctls: Mutex<BTreeMap<String, Arc<SysctlInt>>>,
    pub(crate) sleepq: SleepQueues,
    pub(crate) events: EventSink,
    pub(crate) log: Mutex<Vec<String>>,
}

/// Where events go: recorded in order while recording is on.
pub(crate) struct EventSink {
    on: AtomicBool,
    log: Mutex<Vec<Event>>,
}

impl EventSink {
    pub(crate) fn new() -> Self {
        EventSink {
            on: AtomicBool::new(false),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Records the event built by `f`, if recording is on (`f` is not called otherwise).
    pub(crate) fn emit(&self, f: impl FnOnce() -> Event) {
        if self.on.load(Ordering::Acquire) {
            let e = f();
            self.log.lock().push(e);
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
        let events = EventSink::new();
        let k = Kernel(Arc::new(KernelInner {
            id: NEXT_KERNEL_ID.fetch_add(1, Ordering::Relaxed),
            mbufs: Arc::new(MbufZone::new()),
            devfs: Devfs::new(),
            ifnets: Mutex::new(Vec::new()),
            netisr: Netisr::new(),
            procs: Mutex::new(ProcTable::default()),
            sysctls: Mutex::new(BTreeMap::new()),
            sleepq: SleepQueues::new(),
            events,
            log: Mutex::new(Vec::new()),
        }));
        k.0.mbufs.attach_kernel(Arc::downgrade(&k.0));
        k
    }

    /// A number that identifies this kernel among all kernels of the process.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    pub(crate) fn downgrade(&self) -> Weak<KernelInner> {
        Arc::downgrade(&self.0)
    }

    pub(crate) fn from_weak(w: &Weak<KernelInner>) -> Option<Kernel> {
        w.upgrade().map(Kernel)
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
        self.0.events.on.store(on, Ordering::Release);
    }

    /// Takes every event recorded so far, oldest first.
    pub fn take_events(&self) -> Vec<Event> {
        core::mem::take(&mut *self.0.events.log.lock())
    }

    pub(crate) fn emit(&self, f: impl FnOnce() -> Event) {
        self.0.events.emit(f)
    }

    /// The mbuf zone: accounting, leak checks and failure injection.
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

    /// Every attached interface, in attach order.
    pub fn ifnets(&self) -> Vec<Arc<dyn IfnetDyn>> {
        self.0.ifnets.lock().clone()
    }

    /// The interface named `name` (`ifunit()`).
    pub fn ifunit(&self, name: &str) -> Option<Arc<dyn IfnetDyn>> {
        self.0
            .ifnets
            .lock()
            .iter()
            .find(|i| i.name() == name)
            .cloned()
    }

    /// Looks up an integer sysctl by its dotted name (`"debug.if_tun_debug"`).
    pub fn sysctl(&self, name: &str) -> Option<Arc<SysctlInt>> {
        self.0.sysctls.lock().get(name).cloned()
    }

    /// Creates process `pid` (or changes it) with the given process group, session and uid.
    pub fn proc_set(&self, pid: i32, pgrp: i32, sess: i32, uid: u32) -> Result {
        self.0.procs.lock().set(pid, pgrp, sess, uid)
    }

    /// Process `pid`'s process group, session and uid.
    pub fn proc_info(&self, pid: i32) -> Option<(i32, i32, u32)> {
        self.0
            .procs
            .lock()
            .get(pid)
            .map(|p| (p.pgrp, p.sess, p.uid))
    }

    /// Number of processes.
    pub fn proc_count(&self) -> usize {
        self.0.procs.lock().len()
    }

    /// The credentials of process `pid`.
    pub fn proc_cred(&self, pid: i32) -> Option<Ucred> {
        self.0.procs.lock().get(pid).map(|p| p.cred())
    }

    /// Whether process `pid` exists.
    pub fn proc_exists(&self, pid: i32) -> bool {
        self.0.procs.lock().get(pid).is_some()
    }

    /// The signals delivered to process `pid` so far (by `pgsigio` and `psignal`).
    pub fn proc_signals(&self, pid: i32) -> Vec<i32> {
        self.0
            .procs
            .lock()
            .get(pid)
            .map(|p| p.received.clone())
            .unwrap_or_default()
    }

    /// Marks a signal pending for process `pid`: interruptible sleeps of its threads
    /// (`tsleep` with `PCATCH`, `CondVar::wait_interruptible`) return early.
    pub fn post_signal(&self, pid: i32, restart: bool) -> Result {
        {
            let mut procs = self.0.procs.lock();
            let p = procs.get_mut(pid).ok_or(code::ESRCH)?;
            p.pending = Some(restart);
        }
        self.0.sleepq.signal_pid(self, pid, restart);
        Ok(())
    }

    /// Clears a pending signal of process `pid` (the signal was "delivered").
    pub fn clear_signal(&self, pid: i32) {
        if let Some(p) = self.0.procs.lock().get_mut(pid) {
            p.pending = None;
        }
    }

    /// Lines printed by `kprintf`/`pr_*!` on this kernel's console, oldest first.
    pub fn console(&self) -> Vec<String> {
        self.0.log.lock().clone()
    }
}

/// The context of the calling thread inside a kernel.
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) kernel: Kernel,
    pub(crate) pid: i32,
    pub(crate) tid: u64,
}

std::thread_local! {
    static CURRENT: RefCell<Vec<Context>> = const { RefCell::new(Vec::new()) };
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

/// Runs `f` on the calling thread's kernel without cloning the context (for per-packet
/// paths); `None` outside any kernel.
pub(crate) fn with_current_kernel<R>(f: impl FnOnce(&Kernel) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().last().map(|ctx| f(&ctx.kernel)))
}

/// The calling thread's kernel, if it has entered one.
pub fn current_kernel() -> Option<Kernel> {
    current().map(|c| c.kernel)
}

/// Whether the current process has a signal pending.
pub(crate) fn current_signal_pending() -> bool {
    match current() {
        Some(ctx) => ctx
            .kernel
            .0
            .procs
            .lock()
            .get(ctx.pid)
            .map(|p| p.pending.is_some())
            .unwrap_or(false),
        None => false,
    }
}
