//! Integer sysctl knobs (`SYSCTL_INT`), such as `debug.if_tun_debug`.
//!
//! A knob is registered in the current kernel's tree under its dotted name and read or
//! written through the returned handle (by the driver) or by name (by an administrator:
//! [`crate::Kernel::sysctl`]).

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicI32, Ordering};

/// An integer sysctl (`CTLFLAG_RW`).
#[derive(Debug)]
pub struct SysctlInt {
    name: String,
    descr: String,
    value: AtomicI32,
}

impl SysctlInt {
    /// The dotted name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.descr
    }

    /// Reads the value.
    pub fn get(&self) -> i32 {
        self.value.load(Ordering::Relaxed)
    }

    /// Writes the value.
    pub fn set(&self, v: i32) {
        self.value.store(v, Ordering::Relaxed)
    }
}

/// `SYSCTL_INT(parent, OID_AUTO, name, CTLFLAG_RW, &var, init, descr)`: registers (or finds,
/// if already registered) the knob `name` in the current kernel. Outside a kernel context
/// the knob is created unregistered.
#[doc(alias = "SYSCTL_INT")]
pub fn sysctl_int(name: &str, init: i32, descr: &str) -> Arc<SysctlInt> {
    let make = || {
        Arc::new(SysctlInt {
            name: name.to_string(),
            descr: descr.to_string(),
            value: AtomicI32::new(init),
        })
    };
    match crate::kernel::current_kernel() {
        Some(k) => {
            k.0.sysctls
                .lock()
                .entry(name.to_string())
                .or_insert_with(make)
                .clone()
        }
        None => make(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kernel;

    #[test]
    fn registered_knob_is_shared() {
        let k = Kernel::new();
        let _g = k.enter(1);
        let a = sysctl_int("debug.x", 0, "x");
        let b = sysctl_int("debug.x", 5, "x");
        a.set(7);
        assert_eq!(b.get(), 7);
        assert_eq!(k.sysctl("debug.x").unwrap().get(), 7);
        assert_eq!(a.name(), "debug.x");
    }
}
