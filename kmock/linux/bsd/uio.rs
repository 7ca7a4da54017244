// SPDX-License-Identifier: BSD-2-Clause
//! `struct uio` over real user memory: a read's [`Uio`] writes to the caller's buffer with
//! `kernel::uaccess::UserSliceWriter`, a write's reads it with `UserSliceReader`.

use core::marker::PhantomData;
use kernel::uaccess::{UserSliceReader, UserSliceWriter};

use crate::error::{code, Result};

/// `IO_NDELAY`: the descriptor is non-blocking (`O_NONBLOCK`).
pub const IO_NDELAY: i32 = 0x0004;

enum Dir {
    /// `UIO_READ`: the kernel copies out to the user.
    Read(UserSliceWriter),
    /// `UIO_WRITE`: the kernel copies in from the user.
    Write(UserSliceReader),
}

/// `struct uio` of one `read(2)` or `write(2)`.
pub struct Uio<'a> {
    dir: Dir,
    done: usize,
    _user: PhantomData<&'a mut [u8]>,
}

impl Uio<'_> {
    /// The uio of a `read(2)` into `w`.
    pub fn for_read(w: UserSliceWriter) -> Self {
        Uio { dir: Dir::Read(w), done: 0, _user: PhantomData }
    }

    /// The uio of a `write(2)` from `r`.
    pub fn for_write(r: UserSliceReader) -> Self {
        Uio { dir: Dir::Write(r), done: 0, _user: PhantomData }
    }

    /// `uio_resid`: bytes still to move.
    pub fn resid(&self) -> usize {
        match &self.dir {
            Dir::Read(w) => w.len(),
            Dir::Write(r) => r.len(),
        }
    }

    /// Bytes moved so far.
    pub fn done(&self) -> usize {
        self.done
    }
}

/// `uiomove(cp, n, uio)`: moves `cp.len()` bytes between `cp` and the user (`EFAULT` on a
/// bad user address; the cursor then stands where the fault was).
pub fn uiomove(cp: &mut [u8], uio: &mut Uio<'_>) -> Result {
    let r = match &mut uio.dir {
        Dir::Read(w) => w.write_slice(cp),
        Dir::Write(rd) => rd.read_slice(cp),
    };
    match r {
        Ok(()) => {
            uio.done += cp.len();
            Ok(())
        }
        Err(_) => Err(code::EFAULT),
    }
}
