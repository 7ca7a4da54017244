// SPDX-License-Identifier: BSD-2-Clause
//! Integer sysctl knobs (`SYSCTL_INT`), such as `debug.if_tun_debug`.
//!
//! A knob is registered in the current kernel's tree under its dotted name and read or
//! written through the returned handle (by the driver) or by name (by an administrator:
//! [`crate::Kernel::sysctl`]).

use core::panic::Location;

use crate::alloc::AllocError;
use crate::door;
pub use crate::door::SysctlInt;
use crate::sync::Arc;

/// `SYSCTL_INT(parent, OID_AUTO, name, CTLFLAG_RW, &var, init, descr)`: registers (or finds,
/// if already registered) the knob `name` in the current kernel. Outside a kernel context
/// the knob is created unregistered.
#[doc(alias = "SYSCTL_INT")]
#[track_caller]
pub fn sysctl_int(name: &str, init: i32, descr: &str) -> Result<Arc<SysctlInt>, AllocError> {
    if door::alloc_fails(Location::caller(), core::mem::size_of::<SysctlInt>()) {
        return Err(AllocError);
    }
    Ok(Arc::from_std(door::sysctl_int(name, init, descr)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kernel;

    #[test]
    fn registered_knob_is_shared() {
        let k = Kernel::new();
        let _g = k.enter(1);
        let a = sysctl_int("debug.x", 0, "x").unwrap();
        let b = sysctl_int("debug.x", 5, "x").unwrap();
        a.set(7);
        assert_eq!(b.get(), 7);
        assert_eq!(k.sysctl("debug.x").unwrap().get(), 7);
        assert_eq!(a.name(), "debug.x");
    }
}
