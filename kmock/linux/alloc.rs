// SPDX-License-Identifier: BSD-2-Clause
//! `kernel::alloc`: the real one.

pub use kernel::alloc::{flags, AllocError, Flags, KBox, KVec};

impl From<AllocError> for crate::error::Error {
    fn from(_: AllocError) -> Self {
        crate::error::code::ENOMEM
    }
}
