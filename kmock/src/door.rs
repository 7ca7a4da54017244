// SPDX-License-Identifier: BSD-2-Clause
//! The door: every function and type the API (the Rust-for-Linux face and [`crate::bsd`])
//! needs from an implementation, and the only place the API reaches one.
//!
//! This is kmock's `bindings`: above it, the API is written once; below it, an
//! implementation provides these items. The host implementation is [`crate::host`]; a
//! kernel-side implementation provides the same list on top of Linux. Nothing in the API
//! names `crate::host` except through here, and nothing in `host` names the API's service
//! modules (only the leaf vocabulary: errno, `uaccess`, `uio`, `cred`, `socket`, `ioccom`,
//! `ifdefs`, `param`).
//!
//! | service | what the implementation provides |
//! |---|---|
//! | allocation | [`alloc_fails`] |
//! | mbufs | [`mbuf_alloc`], [`mbuf_env_tag`], [`with_mbuf_zone`], [`MbufTag`], [`MbufSlot`], [`MbufZone`] (its free list: [`MbufZone::freer`]) |
//! | events | [`emit`], [`Event`] |
//! | console | [`console_print`] |
//! | context | [`current_kernel_ref`], [`KernelRef`], [`Kernel`], [`ContextGuard`] |
//! | processes | [`curproc`], [`proc_lookup`], [`pgrp_session`], [`pgrp_members`], [`psignal`], [`signal_pending`] |
//! | sleep | [`tsleep`], [`wakeup`] |
//! | netisr | [`netisr_queue`], [`in_kernel`], [`Netisr`] |
//! | devfs | [`devfs_publish`], [`devfs_node`], [`devfs_foreach`], [`devfs_remove`], [`NodeOps`], [`NodeEntry`], [`File`], [`Devfs`] |
//! | ifnet | [`ifnet_attach`], [`ifnet_detach`], [`IfHost`], [`ifioctl`] |
//! | bpf | [`bpf_new`], [`BpfIf`] |
//! | sysctl | [`sysctl_int`], [`SysctlInt`] |
//! | modules | [`module_init`] |

use core::any::Any;
use core::panic::Location;
use std::boxed::Box;
use std::sync::Arc as StdArc;

use crate::error::Result;
use crate::host;

pub use host::bpf::{BpfIf, BpfListener};
pub use host::devfs::{Devfs, NodeEntry, NodeOps};
pub use host::event::Event;
pub use host::file::File;
pub use host::ifnet::{IfHost, IfIoctlArg};
pub use host::kernel::{ContextGuard, Kernel, KernelRef};
pub use host::mbuf::{MbufFreer, MbufSlot, MbufStorage, MbufTag, MbufZone};
pub use host::netisr::{AnyHandler, Netisr, Packet, NETISR_MAX, NETISR_QLEN};
pub use host::proc::{ProcInfo, MAXPROC};
pub use host::sysctl::SysctlInt;

// ---- allocation

/// Whether the allocation at `site` must fail (the current kernel's failure plan).
pub fn alloc_fails(site: &'static Location<'static>, _size: usize) -> bool {
    host::kernel::with_current(|c| c.kernel.alloc_fails(site)).unwrap_or(false)
}

// ---- mbufs

/// Allocates an mbuf slot in the current kernel's zone (or `like`'s outside any kernel) for
/// allocator `what` (`"m_gethdr"`, `"m_get"`, `"m_prepend"`, `"m_pullup"`, named in the
/// failure event) called at `site`: free storage to reuse or a fresh tag; `None` if an
/// injected failure fires or there is no zone. (The kernel side's `mbuf_alloc` takes no
/// `what` and returns a tag: it has no failure events and no free list of its own.)
pub fn mbuf_alloc(
    what: &'static str,
    hdr: bool,
    like: Option<&MbufTag>,
    site: &'static Location<'static>,
) -> Option<MbufSlot> {
    match host::kernel::with_current(|c| c.kernel.0.mbufs.alloc(what, hdr, site)) {
        Some(slot) => slot,
        None => like?.zone().alloc(what, hdr, site),
    }
}

/// Runs `f` with the current kernel's zone (`None` outside any kernel), without touching
/// reference counts: how a freed chain finds the zone it most likely returns to.
pub fn with_mbuf_zone<R>(f: impl FnOnce(Option<&StdArc<MbufZone>>) -> R) -> R {
    host::kernel::with_current_or(|c| f(c.map(|c| &c.kernel.0.mbufs)))
}

/// A slot from `zone` for an environment allocation (never fails).
pub fn mbuf_env_tag(zone: &StdArc<MbufZone>) -> MbufSlot {
    zone.get()
}

// ---- events and console

/// Records an event in the current kernel (`f` runs only if recording is on).
pub fn emit(f: impl FnOnce() -> Event) {
    host::kernel::with_current(|c| c.kernel.emit(f));
}

/// Prints a console line at `level` (`pr_*!`, `kprintf`).
pub fn console_print(level: &str, args: core::fmt::Arguments<'_>) {
    host::console::print(level, args)
}

// ---- context

/// A handle on the current kernel (empty outside any).
pub fn current_kernel_ref() -> KernelRef {
    host::kernel::with_current(|c| c.kernel.downgrade()).unwrap_or_default()
}

// ---- processes and signals

/// `curproc`: the current process's id and credentials.
pub fn curproc() -> Option<ProcInfo> {
    host::entry::curproc()
}

/// Process `pid`, if it exists.
pub fn proc_lookup(pid: i32) -> Option<ProcInfo> {
    host::entry::lookup(pid)
}

/// The session of process group `pgrp`, if it has a member.
pub fn pgrp_session(pgrp: i32) -> Option<i32> {
    host::entry::pgrp_session(pgrp)
}

/// Calls `f` for each member of process group `pgrp`.
pub fn pgrp_members(pgrp: i32, f: &mut dyn FnMut(&ProcInfo)) {
    host::entry::pgrp_members(pgrp, f)
}

/// Delivers signal `sig` to process `pid` (`psignal`).
pub fn psignal(pid: i32, sig: i32) {
    host::entry::psignal(pid, sig)
}

/// Whether the current process has a signal pending.
pub fn signal_pending() -> bool {
    host::kernel::current_signal_pending()
}

// ---- sleep and wakeup

/// Sleeps on `ident`, releasing `interlock` once queued (`tsleep`/`lksleep`).
pub fn tsleep<L>(ident: usize, catch: bool, wmesg: &'static str, interlock: L) -> Result {
    host::entry::tsleep(ident, catch, wmesg, interlock)
}

/// Wakes every sleeper on `ident`; returns how many.
pub fn wakeup(ident: usize) -> usize {
    host::entry::wakeup(ident)
}

// ---- netisr

/// Hands a packet to protocol `num`'s queue in the current kernel.
pub fn netisr_queue(num: u32, pkt: Box<dyn Any + Send>) -> Result {
    host::kernel::with_current_or(|c| match c {
        Some(c) => c.kernel.0.netisr.queue(num, pkt),
        None => Err(crate::error::code::ENXIO),
    })
}

/// Whether the calling thread is inside a kernel.
pub fn in_kernel() -> bool {
    host::kernel::with_current(|_| ()).is_some()
}

// ---- devfs

/// Publishes a device node in the current kernel.
pub fn devfs_publish(entry: NodeEntry) -> Result<StdArc<NodeEntry>> {
    host::entry::devfs_publish(entry)
}

/// The node named `name` in the current kernel.
pub fn devfs_node(name: &str) -> Option<StdArc<NodeEntry>> {
    host::entry::devfs_node(name)
}

/// Calls `f` with the API object of every node of the current kernel.
pub fn devfs_foreach(f: &mut dyn FnMut(&(dyn Any + Send + Sync))) {
    host::entry::devfs_foreach(f)
}

/// Removes the node named `name` from the current kernel (`destroy_dev`).
pub fn devfs_remove(name: &str) {
    host::entry::devfs_remove(name)
}

// ---- ifnet

/// Puts an interface on the current kernel's list; returns its index.
pub fn ifnet_attach(ops: StdArc<dyn IfHost>, obj: StdArc<dyn Any + Send + Sync>) -> u32 {
    host::entry::ifnet_attach(ops, obj)
}

/// Takes interface `index` off the list (`if_detach`).
pub fn ifnet_detach(kernel: &KernelRef, index: u32) {
    host::entry::ifnet_detach(kernel, index)
}

/// The generic ifioctl layer (`ifioctl()`/`in_control()`).
pub fn ifioctl(
    ifp: &dyn IfHost,
    cmd: u32,
    arg: IfIoctlArg,
    cred: &crate::bsd::cred::Ucred,
) -> Result<std::string::String> {
    host::ifnet::ifioctl(ifp, cmd, arg, cred)
}

// ---- bpf

/// A bpf attachment point for interface `ifname` (not attached until `bpfattach`).
pub fn bpf_new(ifname: StdArc<str>, kernel: &KernelRef) -> StdArc<BpfIf> {
    host::kernel::new_bpf(ifname, kernel)
}

// ---- sysctl

/// Registers (or finds) integer sysctl `name` in the current kernel.
pub fn sysctl_int(name: &str, init: i32, descr: &str) -> StdArc<SysctlInt> {
    host::entry::sysctl_register(name, init, descr)
}

// ---- modules

/// Runs a module's init inside `kernel` as the kernel itself (pid 0).
pub fn module_init<R>(kernel: &Kernel, init: impl FnOnce() -> R) -> R {
    host::module::run_init(kernel, init)
}
