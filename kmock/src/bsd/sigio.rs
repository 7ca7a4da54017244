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

use alloc::vec::Vec;

use crate::bsd::cred::Ucred;
use crate::error::{code, Result};
use crate::event::Event;
use crate::kernel::{current, Kernel};
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
    pub const fn new() -> Self {
        SigioSlot {
            owner: Mutex::new(None),
        }
    }

    /// The current owner.
    pub fn get(&self) -> Option<Sigio> {
        *self.owner.lock()
    }
}

fn emit_unset(k: Option<&Kernel>, old: Option<Sigio>) {
    if let (Some(k), Some(o)) = (k, old) {
        k.emit(|| Event::Funsetown { pgid: o.sio_pgid });
    }
}

/// `funsetown(&sigio)`: removes the owner, if any.
pub fn funsetown(slot: &SigioSlot) {
    let old = slot.owner.lock().take();
    emit_unset(current().map(|c| c.kernel).as_ref(), old);
}

/// `fgetown(&sigio)`: the owner's pgid, 0 if none.
pub fn fgetown(slot: &SigioSlot) -> i32 {
    slot.get().map_or(0, |s| s.sio_pgid)
}

/// `fsetown(pgid, &sigio)`: sets the owner on behalf of the current process.
pub fn fsetown(pgid: i32, slot: &SigioSlot) -> Result {
    if pgid == 0 {
        funsetown(slot);
        return Ok(());
    }
    let ctx = current().ok_or(code::ESRCH)?;
    let k = ctx.kernel.clone();
    let cred;
    {
        let procs = k.0.procs.lock();
        let me = procs.get(ctx.pid).ok_or(code::ESRCH)?;
        cred = me.cred();
        let sess = if pgid > 0 {
            procs.get(pgid).ok_or(code::ESRCH)?.sess
        } else {
            procs
                .pgrp_session(pgid.checked_neg().ok_or(code::ESRCH)?)
                .ok_or(code::ESRCH)?
        };
        if sess != me.sess {
            return Err(code::EPERM);
        }
    }
    let old = slot.owner.lock().replace(Sigio {
        sio_pgid: pgid,
        sio_ucred: cred,
    });
    emit_unset(Some(&k), old);
    Ok(())
}

/// `pgsigio(&sigio, sig, checkctty)`: sends `sig` to the owner.
pub fn pgsigio(slot: &SigioSlot, sig: i32, _checkctty: i32) {
    let Some(owner) = slot.get() else { return };
    let Some(k) = current().map(|c| c.kernel) else {
        return;
    };
    let mut sent: Vec<(i32, Option<i32>)> = Vec::new();
    {
        let mut procs = k.0.procs.lock();
        let targets: Vec<i32> = if owner.sio_pgid > 0 {
            alloc::vec![owner.sio_pgid]
        } else {
            procs.pgrp_members(owner.sio_pgid.wrapping_neg())
        };
        for pid in targets {
            if let Some(p) = procs.get_mut(pid) {
                // CANSIGIO: the setter is root or has the target's uid.
                if owner.sio_ucred.cr_uid == 0 || owner.sio_ucred.cr_uid == p.uid {
                    p.received.push(sig);
                    let grp = (owner.sio_pgid < 0).then(|| owner.sio_pgid.wrapping_neg());
                    sent.push((pid, grp));
                }
            }
        }
    }
    for (pid, pgrp) in sent {
        k.emit(|| Event::Sigio { pid, pgrp, sig });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
