// SPDX-License-Identifier: BSD-2-Clause
//! The commands of the tun scenario language, as the parser produces them: one validated,
//! typed [`Command`] per command line (or the harness error it prints), with the language's
//! limits and the ioctl names it knows. The numbers behind the names are the driver's
//! (`if_tun::abi`) and kmock's (`kmock::bsd::ioccom`).

use if_tun::abi::{
    FIOASYNC, FIOGETOWN, FIONBIO, FIONREAD, FIOSETOWN, TIOCGPGRP, TIOCSIG, TIOCSPGRP, TUNGDEBUG,
    TUNGIFHEAD, TUNGIFINFO, TUNSDEBUG, TUNSIFHEAD, TUNSIFINFO, TUNSIFMODE, TUNSIFPID, TUNSLMODE,
};
use kmock::bsd::ioccom::IOC_OUT;
use kmock::bsd::socket::{AF_INET, AF_INET6, AF_UNSPEC};

/// Most payload tokens `if_output` keeps (the rest are ignored).
pub const MAX_PAYLOAD_TOKENS: usize = 512;
/// Most mbufs in an `if_output` chain (explicit or computed).
pub const MAX_SEGS: usize = 512;
/// Largest `read` length and `failalloc` count.
pub const MAX_READ: usize = 1_000_000;
/// Largest pid `proc` accepts.
pub const MAX_PID: i64 = 99_999;
/// One input line, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Empty after trimming: produces no output.
    Blank,
    /// A comment: the trimmed line, verbatim (starts with `#`); printed as is.
    Comment(String),
    /// A command line.
    Command {
        /// The tokens joined by single spaces (printed after `> `).
        echo: String,
        /// The parsed command, or the harness error message (printed after
        /// `  ! error: `).
        cmd: Result<Command, String>,
    },
}

/// A runtime check the executor makes before reporting a deferred syntax
/// error (see [`Command::Deferred`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precheck {
    /// The interface must exist, else `no interface IF`.
    Interface(String),
}

/// A positive number naming a knote or a job, with the token it came from
/// (messages quote the token: `kq del 0x1` → `knote 0x1 is not attached`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumRef {
    /// The token as written.
    pub text: String,
    /// Its value, always ≥ 1.
    pub id: i64,
}

/// The ioctl names `ioctl` knows (tun-facts.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedIoctl {
    /// `TUNSDEBUG`, int in.
    TunSDebug,
    /// `TUNGDEBUG`, int out.
    TunGDebug,
    /// `TUNSIFINFO`, `struct tuninfo` in.
    TunSIfInfo,
    /// `TUNGIFINFO`, `struct tuninfo` out.
    TunGIfInfo,
    /// `TUNSLMODE`, int in.
    TunSLMode,
    /// `TUNSIFMODE`, int (flags) in.
    TunSIfMode,
    /// `TUNSIFPID`, no argument (same number as `TIOCSIG`).
    TunSIfPid,
    /// `TUNSIFHEAD`, int in.
    TunSIfHead,
    /// `TUNGIFHEAD`, int out.
    TunGIfHead,
    /// `FIOASYNC`, int in.
    FioAsync,
    /// `FIONREAD`, int out.
    FioNRead,
    /// `FIONBIO`, int in; handled by the generic layer.
    FioNbio,
    /// `FIOSETOWN`, int in.
    FioSetOwn,
    /// `FIOGETOWN`, int out.
    FioGetOwn,
    /// `TIOCSPGRP`, int in.
    TiocSPgrp,
    /// `TIOCGPGRP`, int out.
    TiocGPgrp,
    /// `TIOCSIG`, no argument (same number as `TUNSIFPID`).
    TiocSig,
}

/// How a named ioctl takes its argument (the oracle's `A_*` kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    None,
    IntIn,
    IntOut,
    FlagsIn,
    InfoIn,
    InfoOut,
    Fionbio,
}

impl NamedIoctl {
    /// Every named ioctl.
    pub const ALL: [NamedIoctl; 17] = [
        NamedIoctl::TunSDebug,
        NamedIoctl::TunGDebug,
        NamedIoctl::TunSIfInfo,
        NamedIoctl::TunGIfInfo,
        NamedIoctl::TunSLMode,
        NamedIoctl::TunSIfMode,
        NamedIoctl::TunSIfPid,
        NamedIoctl::TunSIfHead,
        NamedIoctl::TunGIfHead,
        NamedIoctl::FioAsync,
        NamedIoctl::FioNRead,
        NamedIoctl::FioNbio,
        NamedIoctl::FioSetOwn,
        NamedIoctl::FioGetOwn,
        NamedIoctl::TiocSPgrp,
        NamedIoctl::TiocGPgrp,
        NamedIoctl::TiocSig,
    ];

    /// The name as written in scenarios (`TUNSIFHEAD`).
    pub fn name(self) -> &'static str {
        self.info().0
    }

    /// The ioctl command number.
    pub fn cmd(self) -> u32 {
        self.info().1
    }

    /// Looks a scenario name up.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.name() == name)
    }

    pub(crate) fn kind(self) -> ArgKind {
        self.info().2
    }

    fn info(self) -> (&'static str, u32, ArgKind) {
        use ArgKind as K;
        match self {
            NamedIoctl::TunSDebug => ("TUNSDEBUG", TUNSDEBUG, K::IntIn),
            NamedIoctl::TunGDebug => ("TUNGDEBUG", TUNGDEBUG, K::IntOut),
            NamedIoctl::TunSIfInfo => ("TUNSIFINFO", TUNSIFINFO, K::InfoIn),
            NamedIoctl::TunGIfInfo => ("TUNGIFINFO", TUNGIFINFO, K::InfoOut),
            NamedIoctl::TunSLMode => ("TUNSLMODE", TUNSLMODE, K::IntIn),
            NamedIoctl::TunSIfMode => ("TUNSIFMODE", TUNSIFMODE, K::FlagsIn),
            NamedIoctl::TunSIfPid => ("TUNSIFPID", TUNSIFPID, K::None),
            NamedIoctl::TunSIfHead => ("TUNSIFHEAD", TUNSIFHEAD, K::IntIn),
            NamedIoctl::TunGIfHead => ("TUNGIFHEAD", TUNGIFHEAD, K::IntOut),
            NamedIoctl::FioAsync => ("FIOASYNC", FIOASYNC, K::IntIn),
            NamedIoctl::FioNRead => ("FIONREAD", FIONREAD, K::IntOut),
            NamedIoctl::FioNbio => ("FIONBIO", FIONBIO, K::Fionbio),
            NamedIoctl::FioSetOwn => ("FIOSETOWN", FIOSETOWN, K::IntIn),
            NamedIoctl::FioGetOwn => ("FIOGETOWN", FIOGETOWN, K::IntOut),
            NamedIoctl::TiocSPgrp => ("TIOCSPGRP", TIOCSPGRP, K::IntIn),
            NamedIoctl::TiocGPgrp => ("TIOCGPGRP", TIOCGPGRP, K::IntOut),
            NamedIoctl::TiocSig => ("TIOCSIG", TIOCSIG, K::None),
        }
    }
}

/// The request of an `ioctl DEV NAME [ARG...]` line.  The data buffer the
/// driver sees is zeroed (1024 bytes) and then filled as each variant says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoctlReq {
    /// `TUNSDEBUG` `TUNSLMODE` `TUNSIFHEAD` `FIOASYNC` `FIOSETOWN`
    /// `TIOCSPGRP` with their integer (C `int` truncation) in the first 4
    /// bytes.  Result `ok` or the errno.
    SetInt {
        /// Which ioctl.
        ioctl: NamedIoctl,
        /// The argument.
        value: i32,
    },
    /// `TUNSIFMODE FLAGS`: the flag set as an int.
    TunsIfMode(i32),
    /// `TUNSIFINFO [mtu=N] [type=N] [baudrate=N]`: a `struct tuninfo`
    /// (`baudrate` at 0, `mtu` at 4, `type` at 6); absent fields are 0, a
    /// repeated field keeps its last value.
    TunsIfInfo {
        /// `mtu=` as C `u_short`.
        mtu: u16,
        /// `type=` as C `u_char`.
        typ: u8,
        /// `baudrate=` as C `int`.
        baudrate: i32,
    },
    /// `TUNGDEBUG` `TUNGIFHEAD` `FIONREAD` `FIOGETOWN` `TIOCGPGRP`: on
    /// success prints `ok value=V` with the int the driver left in the
    /// buffer.  The oracle accepts one optional integer argument, which
    /// pre-fills the buffer (`preset`, 0 without one).
    GetInt {
        /// Which ioctl.
        ioctl: NamedIoctl,
        /// The buffer's first int before the call.
        preset: i32,
    },
    /// `TUNGIFINFO`: prints `ok baudrate=B mtu=M type=T`.
    TungIfInfo,
    /// `TUNSIFPID` / `TIOCSIG` (the same number): no argument.
    NoArg {
        /// Which name was used.
        ioctl: NamedIoctl,
    },
    /// `FIONBIO N`: sets the descriptor's non-blocking flag to `N != 0`;
    /// the driver is **not** called; result `ok`.
    Fionbio(bool),
    /// A raw command number (`0x…` or decimal, truncated to 32 bits) with
    /// an optional int argument stored in the first 4 bytes.  If
    /// `cmd & IOC_OUT` the result is `ok value=V` (the buffer's first int
    /// after the call), else `ok`.
    Raw {
        /// The command number.
        cmd: u32,
        /// The argument, if one was given.
        arg: Option<i32>,
    },
}

impl IoctlReq {
    /// The ioctl command number of the request.
    pub fn cmd(&self) -> u32 {
        match self {
            IoctlReq::SetInt { ioctl, .. }
            | IoctlReq::GetInt { ioctl, .. }
            | IoctlReq::NoArg { ioctl } => ioctl.cmd(),
            IoctlReq::TunsIfMode(_) => NamedIoctl::TunSIfMode.cmd(),
            IoctlReq::TunsIfInfo { .. } => NamedIoctl::TunSIfInfo.cmd(),
            IoctlReq::TungIfInfo => NamedIoctl::TunGIfInfo.cmd(),
            IoctlReq::Fionbio(_) => NamedIoctl::FioNbio.cmd(),
            IoctlReq::Raw { cmd, .. } => *cmd,
        }
    }

    /// Whether a successful call prints `ok value=V` (an int getter, or a
    /// raw number with `IOC_OUT`).
    pub fn prints_value(&self) -> bool {
        match self {
            IoctlReq::GetInt { .. } => true,
            IoctlReq::Raw { cmd, .. } => cmd & IOC_OUT != 0,
            _ => false,
        }
    }
}

/// The destination sockaddr of `if_output` (written into a zeroed
/// 256-byte buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dst {
    /// `inet:A.B.C.D`: `sockaddr_in`, len 16, family 2, port 0, the address
    /// (network order) at offset 4.
    Inet([u8; 4]),
    /// `inet6`: len 28, family 28, rest zero.
    Inet6,
    /// `unspec`: len 16, family 0.  Only this form prints the
    /// `note: caller's dst->sa_family was rewritten to N` line.
    Unspec,
    /// `sa:F:L`: len L, family F, rest zero.
    Sa {
        /// `sa_family`.
        family: u8,
        /// `sa_len`.
        len: u8,
    },
}

impl Dst {
    /// `sa_len`.
    pub fn sa_len(&self) -> u8 {
        match self {
            Dst::Inet(_) | Dst::Unspec => 16,
            Dst::Inet6 => 28,
            Dst::Sa { len, .. } => *len,
        }
    }

    /// `sa_family`.
    pub fn sa_family(&self) -> u8 {
        match self {
            Dst::Inet(_) => AF_INET,
            Dst::Inet6 => AF_INET6,
            Dst::Unspec => AF_UNSPEC,
            Dst::Sa { family, .. } => *family,
        }
    }

    /// The 256-byte buffer the oracle hands to `if_output`.
    pub fn sockaddr_buf(&self) -> [u8; 256] {
        let mut b = [0u8; 256];
        b[0] = self.sa_len();
        b[1] = self.sa_family();
        if let Dst::Inet(a) = self {
            b[4..8].copy_from_slice(a);
        }
        b
    }
}

/// The request of an `ifioctl IF CMD [ARG]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfIoctlReq {
    /// `SIOCSIFADDR A.B.C.D` (network-order bytes).
    SetAddr([u8; 4]),
    /// `SIOCSIFDSTADDR A.B.C.D`.
    SetDstAddr([u8; 4]),
    /// `SIOCSIFFLAGS FLAGS` as C `int`.
    SetFlags(i32),
    /// `SIOCSIFMTU N` as C `int` (the 72..65535 check is the executor's
    /// generic-layer job: `EINVAL`, after the `EPERM` check).
    SetMtu(i32),
    /// `SIOCADDMULTI`.
    AddMulti,
    /// `SIOCDELMULTI`.
    DelMulti,
    /// `SIOCGIFSTATUS`.
    GetStatus,
    /// A raw number (truncated to 32 bits), or `SIOCGIFMTU`
    /// ([`SIOCGIFMTU`](kmock::bsd::ioccom::SIOCGIFMTU)): the driver is called with a zeroed `ifreq` whose
    /// `ifr_mtu` is `arg`.  `arg` is the argument when exactly one is
    /// given, else 0 (the oracle ignores arguments when there are two or
    /// more).
    Raw {
        /// The command number.
        cmd: u32,
        /// `ifr_mtu`.
        arg: i32,
    },
}

/// The address of an `ifaddr` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfAddrSpec {
    /// `inet A.B.C.D`.
    Inet([u8; 4]),
    /// `inet6`.
    Inet6,
    /// `null` (an ifaddr whose `ifa_addr` is NULL).
    Null,
}

/// A parsed, syntactically valid command.  Each variant's documentation
/// lists the harness errors the executor must still check at run time, in
/// the oracle's order, before doing the work.  "`DEV is not open`" means:
/// the device node does not exist, is the clone node `tun`, or has no open
/// descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `open DEV`.  No harness errors (an unknown node is `= ENOENT`).
    Open {
        /// Device node name.
        dev: String,
    },
    /// `close DEV`.  Runtime: `DEV is not open`; then
    /// `job J is blocked reading DEV; interrupt it first` for the first
    /// (lowest-numbered) job sleeping in `read` on it.
    Close {
        /// Device node name.
        dev: String,
    },
    /// `read DEV LEN [nonblock]`, 0 ≤ LEN ≤ 1000000.  Runtime:
    /// `DEV is not open`.
    Read {
        /// Device node name.
        dev: String,
        /// Buffer length.
        len: usize,
        /// `nonblock` given (`IO_NDELAY` also if the descriptor has FIONBIO).
        nonblock: bool,
    },
    /// `write DEV PAYLOAD...` (payload parsed before the device is
    /// checked).  Runtime: `DEV is not open`.
    Write {
        /// Device node name.
        dev: String,
        /// The bytes to write (may be empty).
        payload: Vec<u8>,
    },
    /// `ioctl DEV NAME [ARG...]` (all syntax is checked first).  Runtime:
    /// `DEV is not open` (also for `FIONBIO`).
    Ioctl {
        /// Device node name.
        dev: String,
        /// The request.
        req: IoctlReq,
    },
    /// `kq add DEV FILTER`.  Runtime: `DEV is not open`; then
    /// `too many knotes` when 1024 knotes have been registered so far
    /// (detached ones included).
    KqAdd {
        /// Device node name.
        dev: String,
        /// `EVFILT_*` value (names map to -1…-8; numbers are truncated to
        /// C `short`).
        filter: i16,
    },
    /// `kq check K`.  Runtime: `no knote K` if K exceeds the number of
    /// knotes registered so far; `knote K is not attached` if it was
    /// deleted or detached by `close` (K = the token text).
    KqCheck {
        /// The knote.
        knote: NumRef,
    },
    /// `kq del K`.  Runtime checks as for [`Command::KqCheck`].
    KqDel {
        /// The knote.
        knote: NumRef,
    },
    /// `if_output IF DST PAYLOAD... [lead=N] [seg=A,B,...] [mcast]`.
    /// Runtime: `no interface IF` (layout errors were handled by
    /// [`Command::Deferred`]).  Then the runner-side `defect:` pre-check for
    /// `unspec` destinations, the call, and the `note:` line.
    IfOutput {
        /// Interface name.
        ifname: String,
        /// Destination sockaddr.
        dst: Dst,
        /// The packet bytes.
        payload: Vec<u8>,
        /// Leading space in the first mbuf (0..=56).
        lead: usize,
        /// The data length of each mbuf of the chain, first (header) mbuf
        /// first: the `seg=` list if one was given, else the default split
        /// (min(56 − lead, rest), then min(120, rest); one 0 for an empty
        /// payload).  Never empty; sums to `payload.len()`.
        segs: Vec<usize>,
        /// `M_MCAST` on the header mbuf.
        mcast: bool,
    },
    /// `ifioctl IF CMD [ARG]`.  Runtime: `no interface IF` (checked before
    /// any syntax, see [`Command::Deferred`]); then the request's own
    /// `EPERM`/… results.
    IfIoctl {
        /// Interface name.
        ifname: String,
        /// The request.
        req: IfIoctlReq,
    },
    /// `if_start IF`.  Runtime: `no interface IF`.
    IfStart {
        /// Interface name.
        ifname: String,
    },
    /// `ifaddr IF inet A.B.C.D | inet6 | null`.  Runtime: `no interface IF`.
    IfAddr {
        /// Interface name.
        ifname: String,
        /// The address to append.
        addr: IfAddrSpec,
    },
    /// `bpf attach IF`.  Runtime: `no interface IF`.
    BpfAttach {
        /// Interface name.
        ifname: String,
    },
    /// `bpf detach IF`.  Runtime: `no interface IF`; then
    /// `no bpf listener on IF`.
    BpfDetach {
        /// Interface name.
        ifname: String,
    },
    /// `altq IF on|off`.  Runtime: `no interface IF`.
    Altq {
        /// Interface name.
        ifname: String,
        /// `on`.
        on: bool,
    },
    /// `proc PID [pgrp=G] [sess=S] [uid=U]`, 1 ≤ PID ≤ 99999, option values
    /// ≥ 0 (then truncated to the C type).  Absent options keep the
    /// existing value (defaults for a new process: pgrp = PID, sess = 1,
    /// uid = 0).  Runtime: `too many processes` when PID is new and 64
    /// processes exist.
    Proc {
        /// The pid.
        pid: i32,
        /// `pgrp=` (last one wins), as `pid_t`.
        pgrp: Option<i32>,
        /// `sess=` (last one wins), as `int`.
        sess: Option<i32>,
        /// `uid=` (last one wins), as `uid_t`; sets uid and ruid.
        uid: Option<u32>,
    },
    /// `as PID`.  Runtime: `no process TEXT` (the token as written).
    As {
        /// The pid, truncated to `pid_t` (so `4294967396` is 100).
        pid: i32,
        /// The token as written.
        text: String,
    },
    /// `failalloc N|off`: `Some(N)`, 1 ≤ N ≤ 1000000, or `None` for `off`.
    FailAlloc(Option<u32>),
    /// `interrupt J [restart]`.  Runtime: `no job J` (the token) if no job
    /// has that number; `job N is not sleeping` if it has finished or was
    /// already woken/interrupted.
    Interrupt {
        /// The job.
        job: NumRef,
        /// `restart` (ERESTART instead of EINTR).
        restart: bool,
    },
    /// `wait J`.  Runtime: `no job J`.
    Wait {
        /// The job.
        job: NumRef,
    },
    /// `show IF`.  Runtime: if IF is not an interface, either
    /// `= IF has no softc yet (never opened)` (a result line, when a device
    /// node of that name exists, e.g. `tun`) or `no interface IF`.
    Show {
        /// Interface (or device node) name.
        name: String,
    },
    /// `mbufs`.  No harness errors.
    Mbufs,
    /// A malformed line whose error the oracle reports only after a
    /// runtime check: run `precheck` (printing its own error if it fails),
    /// else print `  ! error: {error}`.  Nothing else happens.
    Deferred {
        /// The check that comes first.
        precheck: Precheck,
        /// The syntax error.
        error: String,
    },
}
