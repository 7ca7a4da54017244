// SPDX-License-Identifier: BSD-2-Clause
//! The C glue's functions (`glue.c`), and safe wrappers for the ones without preconditions.

use core::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};

/// An interface's output trampoline: `(ctx, packet, len, ethertype) -> 0 or -errno`.
pub type OutFn = unsafe extern "C" fn(*const c_void, *const u8, c_uint, u16) -> c_int;
/// An interface's address trampoline: `(ctx, up, local, peer)` (addresses network order).
pub type AddrFn = unsafe extern "C" fn(*const c_void, c_int, u32, u32);
/// An interface's up/down trampoline: `(ctx, up)`.
pub type FlagFn = unsafe extern "C" fn(*const c_void, c_int);
/// A sleeper's interlock release: `(arg)`, called once queued.
pub type UnlockFn = unsafe extern "C" fn(*mut c_void);

extern "C" {
    pub fn ktun_glue_init(nminors: c_uint) -> c_int;
    pub fn ktun_glue_exit();
    pub fn ktun_device_create(minor: c_uint, name: *const c_char, uid: c_uint, gid: c_uint, mode: c_uint) -> c_int;
    pub fn ktun_device_destroy(minor: c_uint);
    pub fn ktun_poll_wait(file: *mut c_void, ident: c_ulong, pt: *mut c_void);
    pub fn ktun_sleep(ident: c_ulong, unlock: UnlockFn, arg: *mut c_void) -> c_int;
    pub fn ktun_wakeup(ident: c_ulong);
    pub fn ktun_current_pid() -> c_int;
    pub fn ktun_current_euid() -> c_uint;
    pub fn ktun_current_egid() -> c_uint;
    pub fn ktun_pid_exists(pid: c_int) -> c_int;
    pub fn ktun_pgrp_exists(pgrp: c_int) -> c_int;
    pub fn ktun_kill_pid(pid: c_int, sig: c_int) -> c_int;
    pub fn ktun_kill_pgrp(pgrp: c_int, sig: c_int) -> c_int;
    pub fn ktun_preempt_disable();
    pub fn ktun_preempt_enable();
    pub fn ktun_netdev_alloc(name: *const c_char) -> *mut c_void;
    pub fn ktun_netdev_register(dev: *mut c_void, ctx: *const c_void, out: OutFn, addr: AddrFn, flag: FlagFn) -> c_int;
    pub fn ktun_netdev_unregister(dev: *mut c_void);
    pub fn ktun_netdev_free(dev: *mut c_void);
    pub fn ktun_netdev_close(dev: *mut c_void);
    pub fn ktun_netdev_set_mtu(dev: *mut c_void, mtu: c_uint);
    pub fn ktun_rx_alloc(dev: *mut c_void, len: c_uint, data: *mut *mut u8) -> *mut c_void;
    pub fn ktun_rx(skb: *mut c_void, dev: *mut c_void, proto: u16) -> c_int;
    pub fn ktun_printk(level: c_int, text: *const u8, len: c_uint);
}

/// Disables preemption (`preempt_disable()`).
pub fn preempt_off() {
    // SAFETY: `preempt_disable` has no precondition; it is paired with `preempt_on`.
    unsafe { ktun_preempt_disable() }
}

/// Re-enables preemption (`preempt_enable()`).
pub fn preempt_on() {
    // SAFETY: called only after `preempt_off` (by `SpinGuard::drop`).
    unsafe { ktun_preempt_enable() }
}

/// `task_tgid_vnr(current)`.
pub fn current_pid() -> i32 {
    // SAFETY: no precondition; reads the current task.
    unsafe { ktun_current_pid() }
}

/// The current task's effective uid and gid, in its user namespace.
pub fn current_cred() -> (u32, u32) {
    // SAFETY: no precondition; reads the current task's credentials.
    unsafe { (ktun_current_euid(), ktun_current_egid()) }
}

/// Wakes every sleeper (and poller) on wait channel `ident`.
pub fn wakeup(ident: usize) {
    // SAFETY: no precondition: `ident` only selects a hash bucket.
    unsafe { ktun_wakeup(ident as c_ulong) }
}

/// Whether process `pid` exists (in the caller's pid namespace).
pub fn pid_exists(pid: i32) -> bool {
    // SAFETY: no precondition.
    unsafe { ktun_pid_exists(pid) != 0 }
}

/// Whether process group `pgrp` has a member.
pub fn pgrp_exists(pgrp: i32) -> bool {
    // SAFETY: no precondition.
    unsafe { ktun_pgrp_exists(pgrp) != 0 }
}

/// `kill_pid(find_vpid(pid), sig, 1)`.
pub fn kill_pid(pid: i32, sig: i32) {
    // SAFETY: no precondition; an unknown pid is ignored by the glue.
    unsafe {
        ktun_kill_pid(pid, sig);
    }
}

/// `kill_pgrp(find_vpid(pgrp), sig, 1)`.
pub fn kill_pgrp(pgrp: i32, sig: i32) {
    // SAFETY: as `kill_pid`.
    unsafe {
        ktun_kill_pgrp(pgrp, sig);
    }
}

/// Prints `text` with `printk` at `level` (6 = info).
pub fn printk(level: i32, text: &[u8]) {
    // SAFETY: `text` is valid for `len` bytes; the glue prints it with "%.*s".
    unsafe { ktun_printk(level, text.as_ptr(), text.len() as c_uint) }
}

/// Unused-import silencer for types only some targets use.
pub type Long = c_long;
