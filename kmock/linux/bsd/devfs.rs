// SPDX-License-Identifier: BSD-2-Clause
//! Character devices on Linux: one chrdev region of the module's own; `make_dev` creates
//! `/dev/NAME` for a minor (`device_create`, with the node's owner and mode given by the
//! class's `devnode` hook), the autoclone node `/dev/tun` has minor [`CLONE_MINOR`], and
//! the glue's `file_operations` reach the driver's `dev_ops` through `crate::glue`.
//!
//! Not one misc device per unit: `misc_open` holds `misc_mtx` while it calls open, and an
//! autoclone open registers a unit, which would deadlock.

use core::any::Any;
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use super::cred::Ucred;
use super::kqueue::Knote;
use super::uio::Uio;
use crate::alloc::flags::GFP_KERNEL;
use crate::error::{code, Result};
use crate::sync::{downcast_arc, Arc, Spin};

/// Minors of the region: units 0..`CLONE_MINOR`, then the autoclone node.
pub const NMINORS: u32 = 256;
/// The autoclone node's minor.
pub const CLONE_MINOR: u32 = NMINORS - 1;

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

/// `struct dev_read_args` (and `dev_write_args`).
pub struct DevReadArgs<'a, 'b> {
    /// `a_head.a_dev`.
    pub a_dev: &'a Arc<Cdev>,
    /// `a_uio`.
    pub a_uio: &'a mut Uio<'b>,
    /// `a_ioflag`.
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
    /// `a_data`: the kernel copy of the argument (`IOCPARM_LEN(cmd)` bytes).
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
    /// `a_result`.
    pub a_result: i32,
}

/// `struct dev_clone_args`.
pub struct DevCloneArgs<'a> {
    /// The name opened.
    pub a_name: &'a str,
    /// The unit the handler made.
    pub a_dev: Option<Arc<Cdev>>,
}

/// `struct dev_ops`, as kmock's: every entry point defaults to `ENODEV`.
pub trait DevOps: Send + Sync + 'static {
    /// `d_name`.
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
    /// `d_kqfilter`.
    fn d_kqfilter(&self, _ap: &mut DevKqfilterArgs<'_>) -> Result {
        Err(code::ENODEV)
    }
}

/// The autoclone handler (`d_clone_t`), called with the driver's ops object.
pub type CloneFn<O> = fn(&Arc<O>, &mut DevCloneArgs<'_>) -> Result;

trait CloneHandler: Send + Sync {
    fn clone_unit(&self, ap: &mut DevCloneArgs<'_>) -> Result;
}

struct CloneWith<O: DevOps> {
    ops: Arc<O>,
    f: CloneFn<O>,
}

impl<O: DevOps> CloneHandler for CloneWith<O> {
    fn clone_unit(&self, ap: &mut DevCloneArgs<'_>) -> Result {
        (self.f)(&self.ops, ap)
    }
}

/// A devfs clone bitmap over the region's unit minors.
#[derive(Default)]
pub struct DevfsCloneBitmap {
    bits: Spin<[u64; (NMINORS as usize) / 64]>,
}

impl DevfsCloneBitmap {
    /// An empty bitmap.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `unit` is taken.
    pub fn chk(&self, unit: u32) -> bool {
        unit < CLONE_MINOR && self.bits.lock()[(unit / 64) as usize] & (1 << (unit % 64)) != 0
    }
}

/// `devfs_clone_bitmap_set(bitmap, unit)`.
pub fn devfs_clone_bitmap_set(b: &DevfsCloneBitmap, unit: u32) {
    if unit < CLONE_MINOR {
        b.bits.lock()[(unit / 64) as usize] |= 1 << (unit % 64);
    }
}

/// `devfs_clone_bitmap_put(bitmap, unit)`.
pub fn devfs_clone_bitmap_put(b: &DevfsCloneBitmap, unit: u32) {
    if unit < CLONE_MINOR {
        b.bits.lock()[(unit / 64) as usize] &= !(1 << (unit % 64));
    }
}

/// `devfs_clone_bitmap_get(bitmap, limit)`: the lowest free unit, now taken; `None` when
/// every unit below `limit` (or below the region's units) is taken.
pub fn devfs_clone_bitmap_get(b: &DevfsCloneBitmap, limit: u32) -> Option<u32> {
    let max = if limit == 0 { CLONE_MINOR } else { limit.min(CLONE_MINOR) };
    let mut bits = b.bits.lock();
    let unit = (0..max).find(|&u| bits[(u / 64) as usize] & (1 << (u % 64)) == 0)?;
    bits[(unit / 64) as usize] |= 1 << (unit % 64);
    Some(unit)
}

/// A device node (`cdev_t`).
pub struct Cdev {
    name: [u8; 16],
    name_len: usize,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    ops: Arc<dyn DevOps>,
    clone: Option<Arc<dyn CloneHandler>>,
    drv1: Spin<Option<Arc<dyn Any + Send + Sync>>>,
    open: AtomicBool,
}

impl Cdev {
    /// The node's name.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?")
    }

    /// `minor(dev)`.
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
        downcast_arc::<T>(v).ok()
    }

    /// `dev->si_drv1 = sc`.
    pub fn set_si_drv1<T: Any + Send + Sync>(&self, sc: Arc<T>) {
        let any: Arc<dyn Any + Send + Sync> = sc;
        *self.drv1.lock() = Some(any);
    }

    /// Takes `si_drv1` out, if it is a `T`.
    pub fn take_si_drv1<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let v = self.drv1.lock().take()?;
        match downcast_arc::<T>(v) {
            Ok(t) => Some(t),
            Err(v) => {
                *self.drv1.lock() = Some(v);
                None
            }
        }
    }

    /// Whether a descriptor has it open.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    pub(crate) fn ops(&self) -> &Arc<dyn DevOps> {
        &self.ops
    }

    pub(crate) fn set_open(&self, on: bool) {
        self.open.store(on, Ordering::Release);
    }

    fn has_ops<O: DevOps>(&self, ops: &Arc<O>) -> bool {
        core::ptr::addr_eq(&*self.ops as *const dyn DevOps, &**ops as *const O)
    }
}

/// The nodes, by minor.
static NODES: Spin<[Option<Arc<Cdev>>; NMINORS as usize]> = Spin::new([const { None }; NMINORS as usize]);

/// The node of `minor`, if published.
pub(crate) fn node(minor: u32) -> Option<Arc<Cdev>> {
    NODES.lock().get(minor as usize).cloned().flatten()
}

struct NameBuf {
    buf: [u8; 16],
    pos: usize,
}

impl Write for NameBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // One byte stays 0: the name is also a C string.
        let n = s.len().min(self.buf.len() - 1 - self.pos);
        self.buf[self.pos..self.pos + n].copy_from_slice(&s.as_bytes()[..n]);
        self.pos += n;
        Ok(())
    }
}

fn publish<O: DevOps>(
    ops: &Arc<O>,
    minor: u32,
    (uid, gid, perms): (u32, u32, u32),
    name: fmt::Arguments<'_>,
    clone: Option<Arc<dyn CloneHandler>>,
) -> Result<Arc<Cdev>> {
    if minor >= NMINORS || (clone.is_none() && minor == CLONE_MINOR) {
        return Err(code::ENXIO);
    }
    let mut nb = NameBuf { buf: [0; 16], pos: 0 };
    let _ = nb.write_fmt(name);
    let dyn_ops: Arc<dyn DevOps> = ops.clone();
    let dev = Arc::new(
        Cdev {
            name: nb.buf,
            name_len: nb.pos,
            minor,
            uid,
            gid,
            perms,
            ops: dyn_ops,
            clone,
            drv1: Spin::new(None),
            open: AtomicBool::new(false),
        },
        GFP_KERNEL,
    )?;
    {
        let mut nodes = NODES.lock();
        if nodes[minor as usize].is_some() {
            return Err(code::EBUSY);
        }
        nodes[minor as usize] = Some(dev.clone());
    }
    // SAFETY: the name buffer is NUL-terminated (its last byte is never written).
    let r = unsafe {
        crate::ffi::ktun_device_create(minor, dev.name.as_ptr().cast(), uid, gid, perms)
    };
    if r != 0 {
        NODES.lock()[minor as usize] = None;
        return Err(crate::glue::from_linux_errno(r));
    }
    Ok(dev)
}

/// `make_dev(ops, minor, uid, gid, perms, fmt, ...)`: `/dev/NAME` for unit `minor`.
pub fn make_dev<O: DevOps>(
    ops: &Arc<O>,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    publish(ops, minor, (uid, gid, perms), name, None)
}

/// `make_only_dev(...)`: as [`make_dev`].
pub fn make_only_dev<O: DevOps>(
    ops: &Arc<O>,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    publish(ops, minor, (uid, gid, perms), name, None)
}

/// `make_autoclone_dev(ops, bitmap, clone, ...)`: the autoclone node, minor
/// [`CLONE_MINOR`].
pub fn make_autoclone_dev<O: DevOps>(
    ops: &Arc<O>,
    _bitmap: &Arc<DevfsCloneBitmap>,
    clone: CloneFn<O>,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    let h: Arc<dyn CloneHandler> = Arc::new(CloneWith { ops: ops.clone(), f: clone }, GFP_KERNEL)?;
    publish(ops, CLONE_MINOR, (uid, gid, perms), name, Some(h))
}

/// Runs the autoclone handler of the clone node: the unit an open of it gets.
pub(crate) fn clone_open(dev: &Cdev) -> Result<Arc<Cdev>> {
    let h = dev.clone.as_ref().ok_or(code::ENXIO)?;
    let mut ap = DevCloneArgs { a_name: dev.name(), a_dev: None };
    h.clone_unit(&mut ap)?;
    ap.a_dev.ok_or(code::ENXIO)
}

/// `destroy_dev(dev)`: removes `/dev/NAME` (open descriptors keep the node).
pub fn destroy_dev(dev: &Cdev) {
    let was = NODES.lock()[dev.minor as usize].take();
    if was.is_some() {
        // SAFETY: the minor's device was created by `ktun_device_create`.
        unsafe { crate::ffi::ktun_device_destroy(dev.minor) };
    }
}

/// Calls `f` for every published node made with `ops`.
pub fn dev_ops_foreach<O: DevOps>(ops: &Arc<O>, f: &mut dyn FnMut(&Arc<Cdev>)) {
    for minor in 0..NMINORS {
        // Each node is looked up alone: `f` may destroy it.
        if let Some(d) = node(minor) {
            if d.has_ops(ops) {
                f(&d);
            }
        }
    }
}
