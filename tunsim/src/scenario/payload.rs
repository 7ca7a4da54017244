// SPDX-License-Identifier: BSD-2-Clause
//! Value syntaxes of the tun scenario language: numbers, IPv4 addresses,
//! interface flag sets, sockaddr specs and payload tokens.
//!
//! Everything here follows the reference interpreter
//! (`shared/oracle/src/interp.c`) to the byte, including the corners of the
//! C library routines it relies on (glibc `strtoll`/`strtoull` and
//! `sscanf("%u")`):
//!
//! * A number is an optional `-` followed by a *decimal digit*; `0x`/`0X`
//!   then selects hexadecimal.  Decimal values saturate at `i64::MAX`;
//!   the hexadecimal part is read by `strtoull`, so it may itself carry
//!   leading C white space, a sign and a second `0x` prefix, saturates at
//!   `u64::MAX` and is then reinterpreted as `i64`.  `0x` alone is 0.
//!   A leading `-` negates (wrapping).
//! * Dotted quads and `F:L` sockaddr specs are read with `%u`: each field
//!   may have leading white space and a sign, is read as an unsigned long
//!   (saturating), negated if signed, truncated to 32 bits and only then
//!   range-checked (`4294967296` is therefore 0).
//!
//! All routines work on bytes, so a token is never sliced on a UTF-8
//! boundary.

use std::sync::LazyLock;

use kmock::bsd::ifnet::IfFlags;

/// Largest `N` accepted by `zeros:N` and `pat:N` (also the largest
/// `read` length and `failalloc` count).
pub const MAX_COUNT: i64 = 1_000_000;

/// The names accepted in a flag set, with their `IFF_` values, in the
/// order the transcript lists them (`tun-facts.md` §1.5): kmock's
/// [`IfFlags`] without the `IFF_` prefix, one per bit, ascending.
pub static IFF_NAMES: LazyLock<Vec<(&'static str, u32)>> = LazyLock::new(|| {
    (0..u32::BITS)
        .filter_map(|i| {
            let (name, _) = IfFlags::from_bits(1 << i)?.iter_names().next()?;
            Some((name.strip_prefix("IFF_").unwrap_or(name), 1 << i))
        })
        .collect()
});

/// The IPv4 protocol number `ip4:` headers carry (253, experimental).
pub const IP4_PROTO: u8 = 253;
/// The TTL `ip4:` headers carry.
pub const IP4_TTL: u8 = 64;

/// C `isspace` in the "C" locale.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// glibc `strtoul`/`strtoull` on `s` with the given base (10 or 16).
/// Returns the value and the index where conversion stopped (`0`, i.e.
/// `nptr`, when nothing was converted).
fn c_strtoul(s: &[u8], base: u32) -> (u64, usize) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    if base == 16 && i + 1 < s.len() && s[i] == b'0' && (s[i + 1] | 0x20) == b'x' {
        i += 2;
    }
    let save = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let Some(d) = (s[i] as char).to_digit(base) else {
            break;
        };
        match value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == save {
        // No digits.  glibc lets "0x" followed by a non-digit end at the 'x'.
        let end = if save >= 2 && (s[save - 1] | 0x20) == b'x' && s[save - 2] == b'0' {
            save - 1
        } else {
            0
        };
        return (0, end);
    }
    if overflow {
        return (u64::MAX, i);
    }
    (
        if negative {
            value.wrapping_neg()
        } else {
            value
        },
        i,
    )
}

/// `parse_number` on bytes.
pub(crate) fn parse_number_bytes(tok: &[u8]) -> Option<i64> {
    let (neg, rest) = match tok.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, tok),
    };
    if !rest.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let value = if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        let hex = &rest[2..];
        let (v, end) = c_strtoul(hex, 16);
        if end != hex.len() {
            return None;
        }
        v as i64
    } else {
        // strtoll base 10 on a string that starts with a digit: no space,
        // no sign; it must consist of digits only.
        if !rest.iter().all(u8::is_ascii_digit) {
            return None;
        }
        rest.iter()
            .try_fold(0i64, |acc, &d| {
                acc.checked_mul(10)?.checked_add(i64::from(d - b'0'))
            })
            .unwrap_or(i64::MAX)
    };
    Some(if neg { value.wrapping_neg() } else { value })
}

/// Parses a scenario number the way the oracle's `parse_ll` does: an
/// optional `-`, then decimal digits, or `0x`/`0X` and hexadecimal digits
/// (read by `strtoull`, see the module notes).  The value is the C
/// `long long`; callers convert it to the field's C type with `as`.
pub fn parse_number(tok: &str) -> Option<i64> {
    parse_number_bytes(tok.as_bytes())
}

/// One `sscanf` `%u` conversion starting at `*i`; advances `*i`.
fn scan_u(s: &[u8], i: &mut usize) -> Option<u32> {
    let (v, end) = c_strtoul(&s[*i..], 10);
    if end == 0 {
        return None;
    }
    *i += end;
    Some(v as u32)
}

/// Reads `%u SEP %u SEP ... %u` (`n` numbers) covering all of `s`.
fn scan_u_list<const N: usize>(s: &[u8], sep: u8) -> Option<[u32; N]> {
    let mut out = [0u32; N];
    let mut i = 0;
    for (k, slot) in out.iter_mut().enumerate() {
        if k > 0 {
            if s.get(i) != Some(&sep) {
                return None;
            }
            i += 1;
        }
        *slot = scan_u(s, &mut i)?;
    }
    (i == s.len()).then_some(out)
}

/// `parse_ipv4` on bytes.
pub(crate) fn parse_ipv4_bytes(s: &[u8]) -> Option<[u8; 4]> {
    let q = scan_u_list::<4>(s, b'.')?;
    if q.iter().any(|&x| x > 255) {
        return None;
    }
    Some([q[0] as u8, q[1] as u8, q[2] as u8, q[3] as u8])
}

/// Parses a dotted quad `A.B.C.D` (each field 0..255 after the `%u`
/// quirks of the module notes) into network-order bytes.
pub fn parse_ipv4(tok: &str) -> Option<[u8; 4]> {
    parse_ipv4_bytes(tok.as_bytes())
}

/// Parses the `F:L` part of an `sa:F:L` destination into
/// `(family, len)`, both 0..255.
pub fn parse_sa_spec(spec: &str) -> Option<(u8, u8)> {
    let [fam, len] = scan_u_list::<2>(spec.as_bytes(), b':')?;
    if fam > 255 || len > 255 {
        return None;
    }
    Some((fam as u8, len as u8))
}

/// Parses a flag set: a number (converted to C `int`), or `IFF_` names
/// without the prefix joined by `|`.  As with `strtok`, empty names are
/// skipped, so `|` alone is 0.  Name lists of 256 bytes or more are
/// rejected (the oracle's buffer).
pub fn parse_flags(tok: &str) -> Option<i32> {
    if let Some(v) = parse_number(tok) {
        return Some(v as i32);
    }
    if tok.len() >= 256 {
        return None;
    }
    tok.split('|')
        .filter(|name| !name.is_empty())
        .try_fold(0i32, |acc, name| {
            IFF_NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, bit)| acc | bit as i32)
        })
}

/// The IPv4 header checksum as the oracle computes it: the one's
/// complement of the one's-complement sum of the big-endian 16-bit words
/// of `hdr` (an odd trailing byte is ignored).  Computed over a header
/// whose checksum field is zero, it is the value to store there.
pub fn ipv4_checksum(hdr: &[u8]) -> u16 {
    let mut sum: u32 = hdr
        .chunks_exact(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Builds the 20-byte header of an `ip4:SRC>DST` token; `total_len` is
/// 20 plus the payload bytes that follow the token (truncated to 16 bits).
pub fn ip4_header(src: [u8; 4], dst: [u8; 4], total_len: usize) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&(total_len as u16).to_be_bytes());
    h[8] = IP4_TTL;
    h[9] = IP4_PROTO;
    h[12..16].copy_from_slice(&src);
    h[16..20].copy_from_slice(&dst);
    let ck = ipv4_checksum(&h);
    h[10..12].copy_from_slice(&ck.to_be_bytes());
    h
}

fn is_hex_token(t: &[u8]) -> bool {
    !t.is_empty() && t.len() & 1 == 0 && t.iter().all(u8::is_ascii_hexdigit)
}

fn hex_val(d: u8) -> u8 {
    (d as char).to_digit(16).unwrap_or(0) as u8
}

/// A count for `zeros:`/`pat:`: a number in `0..=MAX_COUNT`.
fn count(t: &[u8]) -> Option<usize> {
    parse_number_bytes(t)
        .filter(|v| (0..=MAX_COUNT).contains(v))
        .map(|v| v as usize)
}

/// Concatenates payload tokens into bytes (spec §2.1).  Each token is the
/// first of these that fits: an even-length non-empty hex string;
/// `be32:N`, `le32:N` (N as C `uint32_t`); `zeros:N`, `pat:N`
/// (0 ≤ N ≤ 1000000); the first `ip4:SRC>DST` of the list (only the first
/// 63 bytes after `ip4:` are looked at, as in the oracle).
///
/// Errors (the harness message): `bad ip4 token 'TOK'` for an `ip4:`
/// token without `>` or with a bad address, `bad payload token 'TOK'`
/// for anything else, including a second `ip4:` token.
pub fn parse_payload(tokens: &[&str]) -> Result<Vec<u8>, String> {
    parse_payload_at(tokens).map_err(|(msg, _)| msg)
}

/// As [`parse_payload`], the error with the index in `tokens` of the token at fault.
pub fn parse_payload_at(tokens: &[&str]) -> Result<Vec<u8>, (String, usize)> {
    let mut out = Vec::new();
    let mut ip4: Option<(usize, [u8; 4], [u8; 4])> = None;
    for (at, tok) in tokens.iter().enumerate() {
        let t = tok.as_bytes();
        let num = |prefix: &[u8]| t.strip_prefix(prefix).and_then(parse_number_bytes);
        let cnt = |prefix: &[u8]| t.strip_prefix(prefix).and_then(count);
        if is_hex_token(t) {
            out.extend(
                t.chunks_exact(2)
                    .map(|p| hex_val(p[0]) << 4 | hex_val(p[1])),
            );
        } else if let Some(v) = num(b"be32:") {
            out.extend_from_slice(&(v as u32).to_be_bytes());
        } else if let Some(v) = num(b"le32:") {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        } else if let Some(n) = cnt(b"zeros:") {
            out.resize(out.len() + n, 0);
        } else if let Some(n) = cnt(b"pat:") {
            out.extend((0..n).map(|k| k as u8));
        } else if let (Some(spec), None) = (t.strip_prefix(b"ip4:"), ip4) {
            let spec = &spec[..spec.len().min(63)];
            let bad = || (format!("bad ip4 token '{tok}'"), at);
            let gt = spec.iter().position(|&b| b == b'>').ok_or_else(bad)?;
            let src = parse_ipv4_bytes(&spec[..gt]).ok_or_else(bad)?;
            let dst = parse_ipv4_bytes(&spec[gt + 1..]).ok_or_else(bad)?;
            ip4 = Some((out.len(), src, dst));
            out.extend_from_slice(&[0u8; 20]);
        } else {
            return Err((format!("bad payload token '{tok}'"), at));
        }
    }
    if let Some((at, src, dst)) = ip4 {
        let total = out.len() - at;
        out[at..at + 20].copy_from_slice(&ip4_header(src, dst, total));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::transcript::hex_groups;

    #[test]
    fn numbers_decimal_and_hex() {
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("1500"), Some(1500));
        assert_eq!(parse_number("-5"), Some(-5));
        assert_eq!(parse_number("005"), Some(5)); // decimal, not octal
        assert_eq!(parse_number("0x8010"), Some(0x8010));
        assert_eq!(parse_number("0X1f"), Some(0x1f));
        assert_eq!(parse_number("-0x10"), Some(-16));
        assert_eq!(parse_number("-0"), Some(0));
    }

    #[test]
    fn numbers_rejected() {
        for t in [
            "", "-", "+5", "x5", "5x", "1e3", "--5", "0xg", "0x0x", "0x-", "0x-0x", " 5",
        ] {
            assert_eq!(parse_number(t), None, "{t:?}");
        }
    }

    #[test]
    fn numbers_strtoull_corners() {
        // All checked against the oracle (ioctl tun0 FIONBIO TOK / failalloc TOK).
        assert_eq!(parse_number("0x"), Some(0));
        assert_eq!(parse_number("-0x"), Some(0));
        assert_eq!(parse_number("0x0x5"), Some(5));
        assert_eq!(parse_number("0x+5"), Some(5));
        assert_eq!(parse_number("0x-5"), Some(-5));
        assert_eq!(parse_number("-0x-5"), Some(5));
        assert_eq!(parse_number("0x\x0b5"), Some(5));
        assert_eq!(parse_number("0x00000000000000000000000001"), Some(1));
        assert_eq!(parse_number("0xffffffffffffffff"), Some(-1));
        assert_eq!(parse_number("-0xfffffffffffffffff"), Some(1)); // saturates
        assert_eq!(parse_number("18446744073709551617"), Some(i64::MAX));
        assert_eq!(parse_number("-9223372036854775808"), Some(-i64::MAX));
        assert_eq!(parse_number("-0x8000000000000000"), Some(i64::MIN));
    }

    #[test]
    fn ipv4_addresses() {
        assert_eq!(parse_ipv4("10.0.0.1"), Some([10, 0, 0, 1]));
        assert_eq!(parse_ipv4("01.02.03.004"), Some([1, 2, 3, 4]));
        assert_eq!(parse_ipv4("+1.2.3.4"), Some([1, 2, 3, 4]));
        assert_eq!(parse_ipv4("4294967296.0.0.1"), Some([0, 0, 0, 1]));
        assert_eq!(parse_ipv4("-4294967295.0.0.1"), Some([1, 0, 0, 1]));
        assert_eq!(parse_ipv4("1.\x0b2.3.4"), Some([1, 2, 3, 4]));
        for t in [
            "",
            "1.2.3",
            "1.2.3.4.",
            "1.2.3.4x",
            "1..2.3",
            "256.1.1.1",
            "-1.0.0.1",
            "18446744073709551617.1.1.1",
            "0x1.2.3.4",
        ] {
            assert_eq!(parse_ipv4(t), None, "{t:?}");
        }
    }

    #[test]
    fn sa_specs() {
        assert_eq!(parse_sa_spec("2:16"), Some((2, 16)));
        assert_eq!(parse_sa_spec("+2:16"), Some((2, 16)));
        assert_eq!(parse_sa_spec("-0:1"), Some((0, 1)));
        assert_eq!(parse_sa_spec("4294967298:3"), Some((2, 3)));
        assert_eq!(parse_sa_spec("2:-4294967295"), Some((2, 1)));
        for t in ["256:1", "2:16:", "2:", ":2", "2:16x", "2:-1", "2"] {
            assert_eq!(parse_sa_spec(t), None, "{t:?}");
        }
    }

    #[test]
    fn flag_sets() {
        assert_eq!(parse_flags("POINTOPOINT|MULTICAST"), Some(0x8010));
        assert_eq!(parse_flags("0x8010"), Some(0x8010));
        assert_eq!(parse_flags("-1"), Some(-1));
        assert_eq!(parse_flags("0x100000001"), Some(1));
        assert_eq!(parse_flags("UP||BROADCAST"), Some(3));
        assert_eq!(parse_flags("|UP|"), Some(1));
        assert_eq!(parse_flags("|"), Some(0));
        assert_eq!(parse_flags("NPOLLING"), Some(0x100000));
        assert_eq!(parse_flags("up"), None);
        assert_eq!(parse_flags("UP|0x1"), None);
        assert_eq!(parse_flags(&"UP|".repeat(86)), None); // 258 bytes
        assert_eq!(parse_flags(&format!("{}UP", "|".repeat(253))), Some(1));
    }

    #[test]
    fn payload_simple_tokens() {
        assert_eq!(parse_payload(&[]), Ok(vec![]));
        assert_eq!(
            parse_payload(&["45000014", "dead", "BEEF"]),
            Ok(vec![0x45, 0, 0, 0x14, 0xde, 0xad, 0xbe, 0xef])
        );
        assert_eq!(parse_payload(&["be32:2"]), Ok(vec![0, 0, 0, 2]));
        assert_eq!(parse_payload(&["le32:0x1c"]), Ok(vec![0x1c, 0, 0, 0]));
        assert_eq!(parse_payload(&["be32:-1"]), Ok(vec![0xff; 4]));
        assert_eq!(parse_payload(&["be32:0x100000002"]), Ok(vec![0, 0, 0, 2]));
        assert_eq!(parse_payload(&["zeros:3"]), Ok(vec![0; 3]));
        assert_eq!(parse_payload(&["zeros:0", "pat:0"]), Ok(vec![]));
        let p = parse_payload(&["pat:258"]).unwrap();
        assert_eq!(p.len(), 258);
        assert_eq!((p[0], p[255], p[256], p[257]), (0, 255, 0, 1));
        assert_eq!(parse_payload(&["zeros:1000000"]).unwrap().len(), 1_000_000);
    }

    #[test]
    fn payload_errors() {
        for t in [
            "abc",
            "xy",
            "zeros:-1",
            "zeros:1000001",
            "pat:x",
            "be32:",
            "le32:z",
            "ip6:1",
        ] {
            assert_eq!(
                parse_payload(&["00", t]),
                Err(format!("bad payload token '{t}'")),
                "{t}"
            );
        }
        for t in ["ip4:1.2.3.4", "ip4:1.2.3>4.5.6.7", "ip4:1.2.3.4>", "ip4:"] {
            assert_eq!(parse_payload(&[t]), Err(format!("bad ip4 token '{t}'")));
        }
        // At most one ip4: token per payload.
        assert_eq!(
            parse_payload(&["ip4:1.2.3.4>5.6.7.8", "ip4:1.2.3.4>5.6.7.8"]),
            Err("bad payload token 'ip4:1.2.3.4>5.6.7.8'".into())
        );
        // The first error wins.
        assert_eq!(
            parse_payload(&["q", "ip4:x"]),
            Err("bad payload token 'q'".into())
        );
    }

    #[test]
    fn payload_ip4_header() {
        let p = parse_payload(&["ip4:10.0.0.1>10.0.0.2", "pat:12"]).unwrap();
        assert_eq!(
            hex_groups(&p),
            "45000020 00000000 40fd65df 0a000001 0a000002 00010203 04050607 08090a0b"
        );
        let p = parse_payload(&["ip4:10.0.0.1>10.0.0.2", "pat:100"]).unwrap();
        assert_eq!(hex_groups(&p[..12]), "45000078 00000000 40fd6587");
        let p = parse_payload(&["be32:2", "ip4:10.0.0.2>10.0.0.1", "beef"]).unwrap();
        assert_eq!(
            hex_groups(&p),
            "00000002 45000016 00000000 40fd65e9 0a000002 0a000001 beef"
        );
        // Only the 63 bytes after "ip4:" are looked at.
        let long = format!("ip4:{}1.2.3.4>5.6.7.8garbage", "0".repeat(48));
        assert_eq!(long.len() - 4 - 7, 63);
        let p = parse_payload(&[long.as_str()]).unwrap();
        assert_eq!(hex_groups(&p[12..20]), "01020304 05060708");
    }

    #[test]
    fn checksum_and_header() {
        let h = ip4_header([10, 0, 0, 1], [10, 0, 0, 2], 20);
        assert_eq!(ipv4_checksum(&h), 0);
        assert_eq!(ipv4_checksum(&[0xff, 0xff]), 0);
        assert_eq!(ipv4_checksum(&[]), 0xffff);
        assert_eq!(ipv4_checksum(&[0x12, 0x34, 0x56]), !0x1234);
        // total length is truncated to 16 bits
        assert_eq!(&ip4_header([0; 4], [0; 4], 0x10014)[2..4], &[0, 0x14]);
    }
}
