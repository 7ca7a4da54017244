// SPDX-License-Identifier: BSD-2-Clause
//! The entry points the C glue's `file_operations` call, module setup and teardown, and
//! the errno translation between the BSD face (DragonFly's numbers) and Linux.

use core::ffi::{c_int, c_long, c_uint, c_ulong, c_void};
use core::sync::atomic::Ordering;

use kernel::uaccess::UserSlice;

use crate::alloc::{flags::GFP_KERNEL, KBox, KVec};
use crate::bsd::cred::Ucred;
use crate::bsd::devfs::{self, Cdev, DevCloseArgs, DevIoctlArgs, DevKqfilterArgs, DevOpenArgs, DevReadArgs, CLONE_MINOR};
use crate::bsd::ioccom::{IOCPARM_LEN, IOC_IN, IOC_OUT};
use crate::bsd::kqueue::{Knote, EVFILT_READ, EVFILT_WRITE};
use crate::bsd::uio::{Uio, IO_NDELAY};
use crate::error::{code, Error, Result};
use crate::sync::{Arc, Spin};

/// The Linux errno (positive) for a BSD-face error.
pub fn linux_errno(e: Error) -> c_int {
    match e.to_errno() {
        35 => 11,   // EWOULDBLOCK -> EAGAIN
        45 => 95,   // EOPNOTSUPP
        47 => 97,   // EAFNOSUPPORT
        49 => 99,   // EADDRNOTAVAIL
        55 => 105,  // ENOBUFS
        64 => 112,  // EHOSTDOWN
        -1 => 512,  // ERESTART -> ERESTARTSYS
        n if n > 0 && n < 35 => n, // EPERM..ERANGE are the same numbers on both
        _ => 5,     // EIO
    }
}

/// The BSD-face error for a negative Linux errno.
pub fn from_linux_errno(r: c_int) -> Error {
    match -r {
        11 => crate::bsd::errno::EWOULDBLOCK,
        95 => crate::bsd::errno::EOPNOTSUPP,
        105 => crate::bsd::errno::ENOBUFS,
        512 => crate::bsd::errno::ERESTART,
        17 => code::EBUSY,
        n if n > 0 && n < 35 => Error::from_errno(n),
        _ => code::EIO,
    }
}

/// The kernel's error for a BSD-face error (the root crate's `init`).
pub fn to_kernel_error(e: Error) -> kernel::error::Error {
    kernel::error::Error::from_errno(-linux_errno(e))
}

/// mbufs allocated and not yet freed.
pub fn live_mbufs() -> usize {
    crate::door::LIVE.load(Ordering::Relaxed)
}

/// Module load: the chrdev region, the device class and the notifiers.
pub fn linux_init() -> Result {
    // SAFETY: called once, at module init, before any other glue function.
    let r = unsafe { crate::ffi::ktun_glue_init(devfs::NMINORS) };
    if r != 0 {
        return Err(from_linux_errno(r));
    }
    Ok(())
}

/// Module unload: after the driver's teardown (every node destroyed, every interface
/// detached).
pub fn linux_exit() {
    // SAFETY: `linux_init` succeeded; nothing uses the region or the class any more.
    unsafe { crate::ffi::ktun_glue_exit() };
    crate::bsd::sysctl::clear();
}

fn cred() -> Ucred {
    let (uid, gid) = crate::ffi::current_cred();
    Ucred { cr_uid: uid, cr_gid: gid }
}

/// An open file: its unit, and the knotes `poll` attached.
struct OpenFile {
    dev: Arc<Cdev>,
    knotes: Spin<[Option<Arc<Knote>>; 2]>,
}

fn ret(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => -linux_errno(e),
    }
}

/// `open(2)`: the autoclone node's handler, then `d_open`.
///
/// # Safety
///
/// `private` is valid for a write (the glue passes `&file->private_data`).
#[no_mangle]
pub unsafe extern "C" fn ktun_rs_open(minor: c_uint, private: *mut *mut c_void) -> c_int {
    let r = (|| -> Result<*mut c_void> {
        let mut dev = devfs::node(minor).ok_or(code::ENXIO)?;
        if minor == CLONE_MINOR {
            dev = devfs::clone_open(&dev)?;
        }
        let f = KBox::new(OpenFile { dev: dev.clone(), knotes: Spin::new([None, None]) }, GFP_KERNEL)?;
        let c = cred();
        dev.ops().d_open(&mut DevOpenArgs { a_dev: &dev, a_oflags: 0, a_devtype: 0, a_cred: &c })?;
        dev.set_open(true);
        Ok(KBox::into_raw(f).cast())
    })();
    match r {
        Ok(p) => {
            // SAFETY: the caller's contract.
            unsafe { *private = p };
            0
        }
        Err(e) => -linux_errno(e),
    }
}

/// The `OpenFile` behind a file's `private_data`.
///
/// # Safety
///
/// `private` is a pointer `ktun_rs_open` returned and `ktun_rs_release` has not freed.
unsafe fn file<'a>(private: *mut c_void) -> &'a OpenFile {
    // SAFETY: the caller's contract: a live `KBox<OpenFile>` leaked by `ktun_rs_open`.
    unsafe { &*(private as *const OpenFile) }
}

/// `release`: detaches the file's knotes, then `d_close`.
///
/// # Safety
///
/// `private` is from `ktun_rs_open`; it is freed here and never used again.
#[no_mangle]
pub unsafe extern "C" fn ktun_rs_release(private: *mut c_void) -> c_int {
    // SAFETY: the caller's contract: the box `ktun_rs_open` leaked, released once.
    let f = unsafe { KBox::from_raw(private as *mut OpenFile) };
    let taken = core::mem::replace(&mut *f.knotes.lock(), [None, None]);
    for kn in taken.into_iter().flatten() {
        kn.detach();
    }
    f.dev.set_open(false);
    let dev = f.dev.clone();
    drop(f);
    ret(dev.ops().d_close(&mut DevCloseArgs { a_dev: &dev, a_fflag: 0, a_devtype: 0 }))
}

/// `read(2)`.
///
/// # Safety
///
/// `private` as for [`file`]; `buf` is a user address (checked by the copy).
#[no_mangle]
pub unsafe extern "C" fn ktun_rs_read(private: *mut c_void, buf: c_ulong, len: usize, nonblock: c_int) -> isize {
    // SAFETY: the caller's contract.
    let f = unsafe { file(private) };
    let mut uio = Uio::for_read(UserSlice::new(buf as usize, len).writer());
    let flag = if nonblock != 0 { IO_NDELAY } else { 0 };
    match f.dev.ops().d_read(&mut DevReadArgs { a_dev: &f.dev, a_uio: &mut uio, a_ioflag: flag }) {
        Ok(()) => uio.done() as isize,
        Err(e) => -(linux_errno(e) as isize),
    }
}

/// `write(2)`.
///
/// # Safety
///
/// As [`ktun_rs_read`].
#[no_mangle]
pub unsafe extern "C" fn ktun_rs_write(private: *mut c_void, buf: c_ulong, len: usize, nonblock: c_int) -> isize {
    // SAFETY: the caller's contract.
    let f = unsafe { file(private) };
    let mut uio = Uio::for_write(UserSlice::new(buf as usize, len).reader());
    let flag = if nonblock != 0 { IO_NDELAY } else { 0 };
    match f.dev.ops().d_write(&mut DevReadArgs { a_dev: &f.dev, a_uio: &mut uio, a_ioflag: flag }) {
        Ok(()) => uio.done() as isize,
        Err(e) => -(linux_errno(e) as isize),
    }
}

/// `ioctl(2)` with a BSD command number: the argument is copied in (`IOC_IN`) and out
/// (`IOC_OUT`) as BSD's generic ioctl does, `IOCPARM_LEN(cmd)` bytes.
///
/// # Safety
///
/// As [`ktun_rs_read`]; `arg` is a user address.
#[no_mangle]
pub unsafe extern "C" fn ktun_rs_ioctl(private: *mut c_void, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: the caller's contract.
    let f = unsafe { file(private) };
    let r = (|| -> Result {
        let len = IOCPARM_LEN(cmd);
        let mut data = KVec::with_capacity(len, GFP_KERNEL)?;
        for _ in 0..len {
            data.push(0u8, GFP_KERNEL)?;
        }
        if cmd & IOC_IN != 0 && len > 0 {
            UserSlice::new(arg as usize, len).reader().read_slice(&mut data).map_err(|_| code::EFAULT)?;
        }
        let c = cred();
        f.dev.ops().d_ioctl(&mut DevIoctlArgs { a_dev: &f.dev, a_cmd: cmd, a_data: &mut data, a_fflag: 0, a_cred: &c })?;
        if cmd & IOC_OUT != 0 && len > 0 {
            UserSlice::new(arg as usize, len).writer().write_slice(&data).map_err(|_| code::EFAULT)?;
        }
        Ok(())
    })();
    ret(r) as c_long
}

const EPOLLIN: c_uint = 0x1;
const EPOLLOUT: c_uint = 0x4;
const EPOLLRDNORM: c_uint = 0x40;
const EPOLLWRNORM: c_uint = 0x100;

/// `poll(2)`: the read and write filters as knotes (attached with `d_kqfilter` on the first
/// poll), the task queued on their list's channel, then the filters evaluated.
///
/// # Safety
///
/// As [`ktun_rs_read`]; `filp` and `pt` are the poll call's own.
#[no_mangle]
pub unsafe extern "C" fn ktun_rs_poll(private: *mut c_void, filp: *mut c_void, pt: *mut c_void) -> c_uint {
    // SAFETY: the caller's contract.
    let f = unsafe { file(private) };
    let mut kns = f.knotes.lock().clone();
    for (i, filter) in [EVFILT_READ, EVFILT_WRITE].into_iter().enumerate() {
        if kns[i].is_none() {
            let Ok(kn) = Knote::new(i as u64 + 1, filter) else { continue };
            let mut ap = DevKqfilterArgs { a_dev: &f.dev, a_kn: &kn, a_result: 0 };
            if f.dev.ops().d_kqfilter(&mut ap).is_ok() && ap.a_result == 0 {
                f.knotes.lock()[i] = Some(kn.clone());
                kns[i] = Some(kn);
            }
        }
    }
    let mut mask = 0;
    for (i, kn) in kns.iter().enumerate() {
        let Some(kn) = kn else { continue };
        // SAFETY: `filp` and `pt` are the ones the poll call gave the glue.
        unsafe { crate::ffi::ktun_poll_wait(filp, kn.chan() as c_ulong, pt) };
        if kn.check(0) {
            mask |= if i == 0 { EPOLLIN | EPOLLRDNORM } else { EPOLLOUT | EPOLLWRNORM };
        }
    }
    mask
}
