//! The kmock prelude, as `kernel::prelude` in Rust-for-Linux: `use kernel::prelude::*;`
//! brings the error types, the errno codes, the allocation types, the locks, the module
//! traits and the printing macros.

pub use alloc::{boxed::Box, string::String, sync::Arc, vec::Vec};

pub use crate::error::{code::*, Error, Result};
pub use crate::module::{Module, ThisModule};
pub use crate::sync::{CondVar, Mutex, SpinLock};
pub use crate::{module, new_condvar, new_mutex, new_spinlock, pr_debug, pr_err, pr_info, pr_warn};
