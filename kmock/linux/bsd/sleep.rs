// SPDX-License-Identifier: BSD-2-Clause
//! `tsleep`/`wakeup` on Linux wait queues: the wait channel's address picks one of the
//! glue's hashed wait queues. `tsleep` queues the task (`prepare_to_wait`), *then* drops
//! the interlock, then schedules, as kmock's host does: a `wakeup` by a holder of the same
//! lock cannot be lost.

use core::ffi::c_void;

use crate::bsd::errno::ERESTART;
use crate::error::Result;

/// `PCATCH`: a signal interrupts the sleep.
pub const PCATCH: i32 = 0x100;

/// The address of `ident`, used as a wait channel.
pub fn chan<T: ?Sized>(ident: &T) -> usize {
    (ident as *const T).cast::<()>() as usize
}

unsafe extern "C" fn release<L>(arg: *mut c_void) {
    // SAFETY: `arg` is the `&mut Option<L>` that `tsleep` passed to `ktun_sleep`, which
    // calls this once, while `tsleep`'s frame (and so the option) is live.
    let slot = unsafe { &mut *(arg as *mut Option<L>) };
    drop(slot.take());
}

/// `tsleep(ident, flags, wmesg, timo)` with an interlock, dropped once the task is on the
/// wait queue. Returns `ERESTART` when a signal is pending (the system call is restarted or
/// fails with `EINTR` as the signal's `SA_RESTART` says), `Ok` when woken.
pub fn tsleep<T: ?Sized, L>(
    ident: &T,
    _flags: i32,
    _wmesg: &'static str,
    _timo: i32,
    interlock: L,
) -> Result {
    let mut slot = Some(interlock);
    // SAFETY: `release::<L>` matches the type behind the pointer, and `slot` outlives the
    // call (the glue calls `release` before it returns).
    let r = unsafe {
        crate::ffi::ktun_sleep(chan(ident) as _, release::<L>, &mut slot as *mut Option<L> as *mut c_void)
    };
    drop(slot);
    if r != 0 {
        Err(ERESTART)
    } else {
        Ok(())
    }
}

/// `wakeup(ident)`: wakes every task sleeping (or polling) on `ident`. Linux does not say
/// how many it woke; this returns 0.
pub fn wakeup<T: ?Sized>(ident: &T) -> usize {
    crate::ffi::wakeup(chan(ident));
    0
}
