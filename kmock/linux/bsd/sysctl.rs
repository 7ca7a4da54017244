// SPDX-License-Identifier: BSD-2-Clause
//! `SYSCTL_INT`: an integer knob shared by every user of its name. Linux has no sysctl
//! tree for modules to hang `debug.if_tun_debug` on; the knob is the driver's `TUNSDEBUG`/
//! `TUNGDEBUG` state only (docs/kernel.md).

use core::sync::atomic::{AtomicI32, Ordering};

use crate::alloc::{flags::GFP_KERNEL, AllocError};
use crate::sync::{Arc, Spin};

/// An integer sysctl.
pub struct SysctlInt {
    name: [u8; 32],
    len: usize,
    value: AtomicI32,
}

impl SysctlInt {
    /// The dotted name.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.len]).unwrap_or("")
    }

    /// The current value.
    pub fn get(&self) -> i32 {
        self.value.load(Ordering::Relaxed)
    }

    /// Sets the value.
    pub fn set(&self, v: i32) {
        self.value.store(v, Ordering::Relaxed)
    }
}

static KNOBS: Spin<[Option<Arc<SysctlInt>>; 4]> = Spin::new([const { None }; 4]);

/// Registers `name` with `init`, or returns the knob already registered under it.
pub fn sysctl_int(name: &str, init: i32, _descr: &str) -> Result<Arc<SysctlInt>, AllocError> {
    {
        let knobs = KNOBS.lock();
        if let Some(k) = knobs.iter().flatten().find(|k| k.name() == name) {
            return Ok(k.clone());
        }
    }
    let mut n = [0u8; 32];
    let len = name.len().min(32);
    n[..len].copy_from_slice(&name.as_bytes()[..len]);
    let k = Arc::new(SysctlInt { name: n, len, value: AtomicI32::new(init) }, GFP_KERNEL)?;
    let mut knobs = KNOBS.lock();
    if let Some(old) = knobs.iter().flatten().find(|k| k.name() == name) {
        return Ok(old.clone());
    }
    if let Some(slot) = knobs.iter_mut().find(|s| s.is_none()) {
        *slot = Some(k.clone());
    }
    Ok(k)
}

/// Drops every registered knob (module unload).
pub fn clear() {
    let mut knobs = KNOBS.lock();
    for k in knobs.iter_mut() {
        *k = None;
    }
}
