// SPDX-License-Identifier: BSD-2-Clause
//! Processes, process groups and sessions: the slice of `struct proc` the tun driver and
//! its callers see (`curproc->p_pid`, credentials, the session `fsetown` checks, pending
//! signals).
//!
//! The current process is the one the calling thread entered with
//! [`crate::Kernel::enter`]; [`curproc`] returns it.

use crate::bsd::cred::Ucred;
use crate::door;
pub use crate::door::MAXPROC;

/// What a driver may know of the current process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurProc {
    /// `p_pid`.
    pub p_pid: i32,
    /// `p_ucred`.
    pub p_ucred: Ucred,
}

/// `curproc`: the calling thread's process, or `None` outside any kernel context.
pub fn curproc() -> Option<CurProc> {
    let p = door::curproc()?;
    Some(CurProc {
        p_pid: p.pid,
        p_ucred: p.cred,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kernel;

    #[test]
    fn curproc_follows_the_entered_context() {
        let k = Kernel::new();
        k.proc_set(100, 100, 1, 0).unwrap();
        k.proc_set(200, 500, 1, 1000).unwrap();
        assert!(curproc().is_none());
        let _a = k.enter(100);
        assert_eq!(curproc().unwrap().p_pid, 100);
        {
            let _b = k.enter(200);
            let p = curproc().unwrap();
            assert_eq!((p.p_pid, p.p_ucred.cr_uid), (200, 1000));
        }
        assert_eq!(curproc().unwrap().p_pid, 100);
    }
}
