// SPDX-License-Identifier: BSD-2-Clause
//! The kmock prelude, as `kernel::prelude` in Rust-for-Linux 6.12: `use kernel::prelude::*;`
//! brings the error types and codes, the allocation types and flags, the locks, the module
//! traits, `static_assert!` and the printing macros. `Arc` is not in it (as in the kernel:
//! `use kernel::sync::Arc;`).

pub use crate::alloc::{flags::*, AllocError, Flags, KBox, KVec};
pub use crate::error::{code::*, Error, Result};
pub use crate::init::PinInit;
pub use crate::module::{Module, ThisModule};
pub use crate::sync::{CondVar, Mutex, SpinLock};
pub use crate::{
    module, new_condvar, new_mutex, new_spinlock, pr_debug, pr_err, pr_info, pr_warn, static_assert,
};
