// SPDX-License-Identifier: BSD-2-Clause
//! The driver's module trait. The real `module!` (license, `init_module`, `THIS_MODULE`)
//! lives in the root crate `if_tun_main`, which calls [`Module::init`] and drops the
//! module at unload; the driver's own `module!` invocation expands to nothing here.

use crate::error::Result;

/// The driver's view of `THIS_MODULE` (metadata lives in the root crate's `module!`).
pub struct ThisModule {
    _priv: (),
}

static THIS: ThisModule = ThisModule { _priv: () };

/// `THIS_MODULE` for [`Module::init`].
pub fn this() -> &'static ThisModule {
    &THIS
}

/// A loadable module, as kmock's `kernel::module::Module`.
pub trait Module: Sized + Send + Sync {
    /// Called once at load time.
    fn init(module: &'static ThisModule) -> Result<Self>;
}

/// The driver's `module!`: the metadata is declared by the root crate's real `module!`.
#[macro_export]
macro_rules! module {
    ($($t:tt)*) => {};
}
