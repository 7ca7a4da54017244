// SPDX-License-Identifier: BSD-2-Clause
//! The prelude the driver sees as `kernel::prelude`: as kmock's.

pub use crate::alloc::{flags::*, AllocError, Flags, KBox, KVec};
pub use crate::error::{code::*, Error, Result};
pub use crate::init::PinInit;
pub use crate::module::{Module, ThisModule};
pub use crate::sync::{CondVar, Mutex, SpinLock};
pub use kernel::{new_condvar, new_mutex, new_spinlock, pr_debug, pr_err, pr_info, pr_warn};
pub use kernel::static_assert;
pub use crate::module;
