// SPDX-License-Identifier: BSD-2-Clause
//! `curproc`: the current task.

use super::cred::Ucred;

/// What the driver reads of `curproc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CurProc {
    /// `p_pid`: the thread group id.
    pub p_pid: i32,
    /// `p_ucred`: effective uid and gid.
    pub p_ucred: Ucred,
}

/// `curproc`: the current task (always present in process context).
pub fn curproc() -> Option<CurProc> {
    let (uid, gid) = crate::ffi::current_cred();
    Some(CurProc {
        p_pid: crate::ffi::current_pid(),
        p_ucred: Ucred { cr_uid: uid, cr_gid: gid },
    })
}
