//! `struct uio` and `uiomove`: moving bytes between the kernel and a user buffer
//! (`sys/uio.h`, `kern_subr.c`).
//!
//! BSD semantics mirrored: a uio describes a user buffer, a direction ([`UioRw`]) and the
//! bytes still to move (`uio_resid`). [`uiomove`] copies `min(n, resid)` bytes in the
//! uio's direction and advances it. Modelled on Rust-for-Linux's `UserSliceReader` /
//! `UserSliceWriter`: the cursor only advances, and touching an invalid user address gives
//! `EFAULT` (here: bytes at or past [`Uio::with_fault_at`]'s offset).

use crate::error::{code, Result};

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

enum UserBuf<'a> {
    Read(&'a mut [u8]),
    Write(&'a [u8]),
}

/// A user I/O request.
///
/// # Invariants
///
/// `off <= len of the buffer`; `resid() == buffer length - off`.
pub struct Uio<'a> {
    buf: UserBuf<'a>,
    off: usize,
    fault_at: Option<usize>,
}

impl<'a> Uio<'a> {
    /// A `read(2)` into `buf`.
    pub fn new_read(buf: &'a mut [u8]) -> Self {
        Uio {
            buf: UserBuf::Read(buf),
            off: 0,
            fault_at: None,
        }
    }

    /// A `write(2)` of `data`.
    pub fn new_write(data: &'a [u8]) -> Self {
        Uio {
            buf: UserBuf::Write(data),
            off: 0,
            fault_at: None,
        }
    }

    /// Makes every user byte at offset `at` or later an invalid address: a `uiomove` that
    /// reaches it copies the bytes before it and fails with `EFAULT`.
    pub fn with_fault_at(mut self, at: usize) -> Self {
        self.fault_at = Some(at);
        self
    }

    /// `uio_rw`.
    pub fn rw(&self) -> UioRw {
        match self.buf {
            UserBuf::Read(_) => UioRw::Read,
            UserBuf::Write(_) => UioRw::Write,
        }
    }

    fn total(&self) -> usize {
        match &self.buf {
            UserBuf::Read(b) => b.len(),
            UserBuf::Write(b) => b.len(),
        }
    }

    /// `uio_resid`: bytes still to move.
    pub fn resid(&self) -> usize {
        self.total() - self.off
    }

    /// `uio_offset` relative to the start: bytes moved so far.
    pub fn done(&self) -> usize {
        self.off
    }
}

/// `uiomove(cp, n, uio)` with `n = cp.len()`: copies `min(cp.len(), resid)` bytes between
/// `cp` and the user buffer in the uio's direction (for [`UioRw::Read`] from `cp`, for
/// [`UioRw::Write`] into `cp`) and advances the uio. `EFAULT` if the copy reaches an
/// invalid user address (the bytes before it are moved).
pub fn uiomove(cp: &mut [u8], uio: &mut Uio<'_>) -> Result {
    let mut n = cp.len().min(uio.resid());
    let mut fault = false;
    if let Some(f) = uio.fault_at {
        if uio.off + n > f {
            n = f.saturating_sub(uio.off);
            fault = true;
        }
    }
    let off = uio.off;
    match &mut uio.buf {
        UserBuf::Read(b) => b[off..off + n].copy_from_slice(&cp[..n]),
        UserBuf::Write(b) => cp[..n].copy_from_slice(&b[off..off + n]),
    }
    uio.off += n;
    if fault {
        Err(code::EFAULT)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
