// SPDX-License-Identifier: BSD-2-Clause
//! Character devices and devfs (`sys/conf.h`, `sys/device.h`, `kern/kern_device.c`,
//! `vfs/devfs`).
//!
//! BSD semantics mirrored:
//! - A driver describes its entry points as a `struct dev_ops` ([`DevOps`]: `d_open`,
//!   `d_close`, `d_read`, `d_write`, `d_ioctl`, `d_kqfilter`; each has a default, as a
//!   Rust-for-Linux `#[vtable]` trait has, that answers `ENODEV`). Each entry point takes
//!   its `struct dev_*_args` ([`DevOpenArgs`], …).
//! - `make_dev(ops, minor, uid, gid, perms, name)` creates a node; `si_drv1` is the driver's
//!   slot for its softc ([`Cdev::si_drv1`]).
//! - `make_autoclone_dev(ops, bitmap, clone, uid, gid, perms, name)` creates a node whose
//!   opening calls the clone handler, which creates a new unit (`make_only_dev`) chosen from a
//!   clone bitmap (`devfs_clone_bitmap_get` returns and sets the lowest clear bit).
//! - Opening a node: lookup (`ENOENT`), clone (for an autoclone node; the unit stays
//!   allocated even if the open then fails), the vnode permission check against
//!   uid/gid/mode (`EACCES`; root always passes), then `d_open` with the opener's
//!   credentials. The descriptor ([`File`]) reads, writes, ioctls and registers knotes; its
//!   last close detaches its knotes, then calls `d_close`. The last close is the last
//!   reference's: a call still running on the file (a read asleep in `tsleep`) keeps it
//!   open after `close`, and `d_close` runs when that call returns.
//! - The generic ioctl layer handles the command `FIONBIO` itself (the descriptor's
//!   non-blocking flag, passed to reads and writes as `IO_NDELAY`) and passes everything
//!   else to `d_ioctl` with an argument buffer of `IOCPARM_LEN(cmd)` bytes
//!   ([`File::ioctl`]); [`File::driver_ioctl_as`] passes any number straight to `d_ioctl`.
//!
//! The node table and the open files are the host's (`host::devfs`); this module is the
//! API: the driver-facing types and functions, and the trampolines (the [`NodeOps`] of a
//! [`Cdev`]) through which the host reaches the driver.

use core::any::Any;
use core::fmt;
use core::panic::Location;
use std::boxed::Box;
use std::string::String;
use std::sync::Arc as StdArc;
use std::vec::Vec;

use super::cred::Ucred;
use super::kqueue::Knote;
use super::uio::Uio;
use crate::door::{self, NodeEntry};
pub use crate::door::{Devfs, File, NodeOps};
use crate::error::{code, Error, Result};
use crate::sync::{Arc, Mutex};

/// `struct dev_open_args`.
pub struct DevOpenArgs<'a> {
    /// `a_head.a_dev`.
    pub a_dev: &'a Arc<Cdev>,
    /// `a_oflags`.
    pub a_oflags: i32,
    /// `a_devtype`.
    pub a_devtype: i32,
    /// `a_cred`.
    pub a_cred: &'a Ucred,
}

/// `struct dev_close_args`.
pub struct DevCloseArgs<'a> {
    /// `a_head.a_dev`.
    pub a_dev: &'a Arc<Cdev>,
    /// `a_fflag`.
    pub a_fflag: i32,
    /// `a_devtype`.
    pub a_devtype: i32,
}

/// `struct dev_read_args`.
pub struct DevReadArgs<'a, 'b> {
    /// `a_head.a_dev`.
    pub a_dev: &'a Arc<Cdev>,
    /// `a_uio`.
    pub a_uio: &'a mut Uio<'b>,
    /// `a_ioflag` (`IO_NDELAY`, …).
    pub a_ioflag: i32,
}

/// `struct dev_write_args`.
pub type DevWriteArgs<'a, 'b> = DevReadArgs<'a, 'b>;

/// `struct dev_ioctl_args`.
pub struct DevIoctlArgs<'a> {
    /// `a_head.a_dev`.
    pub a_dev: &'a Arc<Cdev>,
    /// `a_cmd`.
    pub a_cmd: u32,
    /// `a_data`: the argument buffer, `IOCPARM_LEN(a_cmd)` bytes (at least 4 for `_IO`).
    pub a_data: &'a mut [u8],
    /// `a_fflag`.
    pub a_fflag: i32,
    /// `a_cred`.
    pub a_cred: &'a Ucred,
}

/// `struct dev_kqfilter_args`.
pub struct DevKqfilterArgs<'a> {
    /// `a_head.a_dev`.
    pub a_dev: &'a Arc<Cdev>,
    /// `a_kn`.
    pub a_kn: &'a Arc<Knote>,
    /// `a_result`: 0, or the errno the registration fails with.
    pub a_result: i32,
}

/// `struct dev_clone_args`.
pub struct DevCloneArgs<'a> {
    /// The name being opened (`a_name`).
    pub a_name: &'a str,
    /// `a_dev`: the device the handler created.
    pub a_dev: Option<Arc<Cdev>>,
}

/// `struct dev_ops`: a driver's character-device entry points. Every method has a default
/// answering `ENODEV`, so a driver implements only what it supports.
pub trait DevOps: Send + Sync + 'static {
    /// The device name (`d_name` of the `dev_ops` head).
    fn d_name(&self) -> &'static str;
    /// `d_open`.
    fn d_open(&self, _ap: &mut DevOpenArgs<'_>) -> Result {
        Err(code::ENODEV)
    }
    /// `d_close`.
    fn d_close(&self, _ap: &mut DevCloseArgs<'_>) -> Result {
        Err(code::ENODEV)
    }
    /// `d_read`.
    fn d_read(&self, _ap: &mut DevReadArgs<'_, '_>) -> Result {
        Err(code::ENODEV)
    }
    /// `d_write`.
    fn d_write(&self, _ap: &mut DevWriteArgs<'_, '_>) -> Result {
        Err(code::ENODEV)
    }
    /// `d_ioctl`.
    fn d_ioctl(&self, _ap: &mut DevIoctlArgs<'_>) -> Result {
        Err(code::ENODEV)
    }
    /// `d_kqfilter`: sets `a_result` to refuse a filter.
    fn d_kqfilter(&self, _ap: &mut DevKqfilterArgs<'_>) -> Result {
        Err(code::ENODEV)
    }
}

/// The autoclone handler (`d_clone_t`): called with the driver's ops object.
pub type CloneFn<O> = fn(&Arc<O>, &mut DevCloneArgs<'_>) -> Result;

type ErasedClone = StdArc<dyn Fn(&mut DevCloneArgs<'_>) -> Result + Send + Sync>;

/// A devfs clone bitmap (`DEVFS_DECLARE_CLONE_BITMAP`).
#[derive(Default)]
pub struct DevfsCloneBitmap {
    bits: Mutex<Vec<bool>>,
}

/// The most units a clone bitmap hands out.
pub const DEVFS_CLONE_MAX: u32 = 65536;

impl DevfsCloneBitmap {
    /// An empty bitmap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether unit `unit` is taken.
    pub fn chk(&self, unit: u32) -> bool {
        self.bits
            .lock()
            .get(unit as usize)
            .copied()
            .unwrap_or(false)
    }
}

/// `devfs_clone_bitmap_set(bitmap, unit)`.
pub fn devfs_clone_bitmap_set(b: &DevfsCloneBitmap, unit: u32) {
    let mut v = b.bits.lock();
    let i = unit as usize;
    if v.len() <= i {
        v.resize(i + 1, false);
    }
    v[i] = true;
}

/// `devfs_clone_bitmap_put(bitmap, unit)`: frees a unit.
pub fn devfs_clone_bitmap_put(b: &DevfsCloneBitmap, unit: u32) {
    if let Some(x) = b.bits.lock().get_mut(unit as usize) {
        *x = false;
    }
}

/// `devfs_clone_bitmap_get(bitmap, limit)`: takes and returns the lowest free unit
/// (`limit` 0 means no limit below [`DEVFS_CLONE_MAX`]); `None` when all are taken.
pub fn devfs_clone_bitmap_get(b: &DevfsCloneBitmap, limit: u32) -> Option<u32> {
    let max = if limit == 0 {
        DEVFS_CLONE_MAX
    } else {
        limit.min(DEVFS_CLONE_MAX)
    };
    let mut v = b.bits.lock();
    let unit = (0..max).find(|&i| !v.get(i as usize).copied().unwrap_or(false))?;
    let i = unit as usize;
    if v.len() <= i {
        v.resize(i + 1, false);
    }
    v[i] = true;
    Some(unit)
}

/// A device node (`struct cdev`, `cdev_t`).
pub struct Cdev {
    name: String,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    ops: Arc<dyn DevOps>,
    clone: Option<ErasedClone>,
    drv1: Mutex<Option<Arc<dyn Any + Send + Sync>>>,
    open: Mutex<bool>,
}

impl fmt::Debug for Cdev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cdev")
            .field("name", &self.name)
            .field("minor", &self.minor)
            .finish()
    }
}

impl Cdev {
    /// The node's name (`devtoname(dev)`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `minor(dev)`: the unit number.
    pub fn minor(&self) -> u32 {
        self.minor
    }

    /// Owner uid, group gid and permission bits.
    pub fn perms(&self) -> (u32, u32, u32) {
        (self.uid, self.gid, self.perms)
    }

    /// `dev->si_drv1`, if set and of type `T`.
    pub fn si_drv1<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let v = self.drv1.lock().clone()?;
        v.downcast::<T>().ok()
    }

    /// `dev->si_drv1` whatever its type.
    pub fn si_drv1_any(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        self.drv1.lock().clone()
    }

    /// `dev->si_drv1 = sc`.
    pub fn set_si_drv1<T: Any + Send + Sync>(&self, sc: Arc<T>) {
        *self.drv1.lock() = Some(sc.into_any());
    }

    /// Takes `si_drv1` out of the node (`dev->si_drv1 = NULL`), if it is a `T`.
    pub fn take_si_drv1<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let mut slot = self.drv1.lock();
        let v = slot.take()?;
        match v.downcast::<T>() {
            Ok(t) => Some(t),
            Err(v) => {
                *slot = Some(v);
                None
            }
        }
    }

    /// Whether a descriptor has it open.
    pub fn is_open(&self) -> bool {
        *self.open.lock()
    }

    /// Whether this node was made by `make_dev*` with `ops`.
    pub fn has_ops<O: DevOps>(&self, ops: &Arc<O>) -> bool {
        core::ptr::addr_eq(Arc::as_ptr(&self.ops), Arc::as_ptr(ops))
    }
}

/// The host's view of a node: the trampolines from the node table to the driver.
struct CdevNode {
    dev: Arc<Cdev>,
}

impl NodeOps for CdevNode {
    fn clone_unit(&self, name: &str) -> Result<StdArc<NodeEntry>> {
        let clone = self.dev.clone.as_ref().ok_or(code::ENXIO)?;
        let mut ap = DevCloneArgs {
            a_name: name,
            a_dev: None,
        };
        clone(&mut ap)?;
        let nd = ap.a_dev.ok_or(code::ENXIO)?;
        door::devfs_node(nd.name()).ok_or(code::ENXIO)
    }

    fn open(&self, oflags: i32, cred: &Ucred) -> Result {
        let dev = &self.dev;
        dev.ops.d_open(&mut DevOpenArgs {
            a_dev: dev,
            a_oflags: oflags,
            a_devtype: 0,
            a_cred: cred,
        })?;
        *dev.open.lock() = true;
        Ok(())
    }

    fn close(&self) -> Result {
        let dev = &self.dev;
        *dev.open.lock() = false;
        dev.ops.d_close(&mut DevCloseArgs {
            a_dev: dev,
            a_fflag: 0,
            a_devtype: 0,
        })
    }

    fn read(&self, uio: &mut Uio<'_>, ioflag: i32) -> Result {
        self.dev.ops.d_read(&mut DevReadArgs {
            a_dev: &self.dev,
            a_uio: uio,
            a_ioflag: ioflag,
        })
    }

    fn write(&self, uio: &mut Uio<'_>, ioflag: i32) -> Result {
        self.dev.ops.d_write(&mut DevWriteArgs {
            a_dev: &self.dev,
            a_uio: uio,
            a_ioflag: ioflag,
        })
    }

    fn ioctl(&self, cmd: u32, data: &mut [u8], cred: &Ucred) -> Result {
        self.dev.ops.d_ioctl(&mut DevIoctlArgs {
            a_dev: &self.dev,
            a_cmd: cmd,
            a_data: data,
            a_fflag: 0,
            a_cred: cred,
        })
    }

    fn detach_knote(&self, kn: Box<dyn Any + Send + Sync>) {
        if let Ok(kn) = kn.downcast::<Arc<Knote>>() {
            kn.detach();
        }
    }
}

fn publish<O: DevOps>(
    site: &'static Location<'static>,
    ops: &Arc<O>,
    minor: u32,
    (uid, gid, perms): (u32, u32, u32),
    name: fmt::Arguments<'_>,
    clone: Option<ErasedClone>,
) -> Result<Arc<Cdev>> {
    if door::alloc_fails(site, core::mem::size_of::<Cdev>()) {
        return Err(code::ENOMEM);
    }
    let is_clone = clone.is_some();
    let dyn_ops: StdArc<dyn DevOps> = ops.as_std().clone();
    let dev = Arc::from_std(StdArc::new(Cdev {
        name: std::format!("{name}"),
        minor,
        uid,
        gid,
        perms,
        ops: Arc::from_std(dyn_ops),
        clone,
        drv1: Mutex::new(None),
        open: Mutex::new(false),
    }));
    let node = StdArc::new(CdevNode { dev: dev.clone() });
    door::devfs_publish(NodeEntry {
        name: String::from(dev.name()),
        perms: (uid, gid, perms),
        is_clone,
        ops: node.clone(),
        obj: node,
    })?;
    Ok(dev)
}

/// `make_dev(ops, minor, uid, gid, perms, fmt, ...)`: creates and publishes a node.
/// `EBUSY` if the name exists, `ENXIO` outside a kernel context, `ENOMEM` if the node's
/// allocation fails.
#[track_caller]
pub fn make_dev<O: DevOps>(
    ops: &Arc<O>,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    publish(
        Location::caller(),
        ops,
        minor,
        (uid, gid, perms),
        name,
        None,
    )
}

/// `make_only_dev(...)`: as [`make_dev`] (DragonFly skips devfs's own cloning
/// bookkeeping; the node is the same).
#[track_caller]
pub fn make_only_dev<O: DevOps>(
    ops: &Arc<O>,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    publish(
        Location::caller(),
        ops,
        minor,
        (uid, gid, perms),
        name,
        None,
    )
}

/// `make_autoclone_dev(ops, bitmap, clone, uid, gid, perms, fmt, ...)`: an autoclone node;
/// opening it runs `clone` (with `ops`), which picks a unit from `bitmap` and makes it.
#[track_caller]
pub fn make_autoclone_dev<O: DevOps>(
    ops: &Arc<O>,
    bitmap: &Arc<DevfsCloneBitmap>,
    clone: CloneFn<O>,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    let _ = bitmap;
    let o = ops.clone();
    let f: ErasedClone = StdArc::new(move |ap: &mut DevCloneArgs<'_>| clone(&o, ap));
    publish(Location::caller(), ops, 0, (uid, gid, perms), name, Some(f))
}

/// `destroy_dev(dev)`: removes the node from devfs (open descriptors keep it).
pub fn destroy_dev(dev: &Cdev) {
    door::devfs_remove(dev.name());
}

/// Calls `f` for every published node made with `ops`, in name order (what
/// `dev_ops_remove_all(ops)` walks).
pub fn dev_ops_foreach<O: DevOps>(ops: &Arc<O>, f: &mut dyn FnMut(&Arc<Cdev>)) {
    door::devfs_foreach(&mut |obj| {
        if let Some(node) = obj.downcast_ref::<CdevNode>() {
            if node.dev.has_ops(ops) {
                f(&node.dev);
            }
        }
    });
}

/// `dev_ops_remove_all(ops)`: destroys every node made with `ops`.
pub fn dev_ops_remove_all<O: DevOps>(ops: &Arc<O>) {
    let mut names: Vec<String> = Vec::new();
    dev_ops_foreach(ops, &mut |d| names.push(String::from(d.name())));
    for n in &names {
        door::devfs_remove(n);
    }
}

/// Typed lookups in the host's node table.
impl Devfs {
    /// The node named `name`.
    pub fn lookup(&self, name: &str) -> Option<Arc<Cdev>> {
        let e = self.lookup_entry(name)?;
        e.obj.downcast_ref::<CdevNode>().map(|n| n.dev.clone())
    }
}

/// The device side of an open file.
impl File {
    /// The device node the file is open on.
    pub fn dev(&self) -> Arc<Cdev> {
        match self.entry().obj.downcast_ref::<CdevNode>() {
            Some(n) => n.dev.clone(),
            // Every node in the table is a CdevNode (only `publish` creates entries).
            None => unreachable!("devfs entry without a Cdev"),
        }
    }

    /// `kevent(EV_ADD)`: attaches `kn` through the driver's `d_kqfilter`; returns the
    /// filter's first answer. A refused filter's `a_result` becomes the error.
    pub fn kqfilter(&self, kn: &Arc<Knote>) -> Result<bool> {
        let _r = self.hold()?;
        let _c = self.ctx()?;
        let dev = self.dev();
        let mut ap = DevKqfilterArgs {
            a_dev: &dev,
            a_kn: kn,
            a_result: 0,
        };
        dev.ops.d_kqfilter(&mut ap)?;
        if ap.a_result != 0 {
            return Err(Error::from_errno(ap.a_result));
        }
        self.push_knote(kn.id(), Box::new(kn.clone()));
        Ok(kn.check(0))
    }

    /// `kevent(EV_DELETE)`: detaches the knote `id` attached through this file; `ENOENT`
    /// if none is, `ENXIO` once the file is closed.
    pub fn kqdel(&self, id: u64) -> Result {
        let _r = self.hold()?;
        let _c = self.ctx()?;
        let kn = self.take_knote(id).ok_or(code::ENOENT)?;
        if let Ok(kn) = kn.downcast::<Arc<Knote>>() {
            kn.detach();
        }
        Ok(())
    }

    /// The knotes attached through this file, in attach order.
    pub fn knotes(&self) -> Vec<Arc<Knote>> {
        let mut v = Vec::new();
        self.for_each_knote(&mut |k| {
            if let Some(kn) = k.downcast_ref::<Arc<Knote>>() {
                v.push(kn.clone());
            }
        });
        v
    }
}
