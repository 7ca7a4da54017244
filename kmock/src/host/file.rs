// SPDX-License-Identifier: BSD-2-Clause
//! Open device files (`struct file` of a device): what a user process's descriptor refers
//! to, on which it reads, writes, ioctls, registers knotes and closes.
//!
//! A file lives until its last reference goes, as BSD's `fhold`/`fdrop` keep it: every call
//! on it (read, write, ioctl, kqfilter, kqdel) holds a reference while it runs, and so
//! does the descriptor until [`File::close`]. `close` refuses new calls at once (`ENXIO`),
//! but the last close — detaching the file's knotes, then the driver's `d_close` — runs
//! only when the last reference goes: in `close` itself if no call is in flight, else in
//! the thread whose call returns last. A reader asleep in `tsleep` keeps the device open
//! (a reopen of an exclusive device meanwhile gets the driver's `EBUSY`) and is woken or
//! interrupted as before; the packet it then reads is its own, never the next opener's.

use core::any::Any;
use core::sync::atomic::{AtomicBool, Ordering};
use std::boxed::Box;
use std::fmt;
use std::sync::Arc;

use crate::platform::Mutex;
use std::vec::Vec;

use super::devfs::NodeEntry;
use super::event::Event;
use super::kernel::{ContextGuard, Kernel, KernelRef};
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
    refs: Mutex<Refs>,
}

/// A file's references besides the descriptor's own.
#[derive(Default)]
struct Refs {
    /// Calls running on the file.
    inflight: usize,
    /// `close` was called: new calls are refused.
    closing: bool,
    /// The last close ran (or is running).
    closed: bool,
}

/// A call in flight on a [`File`] (`fhold` … `fdrop`): while one exists the file's last
/// close waits; dropping the last one after [`File::close`] runs it, on the dropping
/// thread.
pub(crate) struct FileRef<'a> {
    file: &'a File,
}

impl Drop for FileRef<'_> {
    fn drop(&mut self) {
        let last = {
            let mut r = lock(&self.file.refs);
            r.inflight -= 1;
            let last = r.inflight == 0 && r.closing && !r.closed;
            r.closed |= last;
            last
        };
        if last {
            // Nobody waits for this close's result: `close` already returned 0, as
            // `close(2)` does when the reference it drops is not the last.
            let _ = self.file.last_close();
        }
    }
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
            refs: Mutex::new(Refs::default()),
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
        // Inside already (the per-call case of a process's thread): no upgrade, no clone.
        if self.kernel.is_current() {
            return Ok(None);
        }
        let k = self.kernel.upgrade().ok_or(code::ENXIO)?;
        Ok(Some(k.enter(self.pid)))
    }

    /// Takes a reference for a call on the file (`fhold`); `ENXIO` (`EBADF`-like) once
    /// [`File::close`] was called. The last close waits until the reference drops.
    pub(crate) fn hold(&self) -> Result<FileRef<'_>> {
        let mut r = lock(&self.refs);
        if r.closing {
            return Err(code::ENXIO);
        }
        r.inflight += 1;
        Ok(FileRef { file: self })
    }

    /// How many calls are running on the file now.
    pub fn calls_in_flight(&self) -> usize {
        lock(&self.refs).inflight
    }

    /// Whether [`File::close`] was called (new calls get `ENXIO`).
    pub fn is_closing(&self) -> bool {
        lock(&self.refs).closing
    }

    /// Whether the last close ran: the knotes are detached and `d_close` was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.refs).closed
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
        let _r = self.hold()?;
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
        let _r = self.hold().map_err(|e| (e, 0))?;
        let _c = self.ctx().map_err(|e| (e, 0))?;
        let flag = ioflag | self.ioflag(false);
        match self.entry.ops.read(uio, flag) {
            Ok(()) => Ok(uio.done()),
            Err(e) => Err((e, uio.done())),
        }
    }

    /// `write(fd, data, len)`: returns the bytes written.
    pub fn write(&self, data: &[u8]) -> Result<usize> {
        let _r = self.hold()?;
        let _c = self.ctx()?;
        let mut uio = Uio::new_write(data);
        let flag = self.ioflag(false);
        self.entry.ops.write(&mut uio, flag)?;
        Ok(uio.done())
    }

    /// `write` from a caller-built [`Uio`].
    pub fn write_uio(&self, uio: &mut Uio<'_>) -> Result<usize> {
        let _r = self.hold()?;
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
        let _r = self.hold()?;
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

    /// `close(fd)`: drops the descriptor's reference, once (a second `close` does
    /// nothing). New calls on the file get `ENXIO` from now on. If no call is in flight
    /// this is the last close, which detaches the file's knotes and runs the driver's
    /// `d_close`, and its result is returned; otherwise `close` returns `Ok` at once and
    /// the last close runs when the last call in flight returns (a reader asleep in
    /// `tunread` keeps the device open until it is woken or interrupted).
    pub fn close(&self) -> Result {
        let last = {
            let mut r = lock(&self.refs);
            if r.closing {
                return Ok(());
            }
            r.closing = true;
            r.closed = r.inflight == 0;
            r.closed
        };
        if last {
            self.last_close()
        } else {
            Ok(())
        }
    }

    /// The last close (`closef` → `vn_close` → `dev_dclose`): detaches the file's knotes,
    /// then runs the driver's `d_close`, inside the file's kernel (as its process when the
    /// calling thread is outside it).
    fn last_close(&self) -> Result {
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
