// SPDX-License-Identifier: BSD-2-Clause
//! Module registration, as `kernel::Module` and `module!` in Rust-for-Linux (and BSD's
//! `PSEUDO_SET`/`DECLARE_MODULE`).
//!
//! A driver declares its module type with [`module!`](crate::module!); loading it into a
//! kernel ([`load`]) runs [`Module::init`] inside that kernel's context, the way a kernel
//! runs a pseudo-device's attach routine at boot. Dropping the returned [`LoadedModule`]
//! unloads it (DragonFly's tun cannot be unloaded; its module type then simply keeps its
//! registrations alive).

use crate::door::Kernel;
use crate::error::Result;

/// What `module!` records about a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The module's name.
    pub name: &'static str,
    /// Its author.
    pub author: &'static str,
    /// A one-line description.
    pub description: &'static str,
    /// Its license.
    pub license: &'static str,
}

/// `THIS_MODULE`: handed to [`Module::init`]. One per module (its metadata), shared by
/// every kernel that loads it, as a module's structure is one per module image.
pub struct ThisModule {
    info: ModuleInfo,
}

impl ThisModule {
    /// The module's metadata.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }
}

/// The `THIS_MODULE` of each module loaded so far: made once per module (by its metadata)
/// and kept for the program's life, so that loading a module again allocates nothing.
fn this_module(info: ModuleInfo) -> &'static ThisModule {
    static MODULES: std::sync::Mutex<std::vec::Vec<&'static ThisModule>> =
        std::sync::Mutex::new(std::vec::Vec::new());
    let mut all = MODULES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = all.iter().find(|t| t.info == info) {
        return t;
    }
    let t: &'static ThisModule = std::boxed::Box::leak(std::boxed::Box::new(ThisModule { info }));
    all.push(t);
    t
}

/// A loadable module.
pub trait Module: Sized + Send + Sync {
    /// Called once at load time, inside the loading kernel's context.
    fn init(module: &'static ThisModule) -> Result<Self>;
}

/// A module type together with its `module!` metadata.
pub trait ModuleMeta: Module {
    /// The metadata `module!` declared.
    const INFO: ModuleInfo;
}

/// A loaded module; dropping it unloads the module.
pub struct LoadedModule<M: Module> {
    /// `Some` until the module unloads (in `drop`).
    module: Option<M>,
    info: ModuleInfo,
    this: &'static ThisModule,
    kernel: Kernel,
}

impl<M: Module> Drop for LoadedModule<M> {
    /// Unloads: the module's own `Drop` (its teardown) runs inside the kernel.
    fn drop(&mut self) {
        let _ctx = self.kernel.enter(0);
        drop(self.module.take());
    }
}

impl<M: Module> LoadedModule<M> {
    /// The module's state.
    pub fn get(&self) -> &M {
        match &self.module {
            Some(m) => m,
            // Only `drop` empties it.
            None => unreachable!("LoadedModule used after unload"),
        }
    }

    /// The module's metadata.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// The `THIS_MODULE` its `init` was given.
    pub fn this(&self) -> &'static ThisModule {
        self.this
    }
}

/// Loads module `M` into `kernel` (as the kernel itself, pid 0).
pub fn load<M: ModuleMeta>(kernel: &Kernel) -> Result<LoadedModule<M>> {
    let this = this_module(M::INFO);
    let module = crate::door::module_init(kernel, || M::init(this))?;
    Ok(LoadedModule {
        module: Some(module),
        info: M::INFO,
        this,
        kernel: kernel.clone(),
    })
}

/// Declares a module, as Rust-for-Linux's `module!`:
///
/// ```
/// use kmock::prelude::*;
///
/// struct Hello;
///
/// impl kmock::module::Module for Hello {
///     fn init(_module: &'static ThisModule) -> Result<Self> {
///         pr_info!("hello\n");
///         Ok(Hello)
///     }
/// }
///
/// kmock::module! {
///     type: Hello,
///     name: "hello",
///     author: "A. Porter",
///     description: "Says hello",
///     license: "Dual BSD/GPL",
/// }
///
/// let k = kmock::Kernel::new();
/// let m = kmock::module::load::<Hello>(&k).unwrap();
/// assert_eq!(m.info().name, "hello");
/// assert_eq!(k.console(), vec!["hello".to_string()]);
/// ```
#[macro_export]
macro_rules! module {
    (type: $t:ty, name: $name:literal, author: $author:literal, description: $descr:literal, license: $lic:literal $(,)?) => {
        impl $crate::module::ModuleMeta for $t {
            const INFO: $crate::module::ModuleInfo = $crate::module::ModuleInfo {
                name: $name,
                author: $author,
                description: $descr,
                license: $lic,
            };
        }
    };
}
