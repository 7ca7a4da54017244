// SPDX-License-Identifier: BSD-2-Clause
//! Host locking helper.

use crate::platform::{Mutex, MutexGuard};

/// Locks a host mutex, taking over a poisoned one (a kernel lock has no poisoning).
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
