// SPDX-License-Identifier: BSD-2-Clause
//! Kernel errors, as in Rust-for-Linux's `kernel::error`, carrying DragonFly BSD's errno
//! numbers (`sys/sys/errno.h`).
//!
//! A driver returns [`Result<T>`]; the failing value is an [`Error`] built from one of the
//! constants in [`code`]. [`Error::name`] gives the errno's symbolic name (`"EBUSY"`), which
//! is what transcripts and logs print.

use core::fmt;

/// A kernel error: a positive DragonFly errno, or the kernel-internal `ERESTART` (-1).
///
/// # Invariants
///
/// The wrapped value is never 0 (0 means success and is expressed as `Ok`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error(i32);

/// The errno constants, as `kernel::error::code` in Rust-for-Linux.
pub mod code {
    use super::Error;

    macro_rules! declare_err {
        ($($name:ident = $val:expr, $doc:literal;)*) => {
            $(
                #[doc = $doc]
                pub const $name: Error = Error($val);
            )*
            /// Every named errno, in numeric order of declaration.
            pub(crate) const ALL: &[(Error, &str)] = &[$(($name, stringify!($name)),)*];
        };
    }

    declare_err! {
        EPERM = 1, "Operation not permitted.";
        ENOENT = 2, "No such file or directory.";
        ESRCH = 3, "No such process.";
        EINTR = 4, "Interrupted system call.";
        EIO = 5, "Input/output error.";
        ENXIO = 6, "Device not configured.";
        ENOMEM = 12, "Cannot allocate memory.";
        EACCES = 13, "Permission denied.";
        EFAULT = 14, "Bad address.";
        EBUSY = 16, "Device busy.";
        ENODEV = 19, "Operation not supported by device.";
        EINVAL = 22, "Invalid argument.";
        ENOTTY = 25, "Inappropriate ioctl for device.";
    }

    /// `EAGAIN` (35): DragonFly gives it the same number as `EWOULDBLOCK`
    /// ([`crate::bsd::errno::EWOULDBLOCK`]).
    pub const EAGAIN: Error = Error(35);
}

impl Error {
    /// Builds an error from an errno, as Rust-for-Linux's `Error::from_errno`: an errno
    /// outside DragonFly's range (`ERESTART` = -1, or 1..=`ELAST` = 99), 0 included, gives
    /// `EINVAL`.
    pub fn from_errno(errno: i32) -> Error {
        match Self::try_from_errno(errno) {
            Some(e) => e,
            None => code::EINVAL,
        }
    }

    /// Builds an error from an errno; `None` for 0 (success) or a number outside
    /// DragonFly's range (`ERESTART` = -1, or 1..=99).
    pub const fn try_from_errno(errno: i32) -> Option<Error> {
        if errno == -1 || (errno >= 1 && errno <= ELAST) {
            Some(Error(errno))
        } else {
            None
        }
    }

    /// The errno number (DragonFly numbering; `ERESTART` is -1).
    pub const fn to_errno(self) -> i32 {
        self.0
    }

    /// The symbolic name (`"EBUSY"`), or `None` for a number without a name here.
    pub fn name(self) -> Option<&'static str> {
        BSD_NAMES
            .iter()
            .find(|(e, _)| *e == self.0)
            .map(|(_, n)| *n)
            .or_else(|| code::ALL.iter().find(|(e, _)| *e == self).map(|(_, n)| *n))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "E{}", self.0),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Error {
    /// An error number of the BSD face ([`crate::bsd::errno`]), which Linux's
    /// `kernel::error::code` lacks.
    pub(crate) const fn bsd(errno: i32) -> Error {
        Error(errno)
    }
}

/// Names of the BSD-only numbers of [`crate::bsd::errno`] (35 is named `EWOULDBLOCK`, as
/// the C driver and the transcripts spell it).
const BSD_NAMES: &[(i32, &str)] = &[
    (35, "EWOULDBLOCK"),
    (45, "EOPNOTSUPP"),
    (47, "EAFNOSUPPORT"),
    (49, "EADDRNOTAVAIL"),
    (55, "ENOBUFS"),
    (64, "EHOSTDOWN"),
    (-1, "ERESTART"),
];

impl From<core::convert::Infallible> for Error {
    fn from(e: core::convert::Infallible) -> Self {
        match e {}
    }
}

/// The kernel's result type, as `kernel::error::Result` in Rust-for-Linux.
pub type Result<T = (), E = Error> = core::result::Result<T, E>;

/// `ELAST`: DragonFly's largest errno.
pub const ELAST: i32 = 99;

/// Converts a C-style return code (0 or an errno) into a [`Result`].
pub fn to_result(err: i32) -> Result {
    if err == 0 {
        Ok(())
    } else {
        Err(Error::from_errno(err))
    }
}

#[cfg(test)]
mod tests {
    use super::code::*;
    use super::*;
    use crate::bsd::errno::*;

    #[test]
    fn errno_numbers_are_dragonfly() {
        assert_eq!(EWOULDBLOCK.to_errno(), 35);
        assert_eq!(EAGAIN, EWOULDBLOCK);
        assert_eq!(EHOSTDOWN.to_errno(), 64);
        assert_eq!(ENOBUFS.to_errno(), 55);
        assert_eq!(ERESTART.to_errno(), -1);
    }

    #[test]
    fn names_and_unknown_numbers() {
        assert_eq!(EBUSY.name(), Some("EBUSY"));
        assert_eq!(EAGAIN.name(), Some("EWOULDBLOCK"));
        let odd = Error::try_from_errno(99).unwrap();
        assert_eq!(odd.name(), None);
        assert_eq!(format!("{odd}"), "E99");
        assert_eq!(Error::try_from_errno(0), None);
        assert_eq!(Error::try_from_errno(100), None);
        assert_eq!(Error::from_errno(0), EINVAL);
        assert_eq!(Error::from_errno(-7), EINVAL);
        assert_eq!(Error::from_errno(16), EBUSY);
        assert_eq!(to_result(0), Ok(()));
        assert_eq!(to_result(22), Err(EINVAL));
    }
}
