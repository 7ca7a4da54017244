// SPDX-License-Identifier: BSD-2-Clause
//! Socket addresses (`sys/socket.h`, `netinet/in.h`): BSD's `struct sockaddr` with its
//! length byte `sa_len`.

/// `AF_UNSPEC`.
pub const AF_UNSPEC: u8 = 0;
/// `AF_INET`.
pub const AF_INET: u8 = 2;
/// `AF_APPLETALK`.
pub const AF_APPLETALK: u8 = 16;
/// `AF_LINK`.
pub const AF_LINK: u8 = 18;
/// `AF_IPX`.
pub const AF_IPX: u8 = 23;
/// `AF_INET6`.
pub const AF_INET6: u8 = 28;

/// `SOCK_MAXADDRLEN`: the longest `sa_len`.
pub const SOCK_MAXADDRLEN: usize = 255;

/// A `struct sockaddr` of any family: `sa_len`, `sa_family`, then family-specific bytes,
/// stored in a zeroed buffer large enough for any `sa_len`.
#[derive(Clone, PartialEq, Eq)]
pub struct SockAddr {
    bytes: [u8; 256],
}

impl core::fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SockAddr")
            .field("sa_len", &self.sa_len())
            .field("sa_family", &self.sa_family())
            .field("bytes", &self.as_bytes())
            .finish()
    }
}

impl SockAddr {
    /// A zeroed sockaddr with the given length and family.
    pub fn new(family: u8, len: u8) -> Self {
        let mut bytes = [0u8; 256];
        bytes[0] = len;
        bytes[1] = family;
        SockAddr { bytes }
    }

    /// A `sockaddr_in` (16 bytes) for IPv4 address `a`, port 0.
    pub fn inet(a: [u8; 4]) -> Self {
        let mut s = Self::new(AF_INET, 16);
        s.bytes[4..8].copy_from_slice(&a);
        s
    }

    /// A `sockaddr_in6` (28 bytes), all zero but length and family.
    pub fn inet6() -> Self {
        Self::new(AF_INET6, 28)
    }

    /// An `AF_LINK` address (`sockaddr_dl`, 20 bytes, contents zero).
    pub fn link() -> Self {
        Self::new(AF_LINK, 20)
    }

    /// `sa_len`.
    pub fn sa_len(&self) -> u8 {
        self.bytes[0]
    }

    /// `sa_family`.
    pub fn sa_family(&self) -> u8 {
        self.bytes[1]
    }

    /// Sets `sa_family`.
    pub fn set_family(&mut self, f: u8) {
        self.bytes[1] = f;
    }

    /// The first `sa_len` bytes: what `bcopy(dst, p, dst->sa_len)` copies.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.sa_len() as usize]
    }

    /// The whole 256-byte buffer, writable (for building unusual addresses).
    pub fn raw_mut(&mut self) -> &mut [u8; 256] {
        &mut self.bytes
    }

    /// `sin_addr` of an `AF_INET` address (bytes 4..8), or `None` for other families.
    pub fn inet_addr(&self) -> Option<[u8; 4]> {
        (self.sa_family() == AF_INET)
            .then(|| [self.bytes[4], self.bytes[5], self.bytes[6], self.bytes[7]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_in_layout() {
        let s = SockAddr::inet([10, 0, 0, 2]);
        assert_eq!(
            s.as_bytes(),
            &[16, 2, 0, 0, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(s.inet_addr(), Some([10, 0, 0, 2]));
        assert_eq!(SockAddr::inet6().inet_addr(), None);
    }
}
