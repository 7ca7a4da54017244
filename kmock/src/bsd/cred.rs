// SPDX-License-Identifier: BSD-2-Clause
//! Credentials and privilege checks (`sys/priv.h`, `kern_priv.c`).
//!
//! DragonFly's `priv_check_cred(cred, PRIV_ROOT, 0)` succeeds for uid 0 and fails with
//! `EPERM` otherwise (jails are not modelled).

use crate::error::{code, Result};

/// `PRIV_ROOT`: "catch-all" root privilege.
pub const PRIV_ROOT: i32 = 1;
/// `UID_UUCP`, the owner of `/dev/tun*`.
pub const UID_UUCP: u32 = 66;
/// `GID_DIALER`, the group of `/dev/tun*`.
pub const GID_DIALER: u32 = 68;

/// A process's credentials (`struct ucred`): the fields the tun driver's callers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ucred {
    /// Effective user id.
    pub cr_uid: u32,
    /// Effective group id.
    pub cr_gid: u32,
}

/// `priv_check_cred(cred, priv, flags)`: 0 for root, `EPERM` for anyone else.
pub fn priv_check_cred(cred: &Ucred, _priv: i32, _flags: i32) -> Result {
    // Root holds every privilege; nobody else holds any (no jails, no capabilities).
    if cred.cr_uid == 0 {
        Ok(())
    } else {
        Err(code::EPERM)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_passes_others_get_eperm() {
        let root = Ucred::default();
        let uucp = Ucred {
            cr_uid: UID_UUCP,
            cr_gid: GID_DIALER,
        };
        assert_eq!(priv_check_cred(&root, PRIV_ROOT, 0), Ok(()));
        assert_eq!(priv_check_cred(&uucp, PRIV_ROOT, 0), Err(code::EPERM));
    }
}
