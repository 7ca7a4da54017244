// SPDX-License-Identifier: BSD-2-Clause
//! SIGIO ownership: the driver's own owner logic (`fsetown`/`fgetown`/`funsetown`/
//! `pgsigio`), delivered with `kill_pid`/`kill_pgrp`. Linux has no sessions check here
//! (docs/kernel.md); an owner must exist (`ESRCH`).

use super::cred::Ucred;
use crate::error::{code, Result};
use crate::sync::Spin;

/// `SIGIO`, Linux's number (29; DragonFly's is 23).
pub const SIGIO: i32 = 29;

/// `struct sigio`: an owner record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sigio {
    /// The owner: a pid (> 0) or minus a process group id (< 0).
    pub sio_pgid: i32,
    /// The setter's credentials.
    pub sio_ucred: Ucred,
}

/// A `struct sigio *` slot.
#[derive(Default)]
pub struct SigioSlot {
    owner: Spin<Option<Sigio>>,
}

impl SigioSlot {
    /// No owner.
    pub const fn new() -> Self {
        SigioSlot { owner: Spin::new(None) }
    }

    /// The owner, if any.
    pub fn get(&self) -> Option<Sigio> {
        *self.owner.lock()
    }
}

/// `funsetown(&sigio)`.
pub fn funsetown(slot: &SigioSlot) {
    slot.owner.lock().take();
}

/// `fgetown(&sigio)`: the owner, or 0.
pub fn fgetown(slot: &SigioSlot) -> i32 {
    slot.get().map_or(0, |s| s.sio_pgid)
}

/// `fsetown(pgid, &sigio)`: `ESRCH` if no such process (> 0) or group (< 0); 0 clears.
pub fn fsetown(pgid: i32, slot: &SigioSlot) -> Result {
    if pgid == 0 {
        funsetown(slot);
        return Ok(());
    }
    let exists = if pgid > 0 {
        crate::ffi::pid_exists(pgid)
    } else {
        pgid.checked_neg().is_some_and(crate::ffi::pgrp_exists)
    };
    if !exists {
        return Err(code::ESRCH);
    }
    let (uid, gid) = crate::ffi::current_cred();
    *slot.owner.lock() = Some(Sigio { sio_pgid: pgid, sio_ucred: Ucred { cr_uid: uid, cr_gid: gid } });
    Ok(())
}

/// `pgsigio(&sigio, sig, checkctty)`: signals the owner (Linux checks the permission).
pub fn pgsigio(slot: &SigioSlot, sig: i32, _checkctty: i32) {
    let Some(owner) = slot.get() else { return };
    if owner.sio_pgid > 0 {
        crate::ffi::kill_pid(owner.sio_pgid, sig);
    } else {
        crate::ffi::kill_pgrp(owner.sio_pgid.wrapping_neg(), sig);
    }
}
