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
//!   last close detaches its knotes, then calls `d_close`.
//! - The generic ioctl layer handles `FIONBIO` itself (the descriptor's non-blocking flag,
//!   passed to reads and writes as `IO_NDELAY`) and passes everything else to `d_ioctl`
//!   with an argument buffer of `IOCPARM_LEN(cmd)` bytes.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use super::cred::Ucred;
use super::ioccom::{data_i32, FIONBIO, IOCPARM_LEN};
use super::kqueue::Knote;
use super::uio::{Uio, IO_NDELAY};
use crate::error::{code, Error, Result};
use crate::event::Event;
use crate::kernel::{current, Kernel, KernelInner};
use crate::sync::Mutex;

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

/// A clone handler (`d_clone_t`).
pub type CloneFn = Arc<dyn Fn(&mut DevCloneArgs<'_>) -> Result + Send + Sync>;

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
    clone: Option<(CloneFn, Arc<DevfsCloneBitmap>)>,
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
    /// The node's name (`tun0`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `minor(dev)` / `lminor(dev)`: the unit.
    pub fn minor(&self) -> u32 {
        self.minor
    }

    /// Owner, group and permission bits.
    pub fn perms(&self) -> (u32, u32, u32) {
        (self.uid, self.gid, self.perms)
    }

    /// `dev->si_drv1`, downcast to the driver's softc type.
    pub fn si_drv1<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let v = self.drv1.lock().clone()?;
        v.downcast::<T>().ok()
    }

    /// `dev->si_drv1`, untyped.
    pub fn si_drv1_any(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        self.drv1.lock().clone()
    }

    /// `dev->si_drv1 = sc`.
    pub fn set_si_drv1(&self, sc: Arc<dyn Any + Send + Sync>) {
        *self.drv1.lock() = Some(sc);
    }

    /// Whether a descriptor is open on the node.
    pub fn is_open(&self) -> bool {
        *self.open.lock()
    }
}

/// The device filesystem of one kernel.
pub struct Devfs {
    nodes: Mutex<BTreeMap<String, Arc<Cdev>>>,
}

impl Devfs {
    pub(crate) fn new() -> Self {
        Devfs {
            nodes: Mutex::new(BTreeMap::new()),
        }
    }

    /// Looks a node up by name.
    pub fn lookup(&self, name: &str) -> Option<Arc<Cdev>> {
        self.nodes.lock().get(name).cloned()
    }

    /// Every node name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.nodes.lock().keys().cloned().collect()
    }

    fn insert(&self, dev: Arc<Cdev>) -> Result<Arc<Cdev>> {
        let mut n = self.nodes.lock();
        if n.contains_key(&dev.name) {
            return Err(code::EBUSY);
        }
        n.insert(dev.name.clone(), dev.clone());
        Ok(dev)
    }
}

fn new_cdev(
    ops: &Arc<dyn DevOps>,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
    clone: Option<(CloneFn, Arc<DevfsCloneBitmap>)>,
) -> Arc<Cdev> {
    Arc::new(Cdev {
        name: format!("{name}"),
        minor,
        uid,
        gid,
        perms,
        ops: ops.clone(),
        clone,
        drv1: Mutex::new(None),
        open: Mutex::new(false),
    })
}

fn cur_kernel() -> Result<Kernel> {
    current().map(|c| c.kernel).ok_or(code::ENXIO)
}

/// `make_dev(ops, minor, uid, gid, perms, fmt, ...)`: creates and publishes a node in the
/// current kernel. `EBUSY` if the name exists, `ENXIO` outside a kernel context.
pub fn make_dev(
    ops: &Arc<dyn DevOps>,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    let k = cur_kernel()?;
    k.0.devfs
        .insert(new_cdev(ops, minor, uid, gid, perms, name, None))
}

/// `make_only_dev(...)`: as [`make_dev`]; in devfs the clone path publishes the node.
pub fn make_only_dev(
    ops: &Arc<dyn DevOps>,
    minor: u32,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    make_dev(ops, minor, uid, gid, perms, name)
}

/// `make_autoclone_dev(ops, bitmap, clone, uid, gid, perms, fmt, ...)`.
pub fn make_autoclone_dev(
    ops: &Arc<dyn DevOps>,
    bitmap: &Arc<DevfsCloneBitmap>,
    clone: CloneFn,
    uid: u32,
    gid: u32,
    perms: u32,
    name: fmt::Arguments<'_>,
) -> Result<Arc<Cdev>> {
    let k = cur_kernel()?;
    k.0.devfs.insert(new_cdev(
        ops,
        0,
        uid,
        gid,
        perms,
        name,
        Some((clone, bitmap.clone())),
    ))
}

/// An open descriptor on a device node.
pub struct File {
    kernel: Weak<KernelInner>,
    dev: Arc<Cdev>,
    pid: i32,
    nonblock: AtomicBool,
    knotes: Mutex<Vec<Arc<Knote>>>,
    closed: AtomicBool,
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("dev", &self.dev.name).finish()
    }
}

fn access_ok(dev: &Cdev, cred: &Ucred) -> bool {
    if cred.cr_uid == 0 {
        return true;
    }
    // Read and write are both requested (O_RDWR).
    let need = 0o6;
    let bits = if cred.cr_uid == dev.uid {
        (dev.perms >> 6) & 7
    } else if cred.cr_gid == dev.gid {
        (dev.perms >> 3) & 7
    } else {
        dev.perms & 7
    };
    bits & need == need
}

impl Kernel {
    /// `open("/dev/NAME", O_RDWR)` by process `pid`: lookup, clone, permission check,
    /// `d_open`. Returns the descriptor.
    pub fn dev_open(&self, name: &str, pid: i32) -> Result<File> {
        let _ctx = self.enter(pid);
        let cred = self.proc_cred(pid).ok_or(code::ESRCH)?;
        let mut dev = self.0.devfs.lookup(name).ok_or(code::ENOENT)?;
        if let Some((clone, _)) = &dev.clone {
            let mut ap = DevCloneArgs {
                a_name: name,
                a_dev: None,
            };
            clone(&mut ap)?;
            let nd = ap.a_dev.ok_or(code::ENXIO)?;
            let (node, newname) = (dev.name.clone(), nd.name.clone());
            self.emit(|| Event::Clone { node, dev: newname });
            dev = nd;
        }
        if !access_ok(&dev, &cred) {
            return Err(code::EACCES);
        }
        let ops = dev.ops.clone();
        ops.d_open(&mut DevOpenArgs {
            a_dev: &dev,
            a_oflags: 0,
            a_devtype: 0,
            a_cred: &cred,
        })?;
        *dev.open.lock() = true;
        Ok(File {
            kernel: self.downgrade(),
            dev,
            pid,
            nonblock: AtomicBool::new(false),
            knotes: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        })
    }
}

impl File {
    /// The device node.
    pub fn dev(&self) -> &Arc<Cdev> {
        &self.dev
    }

    /// The opener's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether `FIONBIO` made the descriptor non-blocking.
    pub fn nonblock(&self) -> bool {
        self.nonblock.load(Ordering::SeqCst)
    }

    fn kernel(&self) -> Result<Kernel> {
        Kernel::from_weak(&self.kernel).ok_or(code::ENXIO)
    }

    fn ctx(&self) -> Result<Option<crate::kernel::ContextGuard>> {
        let k = self.kernel()?;
        Ok(match current() {
            Some(c) if c.kernel.id() == k.id() => None,
            _ => Some(k.enter(self.pid)),
        })
    }

    fn check_open(&self) -> Result {
        if self.closed.load(Ordering::SeqCst) {
            Err(code::ENXIO)
        } else {
            Ok(())
        }
    }

    /// `read(2)` into `buf`; `nonblock` adds `IO_NDELAY` (as `O_NONBLOCK` would). Returns
    /// the bytes read.
    pub fn read(&self, buf: &mut [u8], nonblock: bool) -> Result<usize> {
        self.check_open()?;
        let _c = self.ctx()?;
        let mut uio = Uio::new_read(buf);
        let flag = if nonblock || self.nonblock() {
            IO_NDELAY
        } else {
            0
        };
        let r = self.dev.ops.d_read(&mut DevReadArgs {
            a_dev: &self.dev,
            a_uio: &mut uio,
            a_ioflag: flag,
        });
        r.map(|_| uio.done())
    }

    /// `read(2)` with an explicit uio (for fault injection); returns the bytes moved even
    /// when the driver fails, as `Err((error, moved))`.
    pub fn read_uio(&self, uio: &mut Uio<'_>, ioflag: i32) -> Result<usize, (Error, usize)> {
        self.check_open().map_err(|e| (e, 0))?;
        let _c = self.ctx().map_err(|e| (e, 0))?;
        let flag = if self.nonblock() {
            ioflag | IO_NDELAY
        } else {
            ioflag
        };
        match self.dev.ops.d_read(&mut DevReadArgs {
            a_dev: &self.dev,
            a_uio: uio,
            a_ioflag: flag,
        }) {
            Ok(()) => Ok(uio.done()),
            Err(e) => Err((e, uio.done())),
        }
    }

    /// `write(2)` of `data`. Returns the bytes the driver consumed.
    pub fn write(&self, data: &[u8]) -> Result<usize> {
        self.check_open()?;
        let _c = self.ctx()?;
        let mut uio = Uio::new_write(data);
        let flag = if self.nonblock() { IO_NDELAY } else { 0 };
        self.dev.ops.d_write(&mut DevReadArgs {
            a_dev: &self.dev,
            a_uio: &mut uio,
            a_ioflag: flag,
        })?;
        Ok(uio.done())
    }

    /// `ioctl(2)` as process `pid` (the caller's credentials). `FIONBIO` is handled here;
    /// everything else goes to `d_ioctl` with `data` as its argument buffer, which must hold
    /// at least `IOCPARM_LEN(cmd)` bytes (`EFAULT` otherwise, as a failed `copyin`).
    pub fn ioctl_as(&self, pid: i32, cmd: u32, data: &mut [u8]) -> Result {
        self.check_open()?;
        let k = self.kernel()?;
        let _c = k.enter(pid);
        let cred = k.proc_cred(pid).ok_or(code::ESRCH)?;
        if data.len() < IOCPARM_LEN(cmd) {
            return Err(code::EFAULT);
        }
        if cmd == FIONBIO {
            self.nonblock.store(data_i32(data)? != 0, Ordering::SeqCst);
            return Ok(());
        }
        self.dev.ops.d_ioctl(&mut DevIoctlArgs {
            a_dev: &self.dev,
            a_cmd: cmd,
            a_data: data,
            a_fflag: 0,
            a_cred: &cred,
        })
    }

    /// `ioctl(2)` as the opener.
    pub fn ioctl(&self, cmd: u32, data: &mut [u8]) -> Result {
        let pid = self.pid;
        self.ioctl_as(pid, cmd, data)
    }

    /// `kevent(EV_ADD)`: registers knote `kn` through `d_kqfilter`. On success the knote is
    /// remembered by the descriptor (detached at close) and its first check returned.
    pub fn kqfilter(&self, kn: &Arc<Knote>) -> Result<bool> {
        self.check_open()?;
        let _c = self.ctx()?;
        let mut ap = DevKqfilterArgs {
            a_dev: &self.dev,
            a_kn: kn,
            a_result: 0,
        };
        self.dev.ops.d_kqfilter(&mut ap)?;
        if ap.a_result != 0 {
            return Err(Error::from_errno(ap.a_result));
        }
        self.knotes.lock().push(kn.clone());
        Ok(kn.check(0))
    }

    /// `kevent(EV_DELETE)`: detaches knote `id`; `ENOENT` if this descriptor has none such.
    pub fn kqdel(&self, id: u64) -> Result {
        let _c = self.ctx()?;
        let kn = {
            let mut ks = self.knotes.lock();
            let p = ks.iter().position(|k| k.id() == id).ok_or(code::ENOENT)?;
            ks.remove(p)
        };
        kn.detach();
        Ok(())
    }

    /// The knotes registered through this descriptor, in registration order.
    pub fn knotes(&self) -> Vec<Arc<Knote>> {
        self.knotes.lock().clone()
    }

    /// The last `close(2)`: detaches the descriptor's knotes (in registration order), then
    /// calls `d_close`.
    pub fn close(&self) -> Result {
        self.do_close()
    }

    fn do_close(&self) -> Result {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let k = self.kernel()?;
        let _c = self.ctx()?;
        let knotes = core::mem::take(&mut *self.knotes.lock());
        for kn in knotes {
            kn.detach();
            k.emit(|| Event::KnoteDetached { id: kn.id() });
        }
        *self.dev.open.lock() = false;
        self.dev.ops.d_close(&mut DevCloseArgs {
            a_dev: &self.dev,
            a_fflag: 0,
            a_devtype: 0,
        })
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = self.do_close();
    }
}
