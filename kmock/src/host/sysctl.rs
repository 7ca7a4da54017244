// SPDX-License-Identifier: BSD-2-Clause
//! The sysctl registry: integer knobs by dotted name (`SYSCTL_INT`).

use core::sync::atomic::{AtomicI32, Ordering};
use std::string::{String, ToString};

/// An integer sysctl (`SYSCTL_INT(_debug, OID_AUTO, if_tun_debug, CTLFLAG_RW, …)`).
#[derive(Debug)]
pub struct SysctlInt {
    name: String,
    descr: String,
    value: AtomicI32,
}

impl SysctlInt {
    pub(crate) fn new(name: &str, init: i32, descr: &str) -> Self {
        SysctlInt {
            name: name.to_string(),
            descr: descr.to_string(),
            value: AtomicI32::new(init),
        }
    }

    /// The dotted name (`debug.if_tun_debug`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The description string.
    pub fn description(&self) -> &str {
        &self.descr
    }

    /// The current value.
    pub fn get(&self) -> i32 {
        self.value.load(Ordering::Relaxed)
    }

    /// Sets the value (`sysctl -w`).
    pub fn set(&self, v: i32) {
        self.value.store(v, Ordering::Relaxed)
    }
}
