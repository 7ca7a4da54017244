// SPDX-License-Identifier: BSD-2-Clause
//! devfs on the host: the table of device nodes (open files are [`super::file`]).
//!
//! The host calls driver code only through [`NodeOps`], a table of functions per node that
//! the API fills (`bsd::devfs` implements it for its `Cdev`, dispatching to the driver's
//! `dev_ops`), as the kernel calls a `cdevsw` and Rust-for-Linux's `miscdevice` fills a
//! `file_operations`.

use core::any::Any;
use std::boxed::Box;
use std::collections::BTreeMap;
use std::fmt;
use std::string::String;
use std::sync::Arc;

use crate::platform::Mutex;
use std::vec::Vec;

use super::sync::lock;
use crate::bsd::cred::Ucred;
use crate::bsd::uio::Uio;
use crate::error::{code, Result};

/// The entry points of one device node, as the host calls them.
pub trait NodeOps: Send + Sync {
    /// The autoclone handler of an autoclone node: creates (and publishes) the unit an
    /// open of `name` gets.
    fn clone_unit(&self, _name: &str) -> Result<Arc<NodeEntry>> {
        Err(code::ENXIO)
    }
    /// `d_open`.
    fn open(&self, oflags: i32, cred: &Ucred) -> Result;
    /// `d_close` (the last close).
    fn close(&self) -> Result;
    /// `d_read`.
    fn read(&self, uio: &mut Uio<'_>, ioflag: i32) -> Result;
    /// `d_write`.
    fn write(&self, uio: &mut Uio<'_>, ioflag: i32) -> Result;
    /// `d_ioctl`.
    fn ioctl(&self, cmd: u32, data: &mut [u8], cred: &Ucred) -> Result;
    /// Detaches a knote the file attached (`f_detach`), at close.
    fn detach_knote(&self, kn: Box<dyn Any + Send + Sync>);
}

/// A device node in the table.
pub struct NodeEntry {
    /// The node's name (`tun0`).
    pub name: String,
    /// Owner uid, group gid, permission bits.
    pub perms: (u32, u32, u32),
    /// Whether opening it runs the autoclone handler.
    pub is_clone: bool,
    /// The entry points.
    pub ops: Arc<dyn NodeOps>,
    /// The API's object for the node (its `Cdev`), for typed lookups.
    pub obj: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for NodeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeEntry")
            .field("name", &self.name)
            .finish()
    }
}

/// The device filesystem of one kernel.
pub struct Devfs {
    nodes: Mutex<BTreeMap<String, Arc<NodeEntry>>>,
}

impl Devfs {
    pub(crate) fn new() -> Self {
        Devfs {
            nodes: Mutex::new(BTreeMap::new()),
        }
    }

    /// The node named `name`.
    pub fn lookup_entry(&self, name: &str) -> Option<Arc<NodeEntry>> {
        lock(&self.nodes).get(name).cloned()
    }

    /// Every node's name, sorted.
    pub fn names(&self) -> Vec<String> {
        lock(&self.nodes).keys().cloned().collect()
    }

    pub(crate) fn insert(&self, e: NodeEntry) -> Result<Arc<NodeEntry>> {
        let mut n = lock(&self.nodes);
        if n.contains_key(&e.name) {
            return Err(code::EBUSY);
        }
        let e = Arc::new(e);
        n.insert(e.name.clone(), e.clone());
        Ok(e)
    }

    pub(crate) fn remove(&self, name: &str) {
        lock(&self.nodes).remove(name);
    }

    pub(crate) fn entries(&self) -> Vec<Arc<NodeEntry>> {
        lock(&self.nodes).values().cloned().collect()
    }
}
