// SPDX-License-Identifier: BSD-2-Clause
//! User memory access, as `kernel::uaccess` in Rust-for-Linux: a [`UserSlice`] names a
//! range of user memory; its [`UserSliceReader`] copies bytes *from* it and its
//! [`UserSliceWriter`] copies bytes *to* it. Both are cursors that only advance, and
//! touching an invalid user address answers `EFAULT`.
//!
//! In userspace "user memory" is a host buffer; [`UserSlice::with_fault_at`] marks every
//! byte from an offset on as an invalid address, so tests can reach the `EFAULT` paths.
//! BSD's [`crate::bsd::uio`] is built on these cursors.

use crate::error::{code, Result};

enum Mem<'a> {
    Ro(&'a [u8]),
    Rw(&'a mut [u8]),
}

/// A range of user memory.
pub struct UserSlice<'a> {
    mem: Mem<'a>,
    fault_at: usize,
}

impl<'a> UserSlice<'a> {
    /// User memory the kernel may read and write.
    pub fn new(buf: &'a mut [u8]) -> Self {
        let n = buf.len();
        UserSlice {
            mem: Mem::Rw(buf),
            fault_at: n,
        }
    }

    /// User memory the kernel may only read (writing it faults).
    pub fn new_readonly(buf: &'a [u8]) -> Self {
        let n = buf.len();
        UserSlice {
            mem: Mem::Ro(buf),
            fault_at: n,
        }
    }

    /// Makes the bytes from offset `at` on invalid addresses.
    pub fn with_fault_at(mut self, at: usize) -> Self {
        self.fault_at = self.fault_at.min(at);
        self
    }

    /// Bytes in the range.
    pub fn len(&self) -> usize {
        match &self.mem {
            Mem::Ro(b) => b.len(),
            Mem::Rw(b) => b.len(),
        }
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A reader over the whole range.
    pub fn reader(self) -> UserSliceReader<'a> {
        let fault_at = self.fault_at;
        let mem: &'a [u8] = match self.mem {
            Mem::Ro(b) => b,
            Mem::Rw(b) => b,
        };
        UserSliceReader {
            mem,
            off: 0,
            fault_at,
        }
    }

    /// A writer over the whole range; a read-only range faults on every write.
    pub fn writer(self) -> UserSliceWriter<'a> {
        match self.mem {
            Mem::Rw(b) => UserSliceWriter {
                fault_at: self.fault_at,
                mem: b,
                off: 0,
            },
            // A read-only range: nothing can be written.
            Mem::Ro(_) => UserSliceWriter {
                mem: &mut [],
                off: 0,
                fault_at: 0,
            },
        }
    }
}

/// How many of `want` bytes at offset `off` of a `len`-byte range can be copied before the
/// fault mark; `EFAULT` if the request runs past the range itself.
fn valid_len(want: usize, len: usize, off: usize, fault_at: usize) -> Result<usize> {
    if want > len - off {
        return Err(code::EFAULT);
    }
    Ok(want.min(fault_at.saturating_sub(off)))
}

/// `EFAULT` when a copy stopped at the fault mark before `want` bytes.
fn fault_if_short(copied: usize, want: usize) -> Result {
    if copied < want {
        Err(code::EFAULT)
    } else {
        Ok(())
    }
}

/// Reads user memory, advancing.
pub struct UserSliceReader<'a> {
    mem: &'a [u8],
    off: usize,
    fault_at: usize,
}

impl<'a> UserSliceReader<'a> {
    /// Makes the bytes from offset `at` (from the start of the range) on invalid.
    pub fn with_fault_at(mut self, at: usize) -> UserSliceReader<'a> {
        self.fault_at = self.fault_at.min(at);
        self
    }

    /// Bytes left to read.
    pub fn len(&self) -> usize {
        self.mem.len() - self.off
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes read so far.
    pub fn offset(&self) -> usize {
        self.off
    }

    /// Skips `n` bytes (`EFAULT` if fewer are left).
    pub fn skip(&mut self, n: usize) -> Result {
        if n > self.len() {
            return Err(code::EFAULT);
        }
        self.off += n;
        Ok(())
    }

    /// Fills `out` from user memory. `EFAULT` if the range is too short or reaches an
    /// invalid address; the bytes before the fault are copied and consumed.
    pub fn read_slice(&mut self, out: &mut [u8]) -> Result {
        let ok = valid_len(out.len(), self.mem.len(), self.off, self.fault_at)?;
        out[..ok].copy_from_slice(&self.mem[self.off..self.off + ok]);
        self.off += ok;
        fault_if_short(ok, out.len())
    }
}

/// Writes user memory, advancing.
pub struct UserSliceWriter<'a> {
    mem: &'a mut [u8],
    off: usize,
    fault_at: usize,
}

impl<'a> UserSliceWriter<'a> {
    /// Makes the bytes from offset `at` (from the start of the range) on invalid.
    pub fn with_fault_at(mut self, at: usize) -> UserSliceWriter<'a> {
        self.fault_at = self.fault_at.min(at);
        self
    }

    /// Bytes left to write.
    pub fn len(&self) -> usize {
        self.mem.len() - self.off
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes written so far.
    pub fn offset(&self) -> usize {
        self.off
    }

    /// Copies `data` to user memory. `EFAULT` if the range is too short or reaches an
    /// invalid address; the bytes before the fault are written.
    pub fn write_slice(&mut self, data: &[u8]) -> Result {
        let ok = valid_len(data.len(), self.mem.len(), self.off, self.fault_at)?;
        self.mem[self.off..self.off + ok].copy_from_slice(&data[..ok]);
        self.off += ok;
        fault_if_short(ok, data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_advances_and_faults() {
        let data = [1u8, 2, 3, 4, 5, 6];
        let mut r = UserSlice::new_readonly(&data).with_fault_at(5).reader();
        let mut a = [0u8; 2];
        r.read_slice(&mut a).unwrap();
        assert_eq!((a, r.len(), r.offset()), ([1, 2], 4, 2));
        r.skip(1).unwrap();
        let mut b = [0u8; 3];
        assert_eq!(r.read_slice(&mut b), Err(code::EFAULT));
        assert_eq!(b, [4, 5, 0]);
        assert_eq!(r.offset(), 5);
        let mut big = [0u8; 9];
        assert_eq!(r.read_slice(&mut big), Err(code::EFAULT));
        assert_eq!(r.skip(9), Err(code::EFAULT));
    }

    #[test]
    fn writer_advances_and_faults() {
        let mut buf = [0u8; 4];
        {
            let mut w = UserSlice::new(&mut buf).with_fault_at(3).writer();
            w.write_slice(&[9, 8]).unwrap();
            assert_eq!(w.write_slice(&[7, 6]), Err(code::EFAULT));
            assert_eq!((w.offset(), w.len()), (3, 1));
        }
        assert_eq!(buf, [9, 8, 7, 0]);
        let ro = [0u8; 4];
        let mut w = UserSlice::new_readonly(&ro).writer();
        assert_eq!(w.write_slice(&[1]), Err(code::EFAULT));
        assert!(w.is_empty());
    }
}
