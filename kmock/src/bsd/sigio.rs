// SPDX-License-Identifier: BSD-2-Clause
//! Asynchronous I/O signals (`kern_descrip.c`: `fsetown`, `fgetown`, `funsetown`;
//! `kern_sig.c`: `pgsigio`).
//!
//! BSD semantics mirrored:
//! - `fsetown(pgid, &sigio)`: 0 removes the owner. A positive pgid names a process that must
//!   exist (`ESRCH`) and be in the caller's session (`EPERM`); a negative one names process
//!   group `-pgid` with the same checks. The old owner is removed, then the new one records
//!   the pgid and the caller's credentials.
//! - `fgetown(&sigio)`: the owner's pgid, 0 if none. `funsetown(&sigio)`: removes it.
//! - `pgsigio(&sigio, sig, 0)`: signals the owner process, or every member of the owner
//!   group (ascending pid), each only if the setter is root or has the same uid.

use crate::bsd::cred::Ucred;
use crate::door::{self, Event};
use crate::error::{code, Result};
use crate::sync::Mutex;

/// `SIGIO`.
pub const SIGIO: i32 = 23;

/// `struct sigio`: an owner record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sigio {
    /// The owner: a pid (> 0) or minus a process group id (< 0).
    pub sio_pgid: i32,
    /// The setter's credentials.
    pub sio_ucred: Ucred,
}

/// A `struct sigio *` slot (such as `tun_sigio`), with its own lock (`SIGIO_LOCK`).
#[derive(Default)]
pub struct SigioSlot {
    owner: Mutex<Option<Sigio>>,
}

impl core::fmt::Debug for SigioSlot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("SigioSlot").field(&self.get()).finish()
    }
}

impl SigioSlot {
    /// An empty slot (no owner).
    pub fn new() -> Self {
        SigioSlot {
            owner: Mutex::new(None),
        }
    }

    /// The current owner.
    pub fn get(&self) -> Option<Sigio> {
        *self.owner.lock()
    }
}

fn emit_unset(old: Option<Sigio>) {
    if let Some(o) = old {
        door::emit(|| Event::Funsetown { pgid: o.sio_pgid });
    }
}

/// `funsetown(&sigio)`: removes the owner, if any.
pub fn funsetown(slot: &SigioSlot) {
    let old = slot.owner.lock().take();
    emit_unset(old);
}

/// `fgetown(&sigio)`: the owner (a pid, or minus a process group id), or 0.
pub fn fgetown(slot: &SigioSlot) -> i32 {
    slot.get().map_or(0, |s| s.sio_pgid)
}

/// `fsetown(pgid, &sigio)`: sets the owner to process `pgid` (> 0) or process group
/// `-pgid` (< 0); 0 removes it. `ESRCH` if no such process or group exists, `EPERM` if it
/// is in another session than the caller's.
pub fn fsetown(pgid: i32, slot: &SigioSlot) -> Result {
    if pgid == 0 {
        funsetown(slot);
        return Ok(());
    }
    let cur = door::curproc().ok_or(code::ESRCH)?;
    let me = door::proc_lookup(cur.pid).ok_or(code::ESRCH)?;
    let sess = if pgid > 0 {
        door::proc_lookup(pgid).ok_or(code::ESRCH)?.sess
    } else {
        door::pgrp_session(pgid.checked_neg().ok_or(code::ESRCH)?).ok_or(code::ESRCH)?
    };
    if sess != me.sess {
        return Err(code::EPERM);
    }
    let old = slot.owner.lock().replace(Sigio {
        sio_pgid: pgid,
        sio_ucred: me.cred,
    });
    emit_unset(old);
    Ok(())
}

/// `pgsigio(&sigio, sig, checkctty)`: sends `sig` to the owner process, or to every member
/// of the owner group, that the setter may signal (`CANSIGIO`: root, or the same uid).
pub fn pgsigio(slot: &SigioSlot, sig: i32, _checkctty: i32) {
    let Some(owner) = slot.get() else { return };
    let may =
        |p: &door::ProcInfo| owner.sio_ucred.cr_uid == 0 || owner.sio_ucred.cr_uid == p.cred.cr_uid;
    if owner.sio_pgid > 0 {
        if let Some(p) = door::proc_lookup(owner.sio_pgid) {
            if may(&p) {
                door::psignal(p.pid, sig);
                door::emit(|| Event::Sigio {
                    pid: p.pid,
                    pgrp: None,
                    sig,
                });
            }
        }
    } else {
        let pgrp = owner.sio_pgid.wrapping_neg();
        door::pgrp_members(pgrp, &mut |p| {
            if may(p) {
                door::psignal(p.pid, sig);
                door::emit(|| Event::Sigio {
                    pid: p.pid,
                    pgrp: Some(pgrp),
                    sig,
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kernel;

    #[test]
    fn owners_checks_and_delivery() {
        let k = Kernel::new();
        k.proc_set(100, 100, 1, 0).unwrap();
        k.proc_set(200, 500, 1, 0).unwrap();
        k.proc_set(201, 500, 1, 0).unwrap();
        k.proc_set(300, 300, 2, 0).unwrap();
        let _c = k.enter(100);
        let s = SigioSlot::new();
        assert_eq!(fgetown(&s), 0);
        assert_eq!(fsetown(300, &s), Err(code::EPERM));
        assert_eq!(fsetown(12345, &s), Err(code::ESRCH));
        assert_eq!(fsetown(-999, &s), Err(code::ESRCH));
        fsetown(-500, &s).unwrap();
        assert_eq!(fgetown(&s), -500);
        pgsigio(&s, SIGIO, 0);
        assert_eq!(k.proc_signals(200), vec![SIGIO]);
        assert_eq!(k.proc_signals(201), vec![SIGIO]);
        fsetown(100, &s).unwrap();
        pgsigio(&s, SIGIO, 0);
        assert_eq!(k.proc_signals(100), vec![SIGIO]);
        funsetown(&s);
        assert_eq!(fgetown(&s), 0);
        pgsigio(&s, SIGIO, 0);
        assert_eq!(k.proc_signals(100), vec![SIGIO]);
    }

    #[test]
    fn cansigio_needs_root_or_same_uid() {
        let k = Kernel::new();
        k.proc_set(10, 10, 1, 1000).unwrap();
        k.proc_set(11, 11, 1, 2000).unwrap();
        let _c = k.enter(10);
        let s = SigioSlot::new();
        fsetown(11, &s).unwrap();
        pgsigio(&s, SIGIO, 0);
        assert!(k.proc_signals(11).is_empty());
    }
}
