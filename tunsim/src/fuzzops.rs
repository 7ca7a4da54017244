// SPDX-License-Identifier: BSD-2-Clause
//! Fuzzing operations: arbitrary bytes decoded into a sequence of entry-point calls on both
//! sides of the driver, an executor that runs them on a fresh kernel and checks the softc
//! invariants after each, and each operation's scenario-language form (for differential
//! runs against the C oracle).
//!
//! Shared by the cargo-fuzz target (`fuzz/`), the proptest state machine
//! (`tests/fuzz_props.rs`) and the differential tool (`tools/fuzz-diff/`, through the
//! `fuzz_scenario` example).
//!
//! - [`decode`] turns any byte string into [`Op`]s (a hand-written decoder: every input
//!   decodes, and nearby inputs give nearby sequences, which suits coverage-guided mutation).
//! - [`World`] runs them like the scenario runner does — one kernel with if_tun loaded,
//!   turn-taking kernel threads for reads, so a read that sleeps becomes a job and runs again
//!   only when woken or signalled — but with what the scenario language cannot say as well:
//!   short ioctl buffers, `Kernel::fail_alloc_nth`, process-level signals.
//! - [`World::check`] is the invariant check: for every unit, `TUN_READY` iff a descriptor
//!   is open (and `TUN_INITED` always), never `TUN_LMODE` and `TUN_IFHEAD` together, the send
//!   queue within its `maxlen` (and empty when closed), `tun_pid` 0 when closed, no knote left
//!   on a closed unit, every job asleep on an open unit (and no other thread asleep), and
//!   every live mbuf on a send queue once netisr is drained. [`World::finish`] interrupts the jobs, closes everything, and
//!   requires zero live mbufs before and after unloading the driver.
//! - [`Op::scenario_lines`] gives an operation's scenario form, or `None` when the language
//!   cannot express it; [`scenario`] renders a whole sequence.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use if_tun::abi::TunInfo;
use if_tun::{TunFlags, TunModule, TunSoftc};
use kmock::bsd::bpf::BpfListener;
use kmock::bsd::devfs::File;
use kmock::bsd::ifnet::{ifioctl, ifreq_with_mtu, IfAddr, IfIoctlArg, IfnetDyn};
use kmock::bsd::ioccom::*;
use kmock::bsd::kqueue::{Knote, EVFILT_READ, EVFILT_WRITE};
use kmock::bsd::mbuf::{MbufFlags, MHLEN, MLEN};
use kmock::bsd::socket::SockAddr;
use kmock::bsd::uio::{Uio, IO_NDELAY};
use kmock::module::LoadedModule;
use kmock::sched::{Kthread, KthreadState};
use kmock::{Error, Kernel};

use crate::scenario::command::{Dst, IfAddrSpec, IfIoctlReq, IoctlReq, NamedIoctl};
use crate::scenario::payload::parse_payload;
use crate::scenario::status::SoftcStatus;

/// Units the operations name: `tun0`…`tun7` (`tun0`–`tun3` exist at boot, the others once
/// the autoclone node has made them).
pub const UNITS: u8 = 8;
/// Most operations decoded from one input.
pub const MAX_OPS: usize = 256;
/// Most bytes of one arbitrary-bytes payload piece.
pub const MAX_HEX: usize = 96;
/// Largest `pat:`/`zeros:` piece (above `TUNMRU`, 16384, so `EIO` is reachable).
pub const MAX_PAT: u16 = 17_000;
/// The processes of the world: pid, process group, session, uid. Pid 100 (root) is current
/// at boot; 200 is an unprivileged member of process group 500, 201 a root member of it,
/// 300 root in another session, 66 is uid `uucp` (the nodes' owner, not root).
pub const PROCS: [(i32, i32, i32, u32); 5] = [
    (100, 100, 1, 0),
    (200, 500, 1, 1000),
    (201, 500, 1, 0),
    (300, 300, 2, 0),
    (66, 66, 1, 66),
];

/// A device node to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// `tunN`.
    Unit(u8),
    /// The autoclone node `tun`.
    Clone,
}

/// One token of a payload (scenario-language.md §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Arbitrary bytes (hex tokens).
    Bytes(Vec<u8>),
    /// `be32:N`: a `TUNSIFHEAD` family word.
    Be32(u32),
    /// `le32:N`: a DLT_NULL/bpf family word (for `unspec` output).
    Le32(u32),
    /// `pat:N`.
    Pat(u16),
    /// `zeros:N`.
    Zeros(u16),
    /// `ip4:SRC>DST`: a 20-byte IPv4 header covering what follows.
    Ip4([u8; 4], [u8; 4]),
}

/// A payload: its pieces, concatenated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Payload(pub Vec<Piece>);

impl Payload {
    /// The scenario tokens.
    pub fn tokens(&self) -> Vec<String> {
        let mut t = Vec::new();
        for p in &self.0 {
            match p {
                Piece::Bytes(b) => {
                    for c in b.chunks(32) {
                        t.push(c.iter().fold(String::new(), |mut s, x| {
                            let _ = write!(s, "{x:02x}");
                            s
                        }))
                    }
                }
                Piece::Be32(v) => t.push(format!("be32:{v}")),
                Piece::Le32(v) => t.push(format!("le32:{v}")),
                Piece::Pat(n) => t.push(format!("pat:{n}")),
                Piece::Zeros(n) => t.push(format!("zeros:{n}")),
                Piece::Ip4(s, d) => t.push(format!(
                    "ip4:{}.{}.{}.{}>{}.{}.{}.{}",
                    s[0], s[1], s[2], s[3], d[0], d[1], d[2], d[3]
                )),
            }
        }
        t
    }

    /// The bytes, exactly as the scenario language builds them from [`Payload::tokens`].
    pub fn bytes(&self) -> Vec<u8> {
        let toks = self.tokens();
        let refs: Vec<&str> = toks.iter().map(String::as_str).collect();
        parse_payload(&refs).expect("fuzzops payload tokens are valid")
    }
}

/// The buffer an ioctl gets: the scenario language's (zeroed, `max(IOCPARM_LEN, 1024)`
/// bytes) or a short one of the given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buf {
    /// As the scenario language passes it.
    Natural,
    /// `n` bytes (the first 4 or 8 filled as far as they fit).
    Short(u8),
}

/// One entry-point call or kernel event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `open("/dev/NODE")` as the current process.
    Open(Node),
    /// Last close of `tunN`'s descriptor (skipped while a job sleeps reading it).
    Close(u8),
    /// Close then open `tunN` again.
    Reopen(u8),
    /// Close `tunN`'s descriptor even while a job sleeps reading it: the last close (knote
    /// detach, `d_close`) waits until the read returns, and the unit stays open until then.
    CloseInFlight(u8),
    /// `read` with a `len`-byte buffer; blocking unless `nonblock` (or `FIONBIO`).
    Read {
        /// Unit.
        unit: u8,
        /// Buffer length.
        len: u32,
        /// `IO_NDELAY`.
        nonblock: bool,
    },
    /// `write` of a payload.
    Write {
        /// Unit.
        unit: u8,
        /// The bytes.
        payload: Payload,
    },
    /// `ioctl` on the descriptor (FIONBIO through the generic layer, the rest to `d_ioctl`).
    Ioctl {
        /// Unit.
        unit: u8,
        /// Request and argument.
        req: IoctlReq,
        /// Argument buffer.
        buf: Buf,
    },
    /// `kq add`: register a knote with this filter.
    KqAdd {
        /// Unit.
        unit: u8,
        /// `EVFILT_*` or any short.
        filter: i16,
    },
    /// `kq check K`.
    KqCheck(u8),
    /// `kq del K`.
    KqDel(u8),
    /// `ifp->if_output` of a packet the environment builds.
    IfOutput {
        /// Unit.
        unit: u8,
        /// Destination sockaddr.
        dst: Dst,
        /// The bytes.
        payload: Payload,
        /// Leading space in the first mbuf (0..=56).
        lead: u8,
        /// Explicit mbuf lengths (`seg=`), else the default split.
        segs: Option<Vec<usize>>,
        /// `M_MCAST`.
        mcast: bool,
    },
    /// `ifioctl()` (the generic layer), or the driver for a raw number.
    IfIoctl {
        /// Unit.
        unit: u8,
        /// Request.
        req: IfIoctlReq,
    },
    /// The driver's `if_ioctl` with no data (`None`) or a short `ifreq`.
    IfIoctlShort {
        /// Unit.
        unit: u8,
        /// Command.
        cmd: u32,
        /// `ifr_mtu` (written if the buffer holds it).
        arg: i32,
        /// Buffer length, or no buffer at all.
        len: Option<u8>,
    },
    /// `ifp->if_start`.
    IfStart(u8),
    /// Append an address without telling the driver.
    IfAddr {
        /// Unit.
        unit: u8,
        /// The address.
        addr: IfAddrSpec,
    },
    /// Attach (`true`) or detach a bpf listener.
    Bpf {
        /// Unit.
        unit: u8,
        /// Attach or detach.
        attach: bool,
    },
    /// `ALTQF_ENABLED` on or off.
    Altq {
        /// Unit.
        unit: u8,
        /// On.
        on: bool,
    },
    /// Signal job J (1-based): its `tsleep` returns `EINTR` or `ERESTART`.
    Interrupt {
        /// Job number.
        job: u8,
        /// `ERESTART`.
        restart: bool,
    },
    /// `wait J`.
    Wait(u8),
    /// A signal pending for the current process (every `PCATCH` sleep of it returns early
    /// until [`Op::ClearSignal`]).
    PostSignal {
        /// `ERESTART` rather than `EINTR`.
        restart: bool,
    },
    /// The current process's pending signal is delivered (cleared).
    ClearSignal,
    /// `failalloc N|off`: the mbuf zone fails its N-th next driver allocation.
    FailAlloc(Option<u32>),
    /// `Kernel::fail_alloc_nth(n)`: the n-th next allocation of any kind fails.
    FailAllocNth(u64),
    /// `as PID` (one of [`PROCS`]).
    As(i32),
    /// `show tunN` (reads the state; a scenario prints it).
    Show(u8),
    /// `mbufs`.
    Mbufs,
}

/// The scenario name of unit `u`.
pub fn unit_name(u: u8) -> String {
    format!("tun{u}")
}

/// Reads an input byte by byte; past its end every read gives 0 and [`Reader::done`] is true.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Whether every byte has been read.
    pub fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The next byte, if any.
    pub fn take_byte(&mut self) -> Option<u8> {
        let b = self.data.get(self.pos).copied();
        self.pos += 1;
        b
    }

    /// The next byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        self.take_byte().unwrap_or(0)
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// One bit.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }

    /// A value below `n` (n ≥ 1).
    pub fn below(&mut self, n: u8) -> u8 {
        self.u8() % n
    }

    /// Up to `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let end = (self.pos + n).min(self.data.len());
        let v = self.data.get(self.pos..end).unwrap_or_default().to_vec();
        self.pos += n;
        v
    }
}

/// Integers that reach the drivers' branches (pids, process groups, mtu bounds, extremes);
/// otherwise a raw 32-bit value.
fn int_arg(r: &mut Reader<'_>) -> i32 {
    const I: [i32; 24] = [
        0,
        1,
        -1,
        2,
        100,
        -100,
        200,
        -200,
        201,
        300,
        -300,
        500,
        -500,
        66,
        -66,
        71,
        72,
        1500,
        65535,
        65536,
        i32::MIN,
        i32::MAX,
        999,
        -999,
    ];
    let s = r.u8();
    match I.get(usize::from(s / 8)) {
        Some(v) if s % 8 != 7 => *v,
        _ => r.u32() as i32,
    }
}

fn addr(r: &mut Reader<'_>) -> [u8; 4] {
    match r.below(6) {
        0 => [10, 0, 0, 1],
        1 => [10, 0, 0, 2],
        2 => [0, 0, 0, 0],
        3 => [255, 255, 255, 255],
        _ => r.u32().to_be_bytes(),
    }
}

fn family(r: &mut Reader<'_>) -> u32 {
    match r.below(9) {
        0 | 1 => 2,
        2 => 28,
        3 => 0,
        4 => 23,
        5 => 99,
        6 => 16,
        7 => u32::from(r.u8()),
        _ => r.u32(),
    }
}

fn flags(r: &mut Reader<'_>) -> i32 {
    use kmock::bsd::ifnet::IfFlags as F;
    let b = |f: F| f.bits() as i32;
    match r.below(10) {
        0 => b(F::IFF_POINTOPOINT),
        1 => b(F::IFF_BROADCAST),
        2 => b(F::IFF_POINTOPOINT | F::IFF_MULTICAST),
        3 => b(F::IFF_BROADCAST | F::IFF_MULTICAST),
        4 => 0,
        5 => b(F::IFF_UP | F::IFF_POINTOPOINT | F::IFF_MULTICAST),
        6 => b(F::IFF_UP | F::IFF_BROADCAST | F::IFF_PPROMISC),
        7 => b(F::IFF_UP | F::IFF_SMART),
        8 => b(F::IFF_UP),
        _ => r.u32() as i32,
    }
}

fn payload(r: &mut Reader<'_>) -> Payload {
    let n = r.below(4);
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(match r.below(10) {
            0..=2 => {
                let len = usize::from(r.u8()) % (MAX_HEX + 1);
                Piece::Bytes(r.bytes(len))
            }
            3 => Piece::Be32(family(r)),
            4 => Piece::Le32(family(r)),
            5 | 6 => Piece::Pat(match r.below(4) {
                0 => u16::from(r.u8()) % 130,
                1 | 2 => r.u16() % 2100,
                _ => r.u16() % (MAX_PAT + 1),
            }),
            7 => Piece::Zeros(r.u16() % 400),
            _ => Piece::Ip4(addr(r), addr(r)),
        });
    }
    // At most one ip4: token per line (§2.1).
    let mut seen = false;
    v.retain(|p| !matches!(p, Piece::Ip4(..)) || !std::mem::replace(&mut seen, true));
    Payload(v)
}

/// Explicit mbuf lengths for `len` bytes with `lead` bytes of leading space: zero-length
/// mbufs allowed, each within its mbuf's data area, adding up to `len`.
fn segs(r: &mut Reader<'_>, len: usize, lead: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut rest = len;
    loop {
        let cap = if v.is_empty() { MHLEN - lead } else { MLEN };
        let take = match r.take_byte() {
            Some(b) if v.len() < 40 => rest.min(usize::from(b) % (cap + 1)),
            _ => rest.min(cap),
        };
        v.push(take);
        rest -= take;
        if rest == 0 && (v.len() >= 2 || r.u8() & 3 != 0) {
            return v;
        }
    }
}

fn ioctl_req(r: &mut Reader<'_>) -> IoctlReq {
    use crate::scenario::command::ArgKind;
    let k = r.below(22);
    if let Some(&ioctl) = NamedIoctl::ALL.get(usize::from(k)) {
        return match ioctl.kind() {
            ArgKind::IntIn => IoctlReq::SetInt {
                ioctl,
                value: int_arg(r),
            },
            ArgKind::IntOut => IoctlReq::GetInt {
                ioctl,
                preset: int_arg(r),
            },
            ArgKind::FlagsIn => IoctlReq::TunsIfMode(flags(r)),
            ArgKind::InfoIn => IoctlReq::TunsIfInfo {
                mtu: match r.below(6) {
                    0 => 0,
                    1 => 71,
                    2 => 72,
                    3 => 1500,
                    4 => 65535,
                    _ => r.u16(),
                },
                typ: r.u8(),
                baudrate: int_arg(r),
            },
            ArgKind::InfoOut => IoctlReq::TungIfInfo,
            ArgKind::None => IoctlReq::NoArg { ioctl },
            ArgKind::Fionbio => IoctlReq::Fionbio(r.bool()),
        };
    }
    // A raw number: a known one with its direction or size bits changed, FIONBIO's number
    // (which the driver does not know), or anything.
    let cmd = match r.below(4) {
        0 => NamedIoctl::ALL[usize::from(r.below(17))].cmd() ^ (1 << (24 + r.below(8))),
        1 => FIONBIO,
        2 => NamedIoctl::ALL[usize::from(r.below(17))].cmd() ^ (u32::from(r.u8()) << 16),
        _ => r.u32(),
    };
    IoctlReq::Raw {
        cmd,
        arg: r.bool().then(|| int_arg(r)),
    }
}

fn if_ioctl_req(r: &mut Reader<'_>) -> IfIoctlReq {
    match r.below(9) {
        0 => IfIoctlReq::SetAddr(addr(r)),
        1 => IfIoctlReq::SetDstAddr(addr(r)),
        2 => IfIoctlReq::SetFlags(flags(r)),
        3 => IfIoctlReq::SetMtu(int_arg(r)),
        4 => IfIoctlReq::AddMulti,
        5 => IfIoctlReq::DelMulti,
        6 => IfIoctlReq::GetStatus,
        7 => IfIoctlReq::Raw {
            cmd: [
                SIOCSIFMTU,
                SIOCGIFMTU,
                SIOCGIFSTATUS,
                SIOCSIFFLAGS,
                SIOCSIFADDR,
            ][usize::from(r.below(5))],
            arg: int_arg(r),
        },
        _ => IfIoctlReq::Raw {
            cmd: r.u32(),
            arg: int_arg(r),
        },
    }
}

fn dst(r: &mut Reader<'_>) -> Dst {
    match r.below(8) {
        0..=2 => Dst::Inet(addr(r)),
        3 => Dst::Inet6,
        4 | 5 => Dst::Unspec,
        _ => Dst::Sa {
            family: match r.below(4) {
                0 => 2,
                1 => 28,
                2 => 0,
                _ => r.u8(),
            },
            len: match r.below(4) {
                0 => 16,
                1 => 56,
                2 => 57,
                _ => r.u8(),
            },
        },
    }
}

/// Decodes one operation (any byte string gives one).
pub fn decode_op(r: &mut Reader<'_>) -> Op {
    // Half the unit bytes name tun0, so operations meet an open unit often.
    let unit = |r: &mut Reader<'_>| match r.u8() {
        b if b < UNITS => b,
        b if b < 160 => 0,
        b => b % UNITS,
    };
    match r.below(35) {
        0..=2 => Op::Open(match r.below(6) {
            0 => Node::Clone,
            n => Node::Unit(if n == 5 { unit(r) } else { n - 1 }),
        }),
        3 | 4 => Op::Close(unit(r)),
        5 => Op::Reopen(unit(r)),
        6..=8 => Op::Read {
            unit: unit(r),
            len: match r.below(4) {
                0 => u32::from(r.u8()) % 24,
                1 | 2 => u32::from(r.u16()) % 2100,
                _ => u32::from(r.u16()) % 20_000,
            },
            nonblock: r.bool(),
        },
        9..=11 => Op::Write {
            unit: unit(r),
            payload: payload(r),
        },
        12..=14 => Op::Ioctl {
            unit: unit(r),
            req: ioctl_req(r),
            buf: match r.below(8) {
                0 => Buf::Short(r.below(17)),
                _ => Buf::Natural,
            },
        },
        15 => Op::KqAdd {
            unit: unit(r),
            filter: match r.below(4) {
                0 | 1 => EVFILT_READ,
                2 => EVFILT_WRITE,
                _ => r.u16() as i16,
            },
        },
        16 => {
            if r.bool() {
                Op::KqCheck(r.below(8) + 1)
            } else {
                Op::KqDel(r.below(8) + 1)
            }
        }
        17..=20 => {
            let unit = unit(r);
            let dst = dst(r);
            let payload = payload(r);
            let lead = if r.bool() { r.below(57) } else { 0 };
            let mcast = r.u8() & 7 == 0;
            let segs = if r.bool() {
                let len = payload.bytes().len();
                (len <= 2000).then(|| segs(r, len, usize::from(lead)))
            } else {
                None
            };
            Op::IfOutput {
                unit,
                dst,
                payload,
                lead,
                segs,
                mcast,
            }
        }
        21 | 22 => Op::IfIoctl {
            unit: unit(r),
            req: if_ioctl_req(r),
        },
        23 => Op::IfIoctlShort {
            unit: unit(r),
            cmd: [
                SIOCSIFMTU,
                SIOCGIFSTATUS,
                SIOCSIFADDR,
                SIOCSIFFLAGS,
                SIOCADDMULTI,
            ][usize::from(r.below(5))],
            arg: int_arg(r),
            len: if r.bool() {
                Some(r.below(IFREQ_LEN as u8 + 8))
            } else {
                None
            },
        },
        24 => Op::IfStart(unit(r)),
        25 => Op::IfAddr {
            unit: unit(r),
            addr: match r.below(3) {
                0 => IfAddrSpec::Inet(addr(r)),
                1 => IfAddrSpec::Inet6,
                _ => IfAddrSpec::Null,
            },
        },
        26 => Op::Bpf {
            unit: unit(r),
            attach: !r.u8().is_multiple_of(3),
        },
        27 => Op::Altq {
            unit: unit(r),
            on: r.bool(),
        },
        28 => Op::Interrupt {
            job: r.below(6) + 1,
            restart: r.bool(),
        },
        29 => match r.below(4) {
            0 => Op::PostSignal { restart: r.bool() },
            1 => Op::ClearSignal,
            2 => Op::Wait(r.below(6) + 1),
            _ => Op::Mbufs,
        },
        30 => Op::FailAlloc(match r.below(5) {
            0 => None,
            _ => Some(u32::from(r.below(8)) + 1),
        }),
        31 => Op::FailAllocNth(u64::from(r.below(24)) + 1),
        32 => Op::As(PROCS[usize::from(r.below(PROCS.len() as u8))].0),
        33 => Op::Show(unit(r)),
        _ => Op::CloseInFlight(unit(r)),
    }
}

/// The length of a `struct ifreq`.
const IFREQ_LEN: usize = IFREQ_SIZE;

/// Decodes a whole input into at most [`MAX_OPS`] operations.
pub fn decode(data: &[u8]) -> Vec<Op> {
    let mut r = Reader::new(data);
    let mut ops = Vec::new();
    while !r.done() && ops.len() < MAX_OPS {
        ops.push(decode_op(&mut r));
    }
    ops
}

fn hex32(v: i32) -> String {
    format!("0x{:x}", v as u32)
}

fn ipv4(a: &[u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

fn filter_token(f: i16) -> String {
    use kmock::bsd::kqueue::*;
    match f {
        EVFILT_READ => "read".into(),
        EVFILT_WRITE => "write".into(),
        EVFILT_AIO => "aio".into(),
        EVFILT_VNODE => "vnode".into(),
        EVFILT_PROC => "proc".into(),
        EVFILT_SIGNAL => "signal".into(),
        EVFILT_TIMER => "timer".into(),
        EVFILT_EXCEPT => "except".into(),
        n => n.to_string(),
    }
}

fn dst_token(d: &Dst) -> String {
    match d {
        Dst::Inet(a) => format!("inet:{}", ipv4(a)),
        Dst::Inet6 => "inet6".into(),
        Dst::Unspec => "unspec".into(),
        Dst::Sa { family, len } => format!("sa:{family}:{len}"),
    }
}

fn ioctl_line(dev: &str, req: &IoctlReq) -> String {
    match req {
        IoctlReq::SetInt { ioctl, value } => format!("ioctl {dev} {} {value}", ioctl.name()),
        IoctlReq::TunsIfMode(f) => format!("ioctl {dev} TUNSIFMODE {}", hex32(*f)),
        IoctlReq::TunsIfInfo { mtu, typ, baudrate } => {
            format!("ioctl {dev} TUNSIFINFO mtu={mtu} type={typ} baudrate={baudrate}")
        }
        IoctlReq::GetInt { ioctl, preset } => format!("ioctl {dev} {} {preset}", ioctl.name()),
        IoctlReq::TungIfInfo => format!("ioctl {dev} TUNGIFINFO"),
        IoctlReq::NoArg { ioctl } => format!("ioctl {dev} {}", ioctl.name()),
        IoctlReq::Fionbio(on) => format!("ioctl {dev} FIONBIO {}", i32::from(*on)),
        IoctlReq::Raw { cmd, arg: None } => format!("ioctl {dev} 0x{cmd:x}"),
        IoctlReq::Raw { cmd, arg: Some(a) } => format!("ioctl {dev} 0x{cmd:x} {a}"),
    }
}

fn if_ioctl_line(ifn: &str, req: &IfIoctlReq) -> String {
    match req {
        IfIoctlReq::SetAddr(a) => format!("ifioctl {ifn} SIOCSIFADDR {}", ipv4(a)),
        IfIoctlReq::SetDstAddr(a) => format!("ifioctl {ifn} SIOCSIFDSTADDR {}", ipv4(a)),
        IfIoctlReq::SetFlags(f) => format!("ifioctl {ifn} SIOCSIFFLAGS {}", hex32(*f)),
        IfIoctlReq::SetMtu(n) => format!("ifioctl {ifn} SIOCSIFMTU {n}"),
        IfIoctlReq::AddMulti => format!("ifioctl {ifn} SIOCADDMULTI"),
        IfIoctlReq::DelMulti => format!("ifioctl {ifn} SIOCDELMULTI"),
        IfIoctlReq::GetStatus => format!("ifioctl {ifn} SIOCGIFSTATUS"),
        IfIoctlReq::Raw { cmd, arg } => format!("ifioctl {ifn} 0x{cmd:x} {arg}"),
    }
}

impl Op {
    /// The operation in the scenario language (one or more lines), or `None` if the
    /// language cannot express it (short buffers, `fail_alloc_nth`, process signals).
    pub fn scenario_lines(&self) -> Option<Vec<String>> {
        let one = |s: String| Some(vec![s]);
        match self {
            Op::Open(Node::Clone) => one("open tun".into()),
            Op::Open(Node::Unit(u)) => one(format!("open {}", unit_name(*u))),
            // With a reader asleep the language refuses `close`; otherwise it is the same.
            Op::Close(u) | Op::CloseInFlight(u) => one(format!("close {}", unit_name(*u))),
            Op::Reopen(u) => Some(vec![
                format!("close {}", unit_name(*u)),
                format!("open {}", unit_name(*u)),
            ]),
            Op::Read {
                unit,
                len,
                nonblock,
            } => one(format!(
                "read {} {len}{}",
                unit_name(*unit),
                if *nonblock { " nonblock" } else { "" }
            )),
            Op::Write { unit, payload } => {
                let mut l = format!("write {}", unit_name(*unit));
                for t in payload.tokens() {
                    l.push(' ');
                    l.push_str(&t);
                }
                one(l)
            }
            Op::Ioctl {
                unit,
                req,
                buf: Buf::Natural,
            } => one(ioctl_line(&unit_name(*unit), req)),
            Op::Ioctl { .. } => None,
            Op::KqAdd { unit, filter } => one(format!(
                "kq add {} {}",
                unit_name(*unit),
                filter_token(*filter)
            )),
            Op::KqCheck(k) => one(format!("kq check {k}")),
            Op::KqDel(k) => one(format!("kq del {k}")),
            Op::IfOutput {
                unit,
                dst,
                payload,
                lead,
                segs,
                mcast,
            } => {
                let mut l = format!("if_output {} {}", unit_name(*unit), dst_token(dst));
                for t in payload.tokens() {
                    l.push(' ');
                    l.push_str(&t);
                }
                if *lead != 0 {
                    let _ = write!(l, " lead={lead}");
                }
                if let Some(s) = segs {
                    let s: Vec<String> = s.iter().map(usize::to_string).collect();
                    let _ = write!(l, " seg={}", s.join(","));
                }
                if *mcast {
                    l.push_str(" mcast");
                }
                one(l)
            }
            Op::IfIoctl { unit, req } => one(if_ioctl_line(&unit_name(*unit), req)),
            Op::IfIoctlShort { .. } => None,
            Op::IfStart(u) => one(format!("if_start {}", unit_name(*u))),
            Op::IfAddr { unit, addr } => one(format!(
                "ifaddr {} {}",
                unit_name(*unit),
                match addr {
                    IfAddrSpec::Inet(a) => format!("inet {}", ipv4(a)),
                    IfAddrSpec::Inet6 => "inet6".into(),
                    IfAddrSpec::Null => "null".into(),
                }
            )),
            Op::Bpf { unit, attach } => one(format!(
                "bpf {} {}",
                if *attach { "attach" } else { "detach" },
                unit_name(*unit)
            )),
            Op::Altq { unit, on } => one(format!(
                "altq {} {}",
                unit_name(*unit),
                if *on { "on" } else { "off" }
            )),
            Op::Interrupt { job, restart } => one(format!(
                "interrupt {job}{}",
                if *restart { " restart" } else { "" }
            )),
            Op::Wait(j) => one(format!("wait {j}")),
            Op::PostSignal { .. } | Op::ClearSignal | Op::FailAllocNth(_) => None,
            Op::FailAlloc(Some(n)) => one(format!("failalloc {n}")),
            Op::FailAlloc(None) => one("failalloc off".into()),
            Op::As(p) => one(format!("as {p}")),
            Op::Show(u) => one(format!("show {}", unit_name(*u))),
            Op::Mbufs => one("mbufs".into()),
        }
    }
}

/// A scenario for `ops`: the processes of [`PROCS`], every operation the language can
/// express (in order), then `show` of every unit and `mbufs`. Returns the text and how many
/// operations it carries (0 when none could be expressed).
pub fn scenario(ops: &[Op]) -> (String, usize) {
    let mut s = String::from("# generated by tunsim::fuzzops from a fuzzer input\n");
    for &(pid, pgrp, sess, uid) in &PROCS[1..] {
        let _ = writeln!(s, "proc {pid} pgrp={pgrp} sess={sess} uid={uid}");
    }
    let mut n = 0;
    for op in ops {
        if let Some(lines) = op.scenario_lines() {
            n += 1;
            for l in lines {
                s.push_str(&l);
                s.push('\n');
            }
        }
    }
    for u in 0..UNITS {
        let _ = writeln!(s, "show {}", unit_name(u));
    }
    s.push_str("mbufs\n");
    (s, n)
}

/// A bpf listener that keeps nothing.
struct NullListener;

impl BpfListener for NullListener {
    fn tap(&self, _dlt: u32, _packet: &[u8]) {}
}

type ReadResult = std::thread::Result<Result<usize, (Error, usize)>>;

struct Job {
    dev: String,
    th: Kthread<ReadResult>,
    done: bool,
}

struct KnoteRec {
    kn: kmock::sync::Arc<Knote>,
    dev: String,
    attached: bool,
}

/// What a run did, for reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Operations applied.
    pub ops: usize,
    /// Operations that reached an entry point or changed the environment (the rest were
    /// refused by the harness: a unit not open, no such job…).
    pub performed: usize,
    /// Reads that slept and became jobs.
    pub jobs: usize,
    /// mbufs allocated in the run (set by [`World::finish`]).
    pub mbufs: u64,
    /// Allocations of any kind counted by the kernel's failure plan (set by
    /// [`World::finish`]).
    pub allocs: u64,
}

/// A kernel with if_tun loaded, its processes and descriptors, running [`Op`]s.
pub struct World {
    k: Kernel,
    module: Option<LoadedModule<TunModule>>,
    cur: i32,
    fds: BTreeMap<String, Arc<File>>,
    /// Descriptors closed while a read was in flight: the unit stays open until it returns.
    closing: BTreeMap<String, Arc<File>>,
    jobs: Vec<Job>,
    knotes: Vec<KnoteRec>,
    violation: Option<String>,
    /// What has been done so far.
    pub tally: Tally,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// Boots a kernel (events recorded and discarded after each operation, turn-taking
    /// threads), loads if_tun, creates [`PROCS`] with pid 100 current.
    pub fn new() -> World {
        let k = Kernel::new();
        k.record_events(true);
        k.set_turn_taking(true);
        for &(pid, pgrp, sess, uid) in &PROCS {
            k.proc_set(pid, pgrp, sess, uid).expect("valid process");
        }
        let module = kmock::module::load::<TunModule>(&k).expect("tun attaches");
        k.take_events();
        World {
            k,
            module: Some(module),
            cur: 100,
            fds: BTreeMap::new(),
            closing: BTreeMap::new(),
            jobs: Vec::new(),
            knotes: Vec::new(),
            violation: None,
            tally: Tally::default(),
        }
    }

    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.k
    }

    fn softc(&self, name: &str) -> Option<kmock::sync::Arc<TunSoftc>> {
        self.k.devfs().lookup(name)?.si_drv1::<TunSoftc>()
    }

    fn ifp(&self, u: u8) -> Option<kmock::sync::Arc<dyn IfnetDyn>> {
        self.k.ifunit(&unit_name(u))
    }

    fn fd(&self, u: u8) -> Option<Arc<File>> {
        self.fds.get(&unit_name(u)).cloned()
    }

    fn blocked_on(&self, dev: &str) -> bool {
        self.jobs.iter().any(|j| !j.done && j.dev == dev)
    }

    /// Applies one operation, then runs the woken jobs and lets netisr consume what it got.
    /// Returns whether the operation was performed (not refused by the harness).
    pub fn apply(&mut self, op: &Op) -> bool {
        self.tally.ops += 1;
        let did = {
            let _ctx = self.k.enter(self.cur);
            self.exec(op)
        };
        if did {
            self.tally.performed += 1;
        }
        self.run_woken_jobs();
        self.settle();
        did
    }

    fn settle(&self) {
        self.k.take_events();
        drop(self.k.netisr().drain_all());
    }

    fn exec(&mut self, op: &Op) -> bool {
        match op {
            Op::Open(node) => self.open(*node),
            Op::Close(u) => self.close(*u),
            Op::CloseInFlight(u) => {
                let dev = unit_name(*u);
                let Some(f) = self.fds.remove(&dev) else {
                    return false;
                };
                for k in self.knotes.iter_mut().filter(|k| k.dev == dev) {
                    k.attached = false;
                }
                let _ = f.close();
                if self.blocked_on(&dev) {
                    self.closing.insert(dev, f);
                }
                true
            }
            Op::Reopen(u) => {
                let c = self.close(*u);
                let o = self.open(Node::Unit(*u));
                c || o
            }
            Op::Read {
                unit,
                len,
                nonblock,
            } => self.read(*unit, *len as usize, *nonblock),
            Op::Write { unit, payload } => {
                let Some(f) = self.fd(*unit) else {
                    return false;
                };
                let _ = f.write(&payload.bytes());
                true
            }
            Op::Ioctl { unit, req, buf } => self.ioctl(*unit, req, *buf),
            Op::KqAdd { unit, filter } => {
                let Some(f) = self.fd(*unit) else {
                    return false;
                };
                let id = self.knotes.len() as u64 + 1;
                let kn = Knote::new(id, *filter);
                if f.kqfilter(&kn).is_ok() {
                    self.knotes.push(KnoteRec {
                        kn,
                        dev: unit_name(*unit),
                        attached: true,
                    });
                }
                true
            }
            Op::KqCheck(k) => match self.knote(*k) {
                Some(i) => {
                    let _ = self.knotes[i].kn.check(0);
                    true
                }
                None => false,
            },
            Op::KqDel(k) => {
                let Some(i) = self.knote(*k) else {
                    return false;
                };
                let dev = self.knotes[i].dev.clone();
                let Some(f) = self.fds.get(&dev).cloned() else {
                    return false;
                };
                let _ = f.kqdel(self.knotes[i].kn.id());
                self.knotes[i].attached = false;
                true
            }
            Op::IfOutput {
                unit,
                dst,
                payload,
                lead,
                segs,
                mcast,
            } => {
                let Some(ifp) = self.ifp(*unit) else {
                    return false;
                };
                let bytes = payload.bytes();
                let Ok(mut m) =
                    self.k
                        .mbufs()
                        .packet_from(&bytes, usize::from(*lead), segs.as_deref())
                else {
                    return false;
                };
                if *mcast {
                    m.set_flag(MbufFlags::M_MCAST, true);
                }
                let buf = dst.sockaddr_buf();
                let mut sa = SockAddr::new(buf[1], buf[0]);
                sa.raw_mut().copy_from_slice(&buf);
                let _ = ifp.output(m, &mut sa);
                true
            }
            Op::IfIoctl { unit, req } => {
                let Some(ifp) = self.ifp(*unit) else {
                    return false;
                };
                let cred = self.k.proc_cred(self.cur).unwrap_or_default();
                let (cmd, arg) = match req {
                    IfIoctlReq::SetAddr(a) => (SIOCSIFADDR, IfIoctlArg::Inet(*a)),
                    IfIoctlReq::SetDstAddr(a) => (SIOCSIFDSTADDR, IfIoctlArg::Inet(*a)),
                    IfIoctlReq::SetFlags(f) => (SIOCSIFFLAGS, IfIoctlArg::Int(*f)),
                    IfIoctlReq::SetMtu(n) => (SIOCSIFMTU, IfIoctlArg::Int(*n)),
                    IfIoctlReq::AddMulti => (SIOCADDMULTI, IfIoctlArg::None),
                    IfIoctlReq::DelMulti => (SIOCDELMULTI, IfIoctlArg::None),
                    IfIoctlReq::GetStatus => (SIOCGIFSTATUS, IfIoctlArg::None),
                    IfIoctlReq::Raw { cmd, arg } => {
                        let mut req = ifreq_with_mtu(*arg);
                        let _ = ifp.driver_ioctl(*cmd, Some(&mut req), &cred);
                        return true;
                    }
                };
                let _ = ifioctl(&*ifp, cmd, arg, &cred);
                true
            }
            Op::IfIoctlShort {
                unit,
                cmd,
                arg,
                len,
            } => {
                let Some(ifp) = self.ifp(*unit) else {
                    return false;
                };
                let cred = self.k.proc_cred(self.cur).unwrap_or_default();
                match len {
                    None => {
                        let _ = ifp.driver_ioctl(*cmd, None, &cred);
                    }
                    Some(n) => {
                        let full = ifreq_with_mtu(*arg);
                        let mut b = vec![0u8; usize::from(*n)];
                        let k = b.len().min(full.len());
                        b[..k].copy_from_slice(&full[..k]);
                        let _ = ifp.driver_ioctl(*cmd, Some(&mut b), &cred);
                    }
                }
                true
            }
            Op::IfStart(u) => match self.ifp(*u) {
                Some(ifp) => {
                    ifp.start();
                    true
                }
                None => false,
            },
            Op::IfAddr { unit, addr } => {
                let Some(ifp) = self.ifp(*unit) else {
                    return false;
                };
                let a = match addr {
                    IfAddrSpec::Inet(a) => Some(SockAddr::inet(*a)),
                    IfAddrSpec::Inet6 => Some(SockAddr::inet6()),
                    IfAddrSpec::Null => None,
                };
                ifp.with_addrs(&mut |l| {
                    l.push(IfAddr {
                        addr: a.clone(),
                        dstaddr: None,
                    })
                });
                true
            }
            Op::Bpf { unit, attach } => {
                let Some(ifp) = self.ifp(*unit) else {
                    return false;
                };
                if *attach {
                    ifp.bpf().attach_listener(Arc::new(NullListener));
                    true
                } else {
                    ifp.bpf().detach_last()
                }
            }
            Op::Altq { unit, on } => match self.ifp(*unit) {
                Some(ifp) => {
                    ifp.with_snd(&mut |q| q.set_altq_enabled(*on));
                    true
                }
                None => false,
            },
            Op::Interrupt { job, restart } => {
                let Some(j) = self.jobs.get(usize::from(*job).wrapping_sub(1)) else {
                    return false;
                };
                let tid = j.th.tid();
                if j.done || self.k.kthread_runnable(tid) {
                    return false;
                }
                self.k.kthread_interrupt(tid, *restart).is_ok()
            }
            Op::Wait(j) => self.jobs.len() >= usize::from(*j),
            Op::PostSignal { restart } => self.k.post_signal(self.cur, *restart).is_ok(),
            Op::ClearSignal => {
                self.k.clear_signal(self.cur);
                true
            }
            Op::FailAlloc(n) => {
                self.k.mbufs().set_failalloc(*n);
                true
            }
            Op::FailAllocNth(n) => {
                self.k.fail_alloc_nth(*n);
                true
            }
            Op::As(pid) => {
                if self.k.proc_exists(*pid) {
                    self.cur = *pid;
                    true
                } else {
                    false
                }
            }
            Op::Show(u) => match self.softc(&unit_name(*u)) {
                Some(sc) => {
                    let _ = sc.status();
                    true
                }
                None => false,
            },
            Op::Mbufs => {
                let _ = self.k.mbufs().stats();
                true
            }
        }
    }

    fn open(&mut self, node: Node) -> bool {
        let name = match node {
            Node::Clone => "tun".to_string(),
            Node::Unit(u) => unit_name(u),
        };
        if let Ok(f) = self.k.dev_open(&name, self.cur) {
            let dev = f.dev().name().to_string();
            match self.fds.entry(dev) {
                std::collections::btree_map::Entry::Occupied(e) => {
                    // Exclusive open: the driver must have refused it.
                    self.violation
                        .get_or_insert(format!("a second descriptor of {} was opened", e.key()));
                    let _ = f.close();
                }
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(Arc::new(f));
                }
            }
        }
        true
    }

    fn close(&mut self, u: u8) -> bool {
        let dev = unit_name(u);
        if self.blocked_on(&dev) {
            return false;
        }
        let Some(f) = self.fds.remove(&dev) else {
            return false;
        };
        for k in self.knotes.iter_mut().filter(|k| k.dev == dev) {
            k.attached = false;
        }
        let _ = f.close();
        true
    }

    fn read(&mut self, u: u8, len: usize, nonblock: bool) -> bool {
        let Some(f) = self.fd(u) else {
            return false;
        };
        if nonblock || f.nonblock() {
            let mut buf = vec![0u8; len];
            let mut uio = Uio::new_read(&mut buf);
            let _ = f.read_uio(&mut uio, IO_NDELAY);
            return true;
        }
        let (th, st) = self.k.kthread_spawn(self.cur, move || {
            catch_unwind(AssertUnwindSafe(|| {
                let mut buf = vec![0u8; len];
                let mut uio = Uio::new_read(&mut buf);
                f.read_uio(&mut uio, 0)
            }))
        });
        match st {
            KthreadState::Done(r) => {
                if let Err(p) = r {
                    resume_unwind(p);
                }
            }
            KthreadState::Sleeping => {
                self.tally.jobs += 1;
                self.jobs.push(Job {
                    dev: unit_name(u),
                    th,
                    done: false,
                });
            }
        }
        true
    }

    fn ioctl(&mut self, u: u8, req: &IoctlReq, buf: Buf) -> bool {
        let Some(f) = self.fd(u) else {
            return false;
        };
        let cmd = req.cmd();
        let mut data = vec![
            0u8;
            match buf {
                Buf::Natural => IOCPARM_LEN(cmd).max(1024),
                Buf::Short(n) => usize::from(n),
            }
        ];
        let mut arg = [0u8; 8];
        match req {
            IoctlReq::SetInt { value, .. } => arg[..4].copy_from_slice(&value.to_ne_bytes()),
            IoctlReq::TunsIfMode(v) => arg[..4].copy_from_slice(&v.to_ne_bytes()),
            IoctlReq::TunsIfInfo { mtu, typ, baudrate } => {
                let ti = TunInfo {
                    baudrate: *baudrate,
                    mtu: *mtu,
                    type_: *typ,
                    dummy: 0,
                };
                ti.to_bytes(&mut arg).expect("8 bytes");
            }
            IoctlReq::GetInt { preset, .. } => arg[..4].copy_from_slice(&preset.to_ne_bytes()),
            IoctlReq::Fionbio(on) => arg[..4].copy_from_slice(&i32::from(*on).to_ne_bytes()),
            IoctlReq::Raw { arg: Some(a), .. } => arg[..4].copy_from_slice(&a.to_ne_bytes()),
            _ => {}
        }
        let n = data.len().min(arg.len());
        data[..n].copy_from_slice(&arg[..n]);
        let _ = if matches!(req, IoctlReq::Fionbio(_)) {
            f.ioctl_as(self.cur, cmd, &mut data)
        } else {
            f.driver_ioctl_as(self.cur, cmd, &mut data)
        };
        true
    }

    fn knote(&self, k: u8) -> Option<usize> {
        let i = usize::from(k).checked_sub(1)?;
        self.knotes.get(i).filter(|r| r.attached).map(|_| i)
    }

    fn run_woken_jobs(&mut self) {
        while let Some(i) = self
            .jobs
            .iter()
            .position(|j| !j.done && self.k.kthread_runnable(j.th.tid()))
        {
            match self.k.kthread_resume(&mut self.jobs[i].th) {
                Ok(KthreadState::Done(r)) => {
                    self.jobs[i].done = true;
                    if let Err(p) = r {
                        resume_unwind(p);
                    }
                }
                Ok(KthreadState::Sleeping) => {}
                Err(_) => break,
            }
        }
        // A descriptor closed with a read in flight is closed once the reads return.
        let jobs = &self.jobs;
        self.closing
            .retain(|dev, _| jobs.iter().any(|j| !j.done && j.dev == *dev));
        self.k.take_events();
    }

    /// Checks the invariants (see the module documentation); the first violation found.
    pub fn check(&self) -> Result<(), String> {
        if let Some(v) = &self.violation {
            return Err(v.clone());
        }
        let mut queued = 0usize;
        for name in self.k.devfs().names() {
            let Some(sc) = self.softc(&name) else {
                continue;
            };
            let st = sc.status();
            // Closed with a read in flight: still open (and its knotes still attached) until
            // the read returns.
            let closing = self.closing.contains_key(&name);
            let open = self.fds.contains_key(&name) || closing;
            let f = st.flags;
            if !f.contains(TunFlags::TUN_INITED) {
                return Err(format!("{name}: softc without TUN_INITED ({f:?})"));
            }
            if f.contains(TunFlags::TUN_READY) != open {
                return Err(format!(
                    "{name}: TUN_READY is {} but the unit is {} ({f:?})",
                    f.contains(TunFlags::TUN_READY),
                    if open { "open" } else { "closed" }
                ));
            }
            if f.contains(TunFlags::TUN_LMODE | TunFlags::TUN_IFHEAD) {
                return Err(format!("{name}: TUN_LMODE and TUN_IFHEAD both set"));
            }
            if !open && st.pid != 0 {
                return Err(format!("{name}: closed with tun_pid {}", st.pid));
            }
            if !open && !st.knotes.is_empty() {
                return Err(format!("{name}: closed with knotes {:?}", st.knotes));
            }
            for (id, _) in st.knotes.iter().filter(|_| !closing) {
                let ok = self
                    .knotes
                    .get((*id as usize).wrapping_sub(1))
                    .is_some_and(|r| r.attached && r.dev == name);
                if !ok {
                    return Err(format!("{name}: knote {id} on the klist is not attached"));
                }
            }
            let (mut qlen, mut maxlen, mut mbufs) = (0, 0, 0);
            sc.tun_if.with_snd(&mut |q| {
                qlen = q.len();
                maxlen = q.maxlen();
                mbufs = q.iter().map(|p| p.iter().count()).sum();
            });
            if qlen > maxlen {
                return Err(format!("{name}: send queue {qlen} > maxlen {maxlen}"));
            }
            if !open && qlen != 0 {
                return Err(format!("{name}: closed with {qlen} packet(s) queued"));
            }
            queued += mbufs;
        }
        for (i, j) in self.jobs.iter().enumerate() {
            if j.done {
                continue;
            }
            if !self.k.kthread_sleeping(j.th.tid()) {
                return Err(format!("job {} neither done nor asleep", i + 1));
            }
            if !self.fds.contains_key(&j.dev) && !self.closing.contains_key(&j.dev) {
                return Err(format!("job {} sleeps on closed {}", i + 1, j.dev));
            }
        }
        let asleep = self.jobs.iter().filter(|j| !j.done).count();
        if self.k.sleepers().len() != asleep {
            return Err(format!(
                "{} thread(s) asleep but {asleep} job(s) not done",
                self.k.sleepers().len()
            ));
        }
        let live = self.k.mbufs().live();
        if live != queued {
            return Err(format!(
                "{live} live mbuf(s) but {queued} on send queues: {} leaked",
                live as i64 - queued as i64
            ));
        }
        Ok(())
    }

    /// Interrupts every sleeping job, closes every descriptor, checks the invariants and
    /// that no mbuf is live, unloads the driver and checks again that none is live and no
    /// thread sleeps.
    pub fn finish(mut self) -> Result<Tally, String> {
        for i in 0..self.jobs.len() {
            if self.jobs[i].done {
                continue;
            }
            let tid = self.jobs[i].th.tid();
            if !self.k.kthread_runnable(tid) && self.k.kthread_interrupt(tid, false).is_err() {
                return Err(format!("job {} cannot be interrupted", i + 1));
            }
            self.run_woken_jobs();
            if !self.jobs[i].done {
                return Err(format!("job {} did not return when interrupted", i + 1));
            }
        }
        let names: Vec<String> = self.fds.keys().cloned().collect();
        {
            let _ctx = self.k.enter(self.cur);
            for n in names {
                if let Some(f) = self.fds.remove(&n) {
                    for k in self.knotes.iter_mut().filter(|k| k.dev == n) {
                        k.attached = false;
                    }
                    let _ = f.close();
                }
            }
        }
        self.settle();
        if !self.closing.is_empty() {
            return Err(format!("still closing: {:?}", self.closing.keys()));
        }
        self.check()?;
        if self.k.mbufs().live() != 0 {
            return Err(format!(
                "{} mbuf(s) live after close",
                self.k.mbufs().live()
            ));
        }
        self.tally.mbufs = self.k.mbufs().stats().allocated;
        self.tally.allocs = self.k.alloc_count();
        self.k.clear_alloc_faults();
        self.k.mbufs().set_failalloc(None);
        self.knotes.clear();
        drop(self.module.take());
        self.settle();
        if self.k.mbufs().live() != 0 {
            return Err(format!(
                "{} mbuf(s) live after unload",
                self.k.mbufs().live()
            ));
        }
        if !self.k.sleepers().is_empty() {
            return Err(format!("threads still asleep: {:?}", self.k.sleepers()));
        }
        Ok(self.tally)
    }
}

/// Runs `ops` on a fresh [`World`], checking the invariants after each; then
/// [`World::finish`]. The error names the operation after which the check failed.
pub fn run(ops: &[Op]) -> Result<Tally, String> {
    let mut w = World::new();
    for (i, op) in ops.iter().enumerate() {
        w.apply(op);
        w.check()
            .map_err(|e| format!("after op {} ({op:?}): {e}", i + 1))?;
    }
    w.finish().map_err(|e| format!("at the end: {e}"))
}

/// [`decode`] then [`run`].
pub fn run_bytes(data: &[u8]) -> Result<Tally, String> {
    run(&decode(data))
}
