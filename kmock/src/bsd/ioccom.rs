// SPDX-License-Identifier: BSD-2-Clause
//! ioctl command encoding (`sys/sys/ioccom.h`) and the generic ioctl numbers the tun
//! driver handles (`sys/filio.h`, `sys/sockio.h`, `sys/ttycom.h`).
//!
//! `_IOC(inout, group, num, len) = inout | ((len & IOCPARM_MASK) << 16) | (group << 8) | num`.

/// `IOCPARM_MASK`: parameter length mask (13 bits).
pub const IOCPARM_MASK: u32 = 0x1fff;
/// `IOC_VOID`: no parameters.
pub const IOC_VOID: u32 = 0x2000_0000;
/// `IOC_OUT`: copy parameters out.
pub const IOC_OUT: u32 = 0x4000_0000;
/// `IOC_IN`: copy parameters in.
pub const IOC_IN: u32 = 0x8000_0000;
/// `IOC_INOUT`.
pub const IOC_INOUT: u32 = IOC_IN | IOC_OUT;

/// `_IOC(inout, group, num, len)`.
pub const fn _IOC(inout: u32, group: u8, num: u8, len: usize) -> u32 {
    inout | (((len as u32) & IOCPARM_MASK) << 16) | ((group as u32) << 8) | num as u32
}

/// `_IO(g, n)`: no parameter.
pub const fn _IO(g: u8, n: u8) -> u32 {
    _IOC(IOC_VOID, g, n, 0)
}

/// `_IOR(g, n, t)`: the kernel writes a `t` (`len = sizeof(t)`).
pub const fn _IOR(g: u8, n: u8, len: usize) -> u32 {
    _IOC(IOC_OUT, g, n, len)
}

/// `_IOW(g, n, t)`: the kernel reads a `t`.
pub const fn _IOW(g: u8, n: u8, len: usize) -> u32 {
    _IOC(IOC_IN, g, n, len)
}

/// `_IOWR(g, n, t)`: both.
pub const fn _IOWR(g: u8, n: u8, len: usize) -> u32 {
    _IOC(IOC_INOUT, g, n, len)
}

/// `IOCPARM_LEN(x)`: the parameter length encoded in a command.
pub const fn IOCPARM_LEN(x: u32) -> usize {
    ((x >> 16) & IOCPARM_MASK) as usize
}

const INT: usize = core::mem::size_of::<i32>();
/// `sizeof(struct ifreq)` on x86_64.
pub const IFREQ_SIZE: usize = 32;
/// `IFNAMSIZ`.
pub const IFNAMSIZ: usize = 16;
/// `IFSTATMAX`: bytes of `ifstat.ascii` before its terminator.
pub const IFSTATMAX: usize = 800;
/// `sizeof(struct ifstat)`: name + ascii\[IFSTATMAX + 1\].
pub const IFSTAT_SIZE: usize = IFNAMSIZ + IFSTATMAX + 1;

/// `FIONREAD`: bytes ready to read.
pub const FIONREAD: u32 = _IOR(b'f', 127, INT);
/// `FIONBIO`: set/clear non-blocking I/O.
pub const FIONBIO: u32 = _IOW(b'f', 126, INT);
/// `FIOASYNC`: set/clear async I/O (SIGIO).
pub const FIOASYNC: u32 = _IOW(b'f', 125, INT);
/// `FIOSETOWN`: set the SIGIO owner.
pub const FIOSETOWN: u32 = _IOW(b'f', 124, INT);
/// `FIOGETOWN`: get the SIGIO owner.
pub const FIOGETOWN: u32 = _IOR(b'f', 123, INT);
/// `TIOCSPGRP`: set the owner process group.
pub const TIOCSPGRP: u32 = _IOW(b't', 118, INT);
/// `TIOCGPGRP`: get the owner process group.
pub const TIOCGPGRP: u32 = _IOR(b't', 119, INT);
/// `TIOCSIG`: send a signal (same number as the tun driver's `TUNSIFPID`).
pub const TIOCSIG: u32 = _IO(b't', 95);
/// `SIOCSIFADDR`.
pub const SIOCSIFADDR: u32 = _IOW(b'i', 12, IFREQ_SIZE);
/// `SIOCSIFDSTADDR`.
pub const SIOCSIFDSTADDR: u32 = _IOW(b'i', 14, IFREQ_SIZE);
/// `SIOCSIFFLAGS`.
pub const SIOCSIFFLAGS: u32 = _IOW(b'i', 16, IFREQ_SIZE);
/// `SIOCADDMULTI`.
pub const SIOCADDMULTI: u32 = _IOW(b'i', 49, IFREQ_SIZE);
/// `SIOCDELMULTI`.
pub const SIOCDELMULTI: u32 = _IOW(b'i', 50, IFREQ_SIZE);
/// `SIOCGIFMTU`.
pub const SIOCGIFMTU: u32 = _IOWR(b'i', 51, IFREQ_SIZE);
/// `SIOCSIFMTU`.
pub const SIOCSIFMTU: u32 = _IOW(b'i', 52, IFREQ_SIZE);
/// `SIOCGIFSTATUS`.
pub const SIOCGIFSTATUS: u32 = _IOWR(b'i', 59, IFSTAT_SIZE);

/// Reads the `int` at the start of an ioctl argument buffer (`*(int *)data`); `EFAULT` if
/// the buffer is shorter than an int.
pub fn data_i32(data: &[u8]) -> crate::error::Result<i32> {
    let b = data.get(..INT).ok_or(crate::error::code::EFAULT)?;
    Ok(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Writes `*(int *)data = v`; `EFAULT` if the buffer is shorter than an int.
pub fn set_data_i32(data: &mut [u8], v: i32) -> crate::error::Result {
    let b = data.get_mut(..INT).ok_or(crate::error::code::EFAULT)?;
    b.copy_from_slice(&v.to_ne_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_dragonfly() {
        assert_eq!(FIONREAD, 0x4004667f);
        assert_eq!(FIONBIO, 0x8004667e);
        assert_eq!(FIOASYNC, 0x8004667d);
        assert_eq!(FIOSETOWN, 0x8004667c);
        assert_eq!(FIOGETOWN, 0x4004667b);
        assert_eq!(TIOCSPGRP, 0x80047476);
        assert_eq!(TIOCGPGRP, 0x40047477);
        assert_eq!(TIOCSIG, 0x2000745f);
        assert_eq!(SIOCSIFADDR, 0x8020690c);
        assert_eq!(SIOCSIFDSTADDR, 0x8020690e);
        assert_eq!(SIOCSIFFLAGS, 0x80206910);
        assert_eq!(SIOCADDMULTI, 0x80206931);
        assert_eq!(SIOCDELMULTI, 0x80206932);
        assert_eq!(SIOCSIFMTU, 0x80206934);
        assert_eq!(SIOCGIFSTATUS, 0xc331693b);
        assert_eq!(IOCPARM_LEN(SIOCGIFSTATUS), 817);
    }

    #[test]
    fn int_accessors_refuse_short_buffers() {
        let mut b = [0u8; 4];
        set_data_i32(&mut b, -5).unwrap();
        assert_eq!(data_i32(&b), Ok(-5));
        assert!(data_i32(&b[..3]).is_err());
        assert!(set_data_i32(&mut b[..2], 1).is_err());
    }
}
