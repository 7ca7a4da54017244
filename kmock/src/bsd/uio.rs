// SPDX-License-Identifier: BSD-2-Clause
//! `struct uio` and `uiomove`: moving bytes between the kernel and a user buffer
//! (`sys/uio.h`, `kern_subr.c`).
//!
//! BSD semantics mirrored: a uio describes a user buffer, a direction ([`UioRw`]) and the
//! bytes still to move (`uio_resid`). [`uiomove`] copies `min(n, resid)` bytes in the
//! uio's direction and advances it. Modelled on Rust-for-Linux's `UserSliceReader` /
//! `UserSliceWriter`: the cursor only advances, and touching an invalid user address gives
//! `EFAULT` (here: bytes at or past [`Uio::with_fault_at`]'s offset).

use crate::error::Result;
use crate::uaccess::{UserSlice, UserSliceReader, UserSliceWriter};

/// `IO_NDELAY`: the descriptor is non-blocking (`FIONBIO`, `O_NONBLOCK`).
pub const IO_NDELAY: i32 = 0x0004;

/// `uio_rw`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UioRw {
    /// `UIO_READ`: kernel → user (a `read(2)`).
    Read,
    /// `UIO_WRITE`: user → kernel (a `write(2)`).
    Write,
}

enum Cursor<'a> {
    /// A read(2): the kernel writes user memory.
    Read(UserSliceWriter<'a>),
    /// A write(2): the kernel reads user memory.
    Write(UserSliceReader<'a>),
}

/// A user I/O request: a user buffer, a direction, and a cursor that only advances.
///
/// # Invariants
///
/// `resid() + done()` is the length of the user buffer; `done()` never decreases.
pub struct Uio<'a> {
    cur: Cursor<'a>,
}

impl<'a> Uio<'a> {
    /// A `read(2)` into `buf`.
    pub fn new_read(buf: &'a mut [u8]) -> Self {
        Self::from_user_read(UserSlice::new(buf))
    }

    /// A `write(2)` of `data`.
    pub fn new_write(data: &'a [u8]) -> Self {
        Self::from_user_write(UserSlice::new_readonly(data))
    }

    /// A `read(2)` into user memory `u` (its writer side).
    pub fn from_user_read(u: UserSlice<'a>) -> Self {
        Uio {
            cur: Cursor::Read(u.writer()),
        }
    }

    /// A `write(2)` from user memory `u` (its reader side).
    pub fn from_user_write(u: UserSlice<'a>) -> Self {
        Uio {
            cur: Cursor::Write(u.reader()),
        }
    }

    /// Makes every user byte at offset `at` or later an invalid address: a `uiomove` that
    /// reaches it copies the bytes before it and fails with `EFAULT`.
    pub fn with_fault_at(self, at: usize) -> Self {
        // Rebuild the cursor over the same memory with the fault mark.
        match self.cur {
            Cursor::Read(w) => Uio {
                cur: Cursor::Read(w.with_fault_at(at)),
            },
            Cursor::Write(r) => Uio {
                cur: Cursor::Write(r.with_fault_at(at)),
            },
        }
    }

    /// `uio_rw`.
    pub fn rw(&self) -> UioRw {
        match self.cur {
            Cursor::Read(_) => UioRw::Read,
            Cursor::Write(_) => UioRw::Write,
        }
    }

    /// `uio_resid`: bytes still to move.
    pub fn resid(&self) -> usize {
        match &self.cur {
            Cursor::Read(w) => w.len(),
            Cursor::Write(r) => r.len(),
        }
    }

    /// Bytes moved so far (`uio_offset` relative to the start).
    pub fn done(&self) -> usize {
        match &self.cur {
            Cursor::Read(w) => w.offset(),
            Cursor::Write(r) => r.offset(),
        }
    }
}

/// `uiomove(cp, n, uio)` with `n = cp.len()`: copies `min(cp.len(), resid)` bytes between
/// `cp` and the user buffer in the uio's direction (for [`UioRw::Read`] from `cp`, for
/// [`UioRw::Write`] into `cp`) and advances the uio. `EFAULT` if the copy reaches an
/// invalid user address (the bytes before it are moved).
pub fn uiomove(cp: &mut [u8], uio: &mut Uio<'_>) -> Result {
    let n = cp.len().min(uio.resid());
    match &mut uio.cur {
        Cursor::Read(w) => w.write_slice(&cp[..n]),
        Cursor::Write(r) => r.read_slice(&mut cp[..n]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;

    #[test]
    fn read_direction_copies_out_and_advances() {
        let mut user = [0u8; 5];
        let mut uio = Uio::new_read(&mut user);
        let mut k = [1u8, 2, 3];
        uiomove(&mut k, &mut uio).unwrap();
        assert_eq!(uio.resid(), 2);
        let mut k2 = [4u8, 5, 6];
        uiomove(&mut k2, &mut uio).unwrap();
        assert_eq!(uio.resid(), 0);
        assert_eq!(uio.done(), 5);
        assert_eq!(uio.rw(), UioRw::Read);
        assert_eq!(user, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn write_direction_copies_in() {
        let data = [9u8, 8, 7];
        let mut uio = Uio::new_write(&data);
        let mut k = [0u8; 2];
        uiomove(&mut k, &mut uio).unwrap();
        assert_eq!(k, [9, 8]);
        assert_eq!(uio.resid(), 1);
    }

    #[test]
    fn bad_address_is_efault() {
        let data = [1u8; 10];
        let mut uio = Uio::new_write(&data).with_fault_at(4);
        let mut k = [0u8; 8];
        assert_eq!(uiomove(&mut k, &mut uio), Err(code::EFAULT));
        assert_eq!(uio.done(), 4);
        assert_eq!(&k[..5], &[1, 1, 1, 1, 0]);
    }
}
