// SPDX-License-Identifier: BSD-2-Clause
//! The threading primitives kmock is built on: std's, or loom's under `--cfg loom`, so that
//! the model checker sees every lock, condition variable and thread-local of the host's
//! locks and sleep queues (`make loom`). A leaf module: both faces and the host use it.

#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};

#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread_local;
#[cfg(loom)]
pub(crate) use std::sync::TryLockError;
