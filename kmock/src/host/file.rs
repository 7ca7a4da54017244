// SPDX-License-Identifier: BSD-2-Clause
//! Open device files (`struct file` of a device): what a user process's descriptor refers
//! to, on which it reads, writes, ioctls, registers knotes and closes.

use core::any::Any;
use core::sync::atomic::{AtomicBool, Ordering};
use std::boxed::Box;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::vec::Vec;

use super::devfs::NodeEntry;
use super::event::Event;
use super::kernel::{with_current, ContextGuard, Kernel, KernelRef};
use super::sync::lock;
use crate::bsd::cred::Ucred;
use crate::bsd::ioccom::{data_i32, FIONBIO, IOCPARM_LEN};
use crate::bsd::uio::{Uio, IO_NDELAY};
use crate::error::{code, Result};

/// An open device file: what a user process's descriptor refers to.
pub struct File {
    kernel: KernelRef,
    entry: Arc<NodeEntry>,
    pid: i32,
    nonblock: AtomicBool,
    knotes: Mutex<Vec<(u64, Box<dyn Any + Send + Sync>)>>,
    closed: AtomicBool,
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("dev", &self.entry.name)
            .finish()
    }
}

fn access_ok(perms: (u32, u32, u32), cred: &Ucred) -> bool {
    if cred.cr_uid == 0 {
        return true;
    }
    let (uid, gid, mode) = perms;
    // Read and write are both requested (O_RDWR).
    let need = 0o6;
    let bits = if cred.cr_uid == uid {
        (mode >> 6) & 7
    } else if cred.cr_gid == gid {
        (mode >> 3) & 7
    } else {
        mode & 7
    };
    bits & need == need
}

impl Kernel {
    /// `open("/dev/NAME", O_RDWR)` by process `pid`: runs the autoclone handler of an
    /// autoclone node, checks the node's permissions (`EACCES`), then the driver's
    /// `d_open`. `ENOENT` for an unknown name, `ESRCH` for an unknown process.
    pub fn dev_open(&self, name: &str, pid: i32) -> Result<File> {
        let _ctx = self.enter(pid);
        let cred = self.proc_cred(pid).ok_or(code::ESRCH)?;
        let mut entry = self.0.devfs.lookup_entry(name).ok_or(code::ENOENT)?;
        if entry.is_clone {
            let unit = entry.ops.clone_unit(name)?;
            let (node, dev) = (entry.name.clone(), unit.name.clone());
            self.emit(|| Event::Clone { node, dev });
            entry = unit;
        }
        if !access_ok(entry.perms, &cred) {
            return Err(code::EACCES);
        }
        entry.ops.open(0, &cred)?;
        Ok(File {
            kernel: self.downgrade(),
            entry,
            pid,
            nonblock: AtomicBool::new(false),
            knotes: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        })
    }
}

impl File {
    /// The device node's name.
    pub fn name(&self) -> &str {
        &self.entry.name
    }

    /// The node's table entry.
    pub fn entry(&self) -> &Arc<NodeEntry> {
        &self.entry
    }

    /// The process that opened the file.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether `FIONBIO` set non-blocking mode.
    pub fn nonblock(&self) -> bool {
        self.nonblock.load(Ordering::SeqCst)
    }

    /// Enters the file's kernel as its process, unless the caller is already inside it.
    pub(crate) fn ctx(&self) -> Result<Option<ContextGuard>> {
        let k = self.kernel.upgrade().ok_or(code::ENXIO)?;
        Ok(match with_current(|c| c.kernel.id()) {
            Some(id) if id == k.id() => None,
            _ => Some(k.enter(self.pid)),
        })
    }

    /// `EBADF`-like: `ENXIO` once closed.
    pub(crate) fn check_open(&self) -> Result {
        if self.closed.load(Ordering::SeqCst) {
            Err(code::ENXIO)
        } else {
            Ok(())
        }
    }

    fn ioflag(&self, nonblock: bool) -> i32 {
        if nonblock || self.nonblock() {
            IO_NDELAY
        } else {
            0
        }
    }

    /// `read(fd, buf, len)`: returns the bytes read. `nonblock` adds `IO_NDELAY` for this
    /// call (as `O_NONBLOCK` would).
    pub fn read(&self, buf: &mut [u8], nonblock: bool) -> Result<usize> {
        self.check_open()?;
        let _c = self.ctx()?;
        let mut uio = Uio::new_read(buf);
        let flag = self.ioflag(nonblock);
        self.entry.ops.read(&mut uio, flag).map(|_| uio.done())
    }

    /// `read` into a caller-built [`Uio`] (to reach the fault paths); on failure also says
    /// how many bytes were moved.
    pub fn read_uio(
        &self,
        uio: &mut Uio<'_>,
        ioflag: i32,
    ) -> Result<usize, (crate::error::Error, usize)> {
        self.check_open().map_err(|e| (e, 0))?;
        let _c = self.ctx().map_err(|e| (e, 0))?;
        let flag = ioflag | self.ioflag(false);
        match self.entry.ops.read(uio, flag) {
            Ok(()) => Ok(uio.done()),
            Err(e) => Err((e, uio.done())),
        }
    }

    /// `write(fd, data, len)`: returns the bytes written.
    pub fn write(&self, data: &[u8]) -> Result<usize> {
        self.check_open()?;
        let _c = self.ctx()?;
        let mut uio = Uio::new_write(data);
        let flag = self.ioflag(false);
        self.entry.ops.write(&mut uio, flag)?;
        Ok(uio.done())
    }

    /// `write` from a caller-built [`Uio`].
    pub fn write_uio(&self, uio: &mut Uio<'_>) -> Result<usize> {
        self.check_open()?;
        let _c = self.ctx()?;
        let flag = self.ioflag(false);
        self.entry.ops.write(uio, flag)?;
        Ok(uio.done())
    }

    /// `ioctl(fd, cmd, data)` as process `pid` through the generic file layer: `FIONBIO`
    /// sets the file's non-blocking mode and stops there (DragonFly's `mapped_ioctl`);
    /// every other command goes to the driver. `EFAULT` if `data` is shorter than the
    /// command's parameter.
    pub fn ioctl_as(&self, pid: i32, cmd: u32, data: &mut [u8]) -> Result {
        self.ioctl_common(pid, cmd, data, true)
    }

    fn ioctl_common(&self, pid: i32, cmd: u32, data: &mut [u8], generic: bool) -> Result {
        self.check_open()?;
        let k = self.kernel.upgrade().ok_or(code::ENXIO)?;
        let _c = k.enter(pid);
        let cred = k.proc_cred(pid).ok_or(code::ESRCH)?;
        if data.len() < IOCPARM_LEN(cmd) {
            return Err(code::EFAULT);
        }
        if generic && cmd == FIONBIO {
            self.nonblock.store(data_i32(data)? != 0, Ordering::SeqCst);
            return Ok(());
        }
        self.entry.ops.ioctl(cmd, data, &cred)
    }

    /// `ioctl` as the opening process (see [`File::ioctl_as`]).
    pub fn ioctl(&self, cmd: u32, data: &mut [u8]) -> Result {
        self.ioctl_as(self.pid, cmd, data)
    }

    /// Hands `cmd` to the driver's `d_ioctl` whatever its number (no generic-layer
    /// handling, not even of `FIONBIO`'s number): the scenario language's raw ioctl.
    pub fn driver_ioctl_as(&self, pid: i32, cmd: u32, data: &mut [u8]) -> Result {
        self.ioctl_common(pid, cmd, data, false)
    }

    /// Remembers a knote attached through this file (detached at close).
    pub(crate) fn push_knote(&self, id: u64, kn: Box<dyn Any + Send + Sync>) {
        lock(&self.knotes).push((id, kn));
    }

    /// Takes the knote `id` attached through this file.
    pub(crate) fn take_knote(&self, id: u64) -> Option<Box<dyn Any + Send + Sync>> {
        let mut ks = lock(&self.knotes);
        let p = ks.iter().position(|(k, _)| *k == id)?;
        Some(ks.remove(p).1)
    }

    /// Visits the knotes attached through this file, in attach order.
    pub(crate) fn for_each_knote(&self, f: &mut dyn FnMut(&(dyn Any + Send + Sync))) {
        for (_, kn) in lock(&self.knotes).iter() {
            f(&**kn);
        }
    }

    /// `close(fd)`: detaches the file's knotes and runs the driver's `d_close` (once).
    pub fn close(&self) -> Result {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let k = self.kernel.upgrade().ok_or(code::ENXIO)?;
        let _c = self.ctx()?;
        let knotes = core::mem::take(&mut *lock(&self.knotes));
        for (id, kn) in knotes {
            self.entry.ops.detach_knote(kn);
            k.emit(|| Event::KnoteDetached { id });
        }
        self.entry.ops.close()
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
