//! Lexing and parsing of the tun scenario language
//! (`shared/reference/scenario-language.md`).
//!
//! [`parse_line`] classifies one input line as blank, comment or command.
//! A command line is tokenised and parsed into a fully validated, typed
//! [`Command`], or into the harness error the reference interpreter
//! (`shared/oracle/src/interp.c`) prints for it (`  ! error: MESSAGE`;
//! the `String` is `MESSAGE`).  Nothing here looks at runtime state.
//!
//! # Errors that depend on runtime state
//!
//! Only errors decidable from the line alone are produced here; the
//! executor performs the runtime checks (`DEV is not open`,
//! `no interface IF`, `no job J`, ...) that each [`Command`] variant's
//! documentation lists, *in the order listed*.
//!
//! Where the oracle makes a runtime check **before** finishing its syntax
//! checks, a malformed line cannot be rejected outright: the message it
//! prints depends on the runtime check.  Such a line parses to
//! [`Command::Deferred`] carrying the runtime check to make first
//! ([`Precheck`]) and the syntax error to print if that check passes.
//! This happens for exactly two commands:
//!
//! * `ifioctl` — the interface is looked up before its `CMD`/`ARG` are
//!   examined, so every `ifioctl` error other than its `usage: ifioctl IF
//!   CMD [ARG]` (fewer than three tokens) is deferred behind
//!   `no interface IF`;
//! * `if_output` — the mbuf layout (`segment N (B bytes) exceeds its
//!   C-byte mbuf`, `seg sizes add up to X, payload has Y bytes`,
//!   `payload too long`) is checked after `no interface IF`; everything
//!   else on the line (destination, options, payload) before it.
//!
//! A line whose knote or job reference can never match (not a number, or
//! not positive) is rejected here with `no knote K` / `no job J`: the
//! oracle prints the same message in the same position as for an unknown
//! positive number, which the executor reports.
//!
//! # Lexical details reproduced from the oracle
//!
//! * The oracle reads lines with `fgets` into a 65536-byte buffer: longer
//!   lines are processed as several lines ([`split_lines`]); a NUL byte
//!   ends the line.
//! * Leading and trailing C white space (space, `\t`, `\n`, `\v`, `\f`,
//!   `\r`) is trimmed; tokens are separated by runs of spaces and tabs
//!   only; at most [`MAX_TOKENS`] tokens are kept (the rest are dropped,
//!   and not echoed).
//! * `if_output` keeps at most [`MAX_PAYLOAD_TOKENS`] payload tokens
//!   (further ones are ignored, unchecked) and reads at most 1023 bytes of
//!   a `seg=` list.

use crate::payload::{parse_flags, parse_ipv4, parse_number, parse_number_bytes, parse_payload};

/// Longest line the oracle reads at once (`fgets` buffer of 65536 bytes).
pub const MAX_LINE: usize = 65535;
/// Most tokens the oracle keeps from one line.
pub const MAX_TOKENS: usize = 1024;
/// Most payload tokens `if_output` keeps (the rest are ignored).
pub const MAX_PAYLOAD_TOKENS: usize = 512;
/// Most mbufs in an `if_output` chain (explicit or computed).
pub const MAX_SEGS: usize = 512;
/// Data bytes of a packet-header mbuf.
pub const MHLEN: usize = 56;
/// Data bytes of a plain mbuf.
pub const MLEN: usize = 120;
/// Largest `read` length and `failalloc` count.
pub const MAX_READ: usize = 1_000_000;
/// Largest pid `proc` accepts.
pub const MAX_PID: i64 = 99_999;
/// The `IOC_OUT` bit of an ioctl number: a raw `ioctl` with it set
/// prints `ok value=V`.
pub const IOC_OUT: u32 = 0x4000_0000;
/// `SIOCGIFMTU` = `_IOWR('i', 51, struct ifreq)`, passed raw by `ifioctl`.
pub const SIOCGIFMTU: u32 = 0xc020_6933;
/// `EVFILT_READ`.
pub const EVFILT_READ: i16 = -1;
/// `EVFILT_WRITE`.
pub const EVFILT_WRITE: i16 = -2;

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
enum ArgKind {
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

    fn kind(self) -> ArgKind {
        self.info().2
    }

    fn info(self) -> (&'static str, u32, ArgKind) {
        use ArgKind as K;
        match self {
            NamedIoctl::TunSDebug => ("TUNSDEBUG", 0x8004_745a, K::IntIn),
            NamedIoctl::TunGDebug => ("TUNGDEBUG", 0x4004_7459, K::IntOut),
            NamedIoctl::TunSIfInfo => ("TUNSIFINFO", 0x8008_745b, K::InfoIn),
            NamedIoctl::TunGIfInfo => ("TUNGIFINFO", 0x4008_745c, K::InfoOut),
            NamedIoctl::TunSLMode => ("TUNSLMODE", 0x8004_745d, K::IntIn),
            NamedIoctl::TunSIfMode => ("TUNSIFMODE", 0x8004_745e, K::FlagsIn),
            NamedIoctl::TunSIfPid => ("TUNSIFPID", 0x2000_745f, K::None),
            NamedIoctl::TunSIfHead => ("TUNSIFHEAD", 0x8004_7460, K::IntIn),
            NamedIoctl::TunGIfHead => ("TUNGIFHEAD", 0x4004_7461, K::IntOut),
            NamedIoctl::FioAsync => ("FIOASYNC", 0x8004_667d, K::IntIn),
            NamedIoctl::FioNRead => ("FIONREAD", 0x4004_667f, K::IntOut),
            NamedIoctl::FioNbio => ("FIONBIO", 0x8004_667e, K::Fionbio),
            NamedIoctl::FioSetOwn => ("FIOSETOWN", 0x8004_667c, K::IntIn),
            NamedIoctl::FioGetOwn => ("FIOGETOWN", 0x4004_667b, K::IntOut),
            NamedIoctl::TiocSPgrp => ("TIOCSPGRP", 0x8004_7476, K::IntIn),
            NamedIoctl::TiocGPgrp => ("TIOCGPGRP", 0x4004_7477, K::IntOut),
            NamedIoctl::TiocSig => ("TIOCSIG", 0x2000_745f, K::None),
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
            Dst::Inet(_) => 2,
            Dst::Inet6 => 28,
            Dst::Unspec => 0,
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
    /// ([`SIOCGIFMTU`]): the driver is called with a zeroed `ifreq` whose
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

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Splits input text into the lines the oracle's `fgets` loop sees: each
/// ends after a `\n`, or after [`MAX_LINE`] bytes (moved back to a UTF-8
/// boundary if needed).  The `\n` is kept; [`parse_line`] trims it.
pub fn split_lines(input: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let window = &rest.as_bytes()[..rest.len().min(MAX_LINE)];
        let mut end = match window.iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => window.len(),
        };
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// Splits a trimmed command line into its tokens (at most [`MAX_TOKENS`]).
pub fn tokenize(line: &str) -> Vec<&str> {
    line.split([' ', '\t'])
        .filter(|t| !t.is_empty())
        .take(MAX_TOKENS)
        .collect()
}

/// Classifies and parses one input line (with or without its `\n`).
pub fn parse_line(raw: &str) -> Line {
    let raw = raw.split('\0').next().unwrap_or_default();
    let line = raw.trim_matches(is_c_space);
    if line.is_empty() {
        return Line::Blank;
    }
    if line.starts_with('#') {
        return Line::Comment(line.to_string());
    }
    let tokens = tokenize(line);
    Line::Command {
        echo: tokens.join(" "),
        cmd: parse_command(&tokens),
    }
}

fn usage(form: &str) -> String {
    format!("usage: {form}")
}

/// Parses the tokens of a command line (`tokens[0]` is the command name).
/// An empty slice gives `Err("empty command")` (never produced by
/// [`parse_line`]).
pub fn parse_command(tokens: &[&str]) -> Result<Command, String> {
    let t = tokens;
    let n = t.len();
    let Some(&name) = t.first() else {
        return Err("empty command".to_string());
    };
    let s = |i: usize| t[i].to_string();
    match name {
        "open" | "close" => {
            if n != 2 {
                return Err(usage(&format!("{name} DEV")));
            }
            Ok(if name == "open" {
                Command::Open { dev: s(1) }
            } else {
                Command::Close { dev: s(1) }
            })
        }
        "read" => {
            let len = t
                .get(2)
                .and_then(|x| parse_number(x))
                .filter(|v| (0..=MAX_READ as i64).contains(v));
            match len {
                Some(len) if n <= 4 && (n == 3 || t[3] == "nonblock") => Ok(Command::Read {
                    dev: s(1),
                    len: len as usize,
                    nonblock: n == 4,
                }),
                _ => Err(usage("read DEV LEN [nonblock]")),
            }
        }
        "write" => {
            if n < 2 {
                return Err(usage("write DEV PAYLOAD..."));
            }
            let payload = parse_payload(&t[2..])?;
            Ok(Command::Write { dev: s(1), payload })
        }
        "ioctl" => parse_ioctl(t),
        "kq" => parse_kq(t),
        "if_output" => parse_if_output(t),
        "ifioctl" => {
            if n < 3 {
                return Err(usage("ifioctl IF CMD [ARG]"));
            }
            Ok(match parse_ifioctl_req(t) {
                Ok(req) => Command::IfIoctl { ifname: s(1), req },
                Err(error) => Command::Deferred {
                    precheck: Precheck::Interface(s(1)),
                    error,
                },
            })
        }
        "if_start" => {
            if n != 2 {
                return Err(usage("if_start IF"));
            }
            Ok(Command::IfStart { ifname: s(1) })
        }
        "ifaddr" => {
            let addr = match (n, t.get(2).copied()) {
                (4, Some("inet")) => parse_ipv4(t[3]).map(IfAddrSpec::Inet),
                (3, Some("inet6")) => Some(IfAddrSpec::Inet6),
                (3, Some("null")) => Some(IfAddrSpec::Null),
                _ => None,
            };
            let addr = addr.ok_or_else(|| usage("ifaddr IF inet A.B.C.D | inet6 | null"))?;
            Ok(Command::IfAddr { ifname: s(1), addr })
        }
        "bpf" => match (n, t.get(1).copied()) {
            (3, Some("attach")) => Ok(Command::BpfAttach { ifname: s(2) }),
            (3, Some("detach")) => Ok(Command::BpfDetach { ifname: s(2) }),
            _ => Err(usage("bpf attach|detach IF")),
        },
        "altq" => match (n, t.get(2).copied()) {
            (3, Some(arg @ ("on" | "off"))) => Ok(Command::Altq {
                ifname: s(1),
                on: arg == "on",
            }),
            _ => Err(usage("altq IF on|off")),
        },
        "proc" => parse_proc(t),
        "as" => match t.get(1).and_then(|x| parse_number(x)) {
            Some(pid) if n == 2 => Ok(Command::As {
                pid: pid as i32,
                text: s(1),
            }),
            _ => Err(usage("as PID")),
        },
        "interrupt" => {
            if !(2..=3).contains(&n) || (n == 3 && t[2] != "restart") {
                return Err(usage("interrupt JOB [restart]"));
            }
            Ok(Command::Interrupt {
                job: job_ref(t[1])?,
                restart: n == 3,
            })
        }
        "wait" => {
            if n != 2 {
                return Err(usage("wait JOB"));
            }
            Ok(Command::Wait {
                job: job_ref(t[1])?,
            })
        }
        "failalloc" => match t.get(1).copied() {
            Some("off") if n == 2 => Ok(Command::FailAlloc(None)),
            Some(x) if n == 2 => parse_number(x)
                .filter(|v| (1..=MAX_READ as i64).contains(v))
                .map(|v| Command::FailAlloc(Some(v as u32)))
                .ok_or_else(|| usage("failalloc N|off")),
            _ => Err(usage("failalloc N|off")),
        },
        "show" => {
            if n != 2 {
                return Err(usage("show IF"));
            }
            Ok(Command::Show { name: s(1) })
        }
        "mbufs" => {
            if n != 1 {
                return Err(usage("mbufs"));
            }
            Ok(Command::Mbufs)
        }
        _ => Err(format!("unknown command '{name}'")),
    }
}

/// A job reference: a number > 0, else `no job J`.
fn job_ref(tok: &str) -> Result<NumRef, String> {
    num_ref(tok).ok_or_else(|| format!("no job {tok}"))
}

/// A knote reference: a number ≥ 1, else `no knote K`.
fn knote_ref(tok: &str) -> Result<NumRef, String> {
    num_ref(tok).ok_or_else(|| format!("no knote {tok}"))
}

fn num_ref(tok: &str) -> Option<NumRef> {
    parse_number(tok).filter(|&v| v >= 1).map(|id| NumRef {
        text: tok.to_string(),
        id,
    })
}

fn parse_ioctl(t: &[&str]) -> Result<Command, String> {
    let n = t.len();
    if n < 3 {
        return Err(usage("ioctl DEV NAME|0xNUMBER [ARG]"));
    }
    let name = t[2];
    let int_arg = || (n == 4).then(|| parse_number(t[3])).flatten();
    let no_arg = || format!("{name} takes no argument");
    let req = match NamedIoctl::from_name(name) {
        Some(ioctl) => match ioctl.kind() {
            ArgKind::Fionbio => {
                let v = int_arg().ok_or_else(|| usage("ioctl DEV FIONBIO 0|1"))?;
                IoctlReq::Fionbio(v != 0)
            }
            ArgKind::IntIn => IoctlReq::SetInt {
                ioctl,
                value: int_arg().ok_or_else(|| format!("{name} needs an integer argument"))? as i32,
            },
            ArgKind::FlagsIn => IoctlReq::TunsIfMode(
                (n == 4)
                    .then(|| parse_flags(t[3]))
                    .flatten()
                    .ok_or_else(|| format!("{name} needs flags (e.g. BROADCAST|MULTICAST)"))?,
            ),
            ArgKind::InfoIn => parse_tuninfo(&t[3..])?,
            ArgKind::IntOut => {
                let preset = match n {
                    3 => 0,
                    _ => int_arg().ok_or_else(no_arg)? as i32,
                };
                IoctlReq::GetInt { ioctl, preset }
            }
            ArgKind::InfoOut | ArgKind::None if n != 3 => return Err(no_arg()),
            ArgKind::InfoOut => IoctlReq::TungIfInfo,
            ArgKind::None => IoctlReq::NoArg { ioctl },
        },
        None => {
            let cmd = parse_number(name).ok_or_else(|| format!("unknown ioctl '{name}'"))? as u32;
            let arg = match n {
                3 => None,
                _ => Some(int_arg().ok_or_else(|| {
                    if cmd & IOC_OUT != 0 {
                        no_arg()
                    } else {
                        format!("{name} needs an integer argument")
                    }
                })? as i32),
            };
            IoctlReq::Raw { cmd, arg }
        }
    };
    Ok(Command::Ioctl {
        dev: t[1].to_string(),
        req,
    })
}

fn parse_tuninfo(fields: &[&str]) -> Result<IoctlReq, String> {
    let (mut mtu, mut typ, mut baudrate) = (0u16, 0u8, 0i32);
    for f in fields {
        let num = |prefix: &str| f.strip_prefix(prefix).and_then(parse_number);
        if let Some(v) = num("mtu=") {
            mtu = v as u16;
        } else if let Some(v) = num("type=") {
            typ = v as u8;
        } else if let Some(v) = num("baudrate=") {
            baudrate = v as i32;
        } else {
            return Err(format!("bad tuninfo field '{f}'"));
        }
    }
    Ok(IoctlReq::TunsIfInfo { mtu, typ, baudrate })
}

/// Parses a kqueue filter: a name (`read` … `except` → `EVFILT_*`) or a
/// number (truncated to C `short`).
pub fn parse_filter(tok: &str) -> Option<i16> {
    const NAMES: [&str; 8] = [
        "read", "write", "aio", "vnode", "proc", "signal", "timer", "except",
    ];
    match NAMES.iter().position(|&x| x == tok) {
        Some(i) => Some(-1 - i as i16),
        None => parse_number(tok).map(|v| v as i16),
    }
}

fn parse_kq(t: &[&str]) -> Result<Command, String> {
    match (t.len(), t.get(1).copied()) {
        (4, Some("add")) => {
            let filter = parse_filter(t[3]).ok_or_else(|| format!("unknown filter '{}'", t[3]))?;
            Ok(Command::KqAdd {
                dev: t[2].to_string(),
                filter,
            })
        }
        (3, Some("check")) => Ok(Command::KqCheck {
            knote: knote_ref(t[2])?,
        }),
        (3, Some("del")) => Ok(Command::KqDel {
            knote: knote_ref(t[2])?,
        }),
        _ => Err(usage("kq add DEV FILTER | kq check K | kq del K")),
    }
}

fn parse_dst(tok: &str) -> Result<Dst, String> {
    if let Some(addr) = tok.strip_prefix("inet:") {
        parse_ipv4(addr)
            .map(Dst::Inet)
            .ok_or_else(|| format!("bad address '{tok}'"))
    } else if tok == "inet6" {
        Ok(Dst::Inet6)
    } else if tok == "unspec" {
        Ok(Dst::Unspec)
    } else if let Some(spec) = tok.strip_prefix("sa:") {
        crate::payload::parse_sa_spec(spec)
            .map(|(family, len)| Dst::Sa { family, len })
            .ok_or_else(|| format!("bad sockaddr '{tok}'"))
    } else {
        Err(format!("bad destination '{tok}'"))
    }
}

fn parse_if_output(t: &[&str]) -> Result<Command, String> {
    if t.len() < 3 {
        return Err(usage(
            "if_output IF DST PAYLOAD... [lead=N] [seg=A,B,..] [mcast]",
        ));
    }
    let dst = parse_dst(t[2])?;
    let mut lead = 0usize;
    let mut segs: Vec<usize> = Vec::new();
    let mut mcast = false;
    let mut ptoks: Vec<&str> = Vec::new();
    for &tok in &t[3..] {
        if let Some(v) = tok.strip_prefix("lead=") {
            lead = parse_number(v)
                .filter(|v| (0..=MHLEN as i64).contains(v))
                .ok_or_else(|| format!("lead must be 0..{MHLEN}"))? as usize;
        } else if let Some(list) = tok.strip_prefix("seg=") {
            // The oracle copies the list into a 1024-byte buffer.
            let list = &list.as_bytes()[..list.len().min(1023)];
            for item in list.split(|&b| b == b',').filter(|x| !x.is_empty()) {
                let v = parse_number_bytes(item)
                    .filter(|v| (0..=MLEN as i64).contains(v) && segs.len() < MAX_SEGS)
                    .ok_or_else(|| "bad seg list".to_string())?;
                segs.push(v as usize);
            }
        } else if tok == "mcast" {
            mcast = true;
        } else if ptoks.len() < MAX_PAYLOAD_TOKENS {
            ptoks.push(tok);
        }
    }
    let payload = parse_payload(&ptoks)?;
    let ifname = t[1].to_string();
    match mbuf_layout(payload.len(), lead, segs) {
        Ok(segs) => Ok(Command::IfOutput {
            ifname,
            dst,
            payload,
            lead,
            segs,
            mcast,
        }),
        Err(error) => Ok(Command::Deferred {
            precheck: Precheck::Interface(ifname),
            error,
        }),
    }
}

/// Validates an explicit `seg=` layout or computes the default one.
fn mbuf_layout(len: usize, lead: usize, segs: Vec<usize>) -> Result<Vec<usize>, String> {
    let first_cap = MHLEN - lead;
    if !segs.is_empty() {
        for (i, &seg) in segs.iter().enumerate() {
            let cap = if i == 0 { first_cap } else { MLEN };
            if seg > cap {
                return Err(format!(
                    "segment {} ({seg} bytes) exceeds its {cap}-byte mbuf",
                    i + 1
                ));
            }
        }
        let sum: usize = segs.iter().sum();
        if sum != len {
            return Err(format!(
                "seg sizes add up to {sum}, payload has {len} bytes"
            ));
        }
        return Ok(segs);
    }
    let mut out = Vec::new();
    let mut left = len;
    let mut cap = first_cap;
    loop {
        if out.len() == MAX_SEGS {
            return Err("payload too long".to_string());
        }
        let k = left.min(cap);
        out.push(k);
        left -= k;
        cap = MLEN;
        if left == 0 {
            return Ok(out);
        }
    }
}

fn parse_ifioctl_req(t: &[&str]) -> Result<IfIoctlReq, String> {
    let n = t.len();
    let cmd = t[2];
    match cmd {
        "SIOCSIFADDR" | "SIOCSIFDSTADDR" => {
            let a = (n == 4)
                .then(|| parse_ipv4(t[3]))
                .flatten()
                .ok_or_else(|| usage(&format!("ifioctl IF {cmd} A.B.C.D")))?;
            Ok(if cmd == "SIOCSIFADDR" {
                IfIoctlReq::SetAddr(a)
            } else {
                IfIoctlReq::SetDstAddr(a)
            })
        }
        "SIOCSIFFLAGS" => (n == 4)
            .then(|| parse_flags(t[3]))
            .flatten()
            .map(IfIoctlReq::SetFlags)
            .ok_or_else(|| usage("ifioctl IF SIOCSIFFLAGS FLAGS")),
        "SIOCSIFMTU" => (n == 4)
            .then(|| parse_number(t[3]))
            .flatten()
            .map(|v| IfIoctlReq::SetMtu(v as i32))
            .ok_or_else(|| usage("ifioctl IF SIOCSIFMTU N")),
        "SIOCADDMULTI" | "SIOCDELMULTI" => {
            if n != 3 {
                return Err(format!("{cmd} takes no argument"));
            }
            Ok(if cmd == "SIOCADDMULTI" {
                IfIoctlReq::AddMulti
            } else {
                IfIoctlReq::DelMulti
            })
        }
        "SIOCGIFSTATUS" => {
            if n != 3 {
                return Err("SIOCGIFSTATUS takes no argument".to_string());
            }
            Ok(IfIoctlReq::GetStatus)
        }
        _ => {
            let number = match cmd {
                "SIOCGIFMTU" => SIOCGIFMTU,
                _ => parse_number(cmd).ok_or_else(|| format!("unknown interface ioctl '{cmd}'"))?
                    as u32,
            };
            let arg = match n {
                4 => parse_number(t[3]).ok_or_else(|| format!("bad argument '{}'", t[3]))?,
                _ => 0,
            };
            Ok(IfIoctlReq::Raw {
                cmd: number,
                arg: arg as i32,
            })
        }
    }
}

fn parse_proc(t: &[&str]) -> Result<Command, String> {
    let pid = t
        .get(1)
        .and_then(|x| parse_number(x))
        .filter(|v| (1..=MAX_PID).contains(v))
        .ok_or_else(|| usage("proc PID [pgrp=G] [sess=S] [uid=U]"))?;
    let (mut pgrp, mut sess, mut uid) = (None, None, None);
    for &opt in &t[2..] {
        let bad = || format!("bad proc option '{opt}'");
        let (key, val) = opt.split_once('=').ok_or_else(bad)?;
        let v = parse_number(val).filter(|&v| v >= 0).ok_or_else(bad)?;
        match key {
            "pgrp" => pgrp = Some(v as i32),
            "sess" => sess = Some(v as i32),
            "uid" => uid = Some(v as u32),
            _ => return Err(bad()),
        }
    }
    Ok(Command::Proc {
        pid: pid as i32,
        pgrp,
        sess,
        uid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses one command line, expecting a command (not blank/comment).
    fn cmd(line: &str) -> Result<Command, String> {
        match parse_line(line) {
            Line::Command { cmd, .. } => cmd,
            other => panic!("not a command: {other:?}"),
        }
    }

    fn ok(line: &str) -> Command {
        cmd(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    fn err(line: &str) -> String {
        match cmd(line) {
            Err(e) => e,
            Ok(c) => panic!("{line:?} parsed: {c:?}"),
        }
    }

    /// The deferred error of a line (after a `no interface` precheck).
    fn deferred(line: &str) -> String {
        match ok(line) {
            Command::Deferred {
                precheck: Precheck::Interface(_),
                error,
            } => error,
            c => panic!("{line:?} not deferred: {c:?}"),
        }
    }

    fn ioctl(line: &str) -> IoctlReq {
        match ok(line) {
            Command::Ioctl { req, .. } => req,
            c => panic!("{c:?}"),
        }
    }

    fn ifioctl(line: &str) -> IfIoctlReq {
        match ok(line) {
            Command::IfIoctl { req, .. } => req,
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn lexing() {
        assert_eq!(parse_line(""), Line::Blank);
        assert_eq!(parse_line(" \t\r\n"), Line::Blank);
        assert_eq!(parse_line("\x0b\x0c"), Line::Blank);
        assert_eq!(
            parse_line("  # a  comment\t \r\n"),
            Line::Comment("# a  comment".into())
        );
        assert_eq!(parse_line("#"), Line::Comment("#".into()));
        assert_eq!(
            parse_line("\t open \t  tun0   \r\n"),
            Line::Command {
                echo: "open tun0".into(),
                cmd: Ok(Command::Open { dev: "tun0".into() })
            }
        );
        // '#' later on the line is an ordinary token
        match parse_line("open tun0 # x") {
            Line::Command { echo, cmd } => {
                assert_eq!(echo, "open tun0 # x");
                assert_eq!(cmd, Err("usage: open DEV".into()));
            }
            l => panic!("{l:?}"),
        }
        // only blanks and tabs separate tokens; a NUL ends the line
        assert_eq!(err("open\x0btun0"), "unknown command 'open\x0btun0'");
        assert_eq!(parse_line("mbufs\0 junk"), parse_line("mbufs"));
        assert_eq!(parse_line("\0mbufs"), Line::Blank);
        // tokens are case-sensitive
        assert_eq!(err("OPEN tun0"), "unknown command 'OPEN'");
    }

    #[test]
    fn token_limit() {
        let line = format!("write tun0 {}", vec!["00"; 1100].join(" "));
        match parse_line(&line) {
            Line::Command { echo, cmd } => {
                assert_eq!(echo.split(' ').count(), MAX_TOKENS);
                match cmd.unwrap() {
                    Command::Write { payload, .. } => assert_eq!(payload.len(), 1022),
                    c => panic!("{c:?}"),
                }
            }
            l => panic!("{l:?}"),
        }
    }

    #[test]
    fn line_splitting() {
        assert_eq!(split_lines(""), Vec::<&str>::new());
        assert_eq!(split_lines("a\n\nb"), vec!["a\n", "\n", "b"]);
        let long = format!("{}\nx\n", "y".repeat(MAX_LINE + 5));
        let parts = split_lines(&long);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].len(), MAX_LINE);
        assert_eq!(parts[1], "yyyyy\n");
        assert_eq!(parts[2], "x\n");
        let exact = format!("{}\n", "y".repeat(MAX_LINE));
        assert_eq!(split_lines(&exact), vec![&exact[..MAX_LINE], "\n"]);
    }

    #[test]
    fn unknown_command() {
        assert_eq!(err("bogus 1"), "unknown command 'bogus'");
        assert_eq!(parse_command(&[]), Err("empty command".into()));
    }

    #[test]
    fn open_close() {
        assert_eq!(ok("open tun"), Command::Open { dev: "tun".into() });
        assert_eq!(ok("close tun0"), Command::Close { dev: "tun0".into() });
        assert_eq!(err("open"), "usage: open DEV");
        assert_eq!(err("open tun0 tun1"), "usage: open DEV");
        assert_eq!(err("close"), "usage: close DEV");
        assert_eq!(err("close a b"), "usage: close DEV");
    }

    #[test]
    fn read() {
        assert_eq!(
            ok("read tun0 2000"),
            Command::Read {
                dev: "tun0".into(),
                len: 2000,
                nonblock: false
            }
        );
        assert_eq!(
            ok("read tun0 0x0 nonblock"),
            Command::Read {
                dev: "tun0".into(),
                len: 0,
                nonblock: true
            }
        );
        assert!(matches!(
            ok("read x 1000000"),
            Command::Read { len: 1_000_000, .. }
        ));
        for l in [
            "read",
            "read tun0",
            "read tun0 -1",
            "read tun0 1000001",
            "read tun0 x",
            "read tun0 10 block",
            "read tun0 10 nonblock x",
        ] {
            assert_eq!(err(l), "usage: read DEV LEN [nonblock]", "{l}");
        }
    }

    #[test]
    fn write() {
        assert_eq!(
            ok("write tun0 be32:2 cafe"),
            Command::Write {
                dev: "tun0".into(),
                payload: vec![0, 0, 0, 2, 0xca, 0xfe]
            }
        );
        assert_eq!(
            ok("write tun0"),
            Command::Write {
                dev: "tun0".into(),
                payload: vec![]
            }
        );
        assert_eq!(err("write"), "usage: write DEV PAYLOAD...");
        assert_eq!(err("write tun0 xyz"), "bad payload token 'xyz'");
        assert_eq!(err("write tun0 ip4:1.2.3.4"), "bad ip4 token 'ip4:1.2.3.4'");
    }

    #[test]
    fn ioctl_setters() {
        assert_eq!(
            ioctl("ioctl tun0 TUNSIFHEAD 1"),
            IoctlReq::SetInt {
                ioctl: NamedIoctl::TunSIfHead,
                value: 1
            }
        );
        assert_eq!(
            ioctl("ioctl tun0 FIOSETOWN -100"),
            IoctlReq::SetInt {
                ioctl: NamedIoctl::FioSetOwn,
                value: -100
            }
        );
        // C truncation of long long to int
        assert_eq!(
            ioctl("ioctl tun0 TUNSDEBUG 0x100000005"),
            IoctlReq::SetInt {
                ioctl: NamedIoctl::TunSDebug,
                value: 5
            }
        );
        for name in [
            "TUNSDEBUG",
            "TUNSLMODE",
            "TUNSIFHEAD",
            "FIOASYNC",
            "FIOSETOWN",
            "TIOCSPGRP",
        ] {
            let io = NamedIoctl::from_name(name).unwrap();
            assert_eq!(
                ioctl(&format!("ioctl tun0 {name} 7")),
                IoctlReq::SetInt {
                    ioctl: io,
                    value: 7
                }
            );
            let msg = format!("{name} needs an integer argument");
            assert_eq!(err(&format!("ioctl tun0 {name}")), msg);
            assert_eq!(err(&format!("ioctl tun0 {name} x")), msg);
            assert_eq!(err(&format!("ioctl tun0 {name} 1 2")), msg);
        }
        assert_eq!(
            ioctl("ioctl tun0 TUNSIFMODE POINTOPOINT|MULTICAST"),
            IoctlReq::TunsIfMode(0x8010)
        );
        assert_eq!(ioctl("ioctl tun0 TUNSIFMODE 0x2"), IoctlReq::TunsIfMode(2));
        for l in [
            "ioctl tun0 TUNSIFMODE",
            "ioctl tun0 TUNSIFMODE up",
            "ioctl tun0 TUNSIFMODE UP|0x1",
            "ioctl tun0 TUNSIFMODE UP UP",
        ] {
            assert_eq!(err(l), "TUNSIFMODE needs flags (e.g. BROADCAST|MULTICAST)");
        }
    }

    #[test]
    fn ioctl_tuninfo() {
        assert_eq!(
            ioctl("ioctl tun0 TUNSIFINFO mtu=1400 type=0x17 baudrate=-1"),
            IoctlReq::TunsIfInfo {
                mtu: 1400,
                typ: 0x17,
                baudrate: -1
            }
        );
        assert_eq!(
            ioctl("ioctl tun0 TUNSIFINFO"),
            IoctlReq::TunsIfInfo {
                mtu: 0,
                typ: 0,
                baudrate: 0
            }
        );
        assert_eq!(
            ioctl("ioctl tun0 TUNSIFINFO type=257 mtu=65537 mtu=70"),
            IoctlReq::TunsIfInfo {
                mtu: 70,
                typ: 1,
                baudrate: 0
            }
        );
        assert_eq!(
            err("ioctl tun0 TUNSIFINFO mtu=1 speed=5"),
            "bad tuninfo field 'speed=5'"
        );
        assert_eq!(
            err("ioctl tun0 TUNSIFINFO mtu="),
            "bad tuninfo field 'mtu='"
        );
        assert_eq!(err("ioctl tun0 TUNSIFINFO 5"), "bad tuninfo field '5'");
    }

    #[test]
    fn ioctl_getters() {
        for name in [
            "TUNGDEBUG",
            "TUNGIFHEAD",
            "FIONREAD",
            "FIOGETOWN",
            "TIOCGPGRP",
        ] {
            let io = NamedIoctl::from_name(name).unwrap();
            assert_eq!(
                ioctl(&format!("ioctl tun0 {name}")),
                IoctlReq::GetInt {
                    ioctl: io,
                    preset: 0
                }
            );
            // an optional integer pre-fills the buffer
            assert_eq!(
                ioctl(&format!("ioctl tun0 {name} 9")),
                IoctlReq::GetInt {
                    ioctl: io,
                    preset: 9
                }
            );
            let msg = format!("{name} takes no argument");
            assert_eq!(err(&format!("ioctl tun0 {name} x")), msg);
            assert_eq!(err(&format!("ioctl tun0 {name} 1 2")), msg);
        }
        assert!(ioctl("ioctl tun0 FIONREAD").prints_value());
        assert_eq!(ioctl("ioctl tun0 TUNGIFINFO"), IoctlReq::TungIfInfo);
        assert_eq!(
            err("ioctl tun0 TUNGIFINFO 1"),
            "TUNGIFINFO takes no argument"
        );
        assert_eq!(
            ioctl("ioctl tun0 TUNSIFPID"),
            IoctlReq::NoArg {
                ioctl: NamedIoctl::TunSIfPid
            }
        );
        assert_eq!(ioctl("ioctl tun0 TIOCSIG").cmd(), 0x2000_745f);
        assert_eq!(err("ioctl tun0 TUNSIFPID 1"), "TUNSIFPID takes no argument");
        assert_eq!(err("ioctl tun0 TIOCSIG 1"), "TIOCSIG takes no argument");
    }

    #[test]
    fn ioctl_fionbio() {
        assert_eq!(ioctl("ioctl tun0 FIONBIO 1"), IoctlReq::Fionbio(true));
        assert_eq!(ioctl("ioctl tun0 FIONBIO 0"), IoctlReq::Fionbio(false));
        assert_eq!(ioctl("ioctl tun0 FIONBIO 5"), IoctlReq::Fionbio(true));
        assert_eq!(ioctl("ioctl tun0 FIONBIO 0x"), IoctlReq::Fionbio(false));
        for l in [
            "ioctl tun0 FIONBIO",
            "ioctl tun0 FIONBIO on",
            "ioctl tun0 FIONBIO 1 1",
        ] {
            assert_eq!(err(l), "usage: ioctl DEV FIONBIO 0|1");
        }
    }

    #[test]
    fn ioctl_raw_and_errors() {
        assert_eq!(
            ioctl("ioctl tun0 0x40047459"),
            IoctlReq::Raw {
                cmd: 0x4004_7459,
                arg: None
            }
        );
        assert!(ioctl("ioctl tun0 0x40047459").prints_value());
        assert_eq!(
            ioctl("ioctl tun0 0x1234 -3"),
            IoctlReq::Raw {
                cmd: 0x1234,
                arg: Some(-3)
            }
        );
        assert!(!ioctl("ioctl tun0 0x1234 -3").prints_value());
        assert_eq!(
            ioctl("ioctl tun0 0x180047460 1"),
            IoctlReq::Raw {
                cmd: 0x8004_7460,
                arg: Some(1)
            }
        );
        assert_eq!(
            ioctl("ioctl tun0 0x40047459 4"),
            IoctlReq::Raw {
                cmd: 0x4004_7459,
                arg: Some(4)
            }
        );
        assert_eq!(
            err("ioctl tun0 0x40047459 x"),
            "0x40047459 takes no argument"
        );
        assert_eq!(
            err("ioctl tun0 0x1234 x"),
            "0x1234 needs an integer argument"
        );
        assert_eq!(
            err("ioctl tun0 0x1234 1 2"),
            "0x1234 needs an integer argument"
        );
        assert_eq!(err("ioctl tun0 TUNFOO"), "unknown ioctl 'TUNFOO'");
        assert_eq!(err("ioctl tun0 SIOCGIFMTU"), "unknown ioctl 'SIOCGIFMTU'");
        assert_eq!(err("ioctl tun0"), "usage: ioctl DEV NAME|0xNUMBER [ARG]");
        assert_eq!(err("ioctl"), "usage: ioctl DEV NAME|0xNUMBER [ARG]");
    }

    #[test]
    fn ioctl_numbers_match_oracle() {
        // `tunoracle --constants`
        let expect = [
            ("TUNGDEBUG", 0x40047459),
            ("TUNSDEBUG", 0x8004745a),
            ("TUNSIFINFO", 0x8008745b),
            ("TUNGIFINFO", 0x4008745c),
            ("TUNSLMODE", 0x8004745d),
            ("TUNSIFMODE", 0x8004745e),
            ("TUNSIFPID", 0x2000745f),
            ("TUNSIFHEAD", 0x80047460),
            ("TUNGIFHEAD", 0x40047461),
            ("FIONREAD", 0x4004667f),
            ("FIONBIO", 0x8004667e),
            ("FIOASYNC", 0x8004667d),
            ("FIOSETOWN", 0x8004667c),
            ("FIOGETOWN", 0x4004667b),
            ("TIOCSPGRP", 0x80047476),
            ("TIOCGPGRP", 0x40047477),
            ("TIOCSIG", 0x2000745f),
        ];
        for (name, cmd) in expect {
            assert_eq!(NamedIoctl::from_name(name).unwrap().cmd(), cmd, "{name}");
        }
        assert_eq!(NamedIoctl::ALL.len(), expect.len());
    }

    #[test]
    fn kq() {
        assert_eq!(
            ok("kq add tun0 read"),
            Command::KqAdd {
                dev: "tun0".into(),
                filter: -1
            }
        );
        let filters = [
            "read", "write", "aio", "vnode", "proc", "signal", "timer", "except",
        ];
        for (i, f) in filters.iter().enumerate() {
            assert_eq!(parse_filter(f), Some(-1 - i as i16));
        }
        assert_eq!(parse_filter("7"), Some(7));
        assert_eq!(parse_filter("0x1fffe"), Some(-2));
        assert_eq!(err("kq add tun0 bogus"), "unknown filter 'bogus'");
        assert_eq!(err("kq add tun0 READ"), "unknown filter 'READ'");
        assert_eq!(
            ok("kq check 0x1"),
            Command::KqCheck {
                knote: NumRef {
                    text: "0x1".into(),
                    id: 1
                }
            }
        );
        assert!(matches!(
            ok("kq del 3"),
            Command::KqDel {
                knote: NumRef { id: 3, .. }
            }
        ));
        assert_eq!(err("kq check 0"), "no knote 0");
        assert_eq!(err("kq check abc"), "no knote abc");
        assert_eq!(err("kq del -1"), "no knote -1");
        let u = "usage: kq add DEV FILTER | kq check K | kq del K";
        for l in [
            "kq",
            "kq check",
            "kq add tun0",
            "kq add tun0 read x",
            "kq del 1 2",
            "kq foo 1",
        ] {
            assert_eq!(err(l), u, "{l}");
        }
    }

    #[test]
    fn if_output_basic() {
        assert_eq!(
            ok("if_output tun0 inet:10.0.0.2 ip4:10.0.0.1>10.0.0.2 pat:12"),
            Command::IfOutput {
                ifname: "tun0".into(),
                dst: Dst::Inet([10, 0, 0, 2]),
                payload: crate::payload::parse_payload(&["ip4:10.0.0.1>10.0.0.2", "pat:12"])
                    .unwrap(),
                lead: 0,
                segs: vec![32],
                mcast: false,
            }
        );
        match ok("if_output tun0 inet6 lead=8 pat:100 mcast seg=40,60") {
            Command::IfOutput {
                dst,
                payload,
                lead,
                segs,
                mcast,
                ..
            } => {
                assert_eq!(dst, Dst::Inet6);
                assert_eq!(payload.len(), 100);
                assert_eq!((lead, mcast), (8, true));
                assert_eq!(segs, vec![40, 60]);
            }
            c => panic!("{c:?}"),
        }
        // default split: 56 - lead, then 120s; empty payload = one empty mbuf
        let segs = |l: &str| match ok(l) {
            Command::IfOutput { segs, .. } => segs,
            c => panic!("{c:?}"),
        };
        assert_eq!(segs("if_output tun0 unspec"), vec![0]);
        assert_eq!(segs("if_output tun0 unspec pat:56"), vec![56]);
        assert_eq!(segs("if_output tun0 unspec pat:300"), vec![56, 120, 120, 4]);
        assert_eq!(segs("if_output tun0 unspec pat:10 lead=56"), vec![0, 10]);
        assert_eq!(
            segs("if_output tun0 unspec pat:5 seg=0,,5, seg=0"),
            vec![0, 5, 0]
        );
        // an empty seg list means the default split
        assert_eq!(segs("if_output tun0 unspec pat:5 seg="), vec![5]);
        // the last lead= wins; ip4 length counts only payload tokens
        match ok("if_output tun0 sa:2:16 lead=3 ip4:1.2.3.4>5.6.7.8 lead=4 mcast cafe") {
            Command::IfOutput {
                dst, payload, lead, ..
            } => {
                assert_eq!(dst, Dst::Sa { family: 2, len: 16 });
                assert_eq!(lead, 4);
                assert_eq!(&payload[2..4], &[0, 22]);
            }
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn if_output_dst() {
        let dst = |l: &str| match ok(l) {
            Command::IfOutput { dst, .. } => dst,
            c => panic!("{c:?}"),
        };
        assert_eq!(dst("if_output tun0 unspec"), Dst::Unspec);
        assert_eq!(
            dst("if_output tun0 sa:255:0"),
            Dst::Sa {
                family: 255,
                len: 0
            }
        );
        let b = Dst::Inet([10, 0, 0, 2]).sockaddr_buf();
        assert_eq!(&b[..8], &[16, 2, 0, 0, 10, 0, 0, 2]);
        assert_eq!(&Dst::Inet6.sockaddr_buf()[..2], &[28, 28]);
        assert_eq!(&Dst::Unspec.sockaddr_buf()[..2], &[16, 0]);
        assert_eq!(err("if_output tun0 inet:1.2.3"), "bad address 'inet:1.2.3'");
        assert_eq!(err("if_output tun0 inet:"), "bad address 'inet:'");
        assert_eq!(err("if_output tun0 sa:256:1"), "bad sockaddr 'sa:256:1'");
        assert_eq!(err("if_output tun0 sa:2"), "bad sockaddr 'sa:2'");
        assert_eq!(err("if_output tun0 inet"), "bad destination 'inet'");
        assert_eq!(err("if_output tun0 INET6"), "bad destination 'INET6'");
        let u = "usage: if_output IF DST PAYLOAD... [lead=N] [seg=A,B,..] [mcast]";
        assert_eq!(err("if_output"), u);
        assert_eq!(err("if_output tun0"), u);
    }

    #[test]
    fn if_output_errors_and_order() {
        assert_eq!(err("if_output tun0 unspec lead=57"), "lead must be 0..56");
        assert_eq!(err("if_output tun0 unspec lead=-1"), "lead must be 0..56");
        assert_eq!(err("if_output tun0 unspec lead="), "lead must be 0..56");
        assert_eq!(err("if_output tun0 unspec seg=121"), "bad seg list");
        assert_eq!(err("if_output tun0 unspec seg=1,x"), "bad seg list");
        assert_eq!(err("if_output tun0 unspec seg=-1"), "bad seg list");
        // at most 512 segments in all (one list is cut at 1023 bytes, so
        // the 513th must come from a second seg= token)
        let many = vec!["1"; 512].join(",");
        assert_eq!(
            err(&format!("if_output tun0 unspec seg={many} seg=1")),
            "bad seg list"
        );
        // options are checked in line order, before the payload
        assert_eq!(err("if_output tun0 unspec seg=999 lead=99"), "bad seg list");
        assert_eq!(
            err("if_output tun0 unspec lead=99 seg=999"),
            "lead must be 0..56"
        );
        assert_eq!(
            err("if_output tun0 unspec zz lead=99"),
            "lead must be 0..56"
        );
        assert_eq!(err("if_output tun0 unspec zz"), "bad payload token 'zz'");
        // the destination comes first
        assert_eq!(
            err("if_output tun0 bogus lead=99"),
            "bad destination 'bogus'"
        );
    }

    #[test]
    fn if_output_deferred_layout_errors() {
        assert_eq!(
            deferred("if_output tun0 unspec pat:60 seg=57,3"),
            "segment 1 (57 bytes) exceeds its 56-byte mbuf"
        );
        assert_eq!(
            deferred("if_output tun0 unspec pat:60 lead=10 seg=50,10"),
            "segment 1 (50 bytes) exceeds its 46-byte mbuf"
        );
        // all caps are checked before the sum
        assert_eq!(
            deferred("if_output tun0 unspec pat:2 seg=1,120,1 seg=100 lead=56"),
            "segment 1 (1 bytes) exceeds its 0-byte mbuf"
        );
        assert_eq!(
            deferred("if_output tun0 unspec pat:10 seg=4,5"),
            "seg sizes add up to 9, payload has 10 bytes"
        );
        // 56 + 511 * 120 bytes fit in 512 mbufs; one more does not
        let fits = 56 + 511 * 120;
        match ok(&format!("if_output tun0 unspec zeros:{fits}")) {
            Command::IfOutput { segs, .. } => assert_eq!(segs.len(), MAX_SEGS),
            c => panic!("{c:?}"),
        }
        assert_eq!(
            deferred(&format!("if_output tun0 unspec zeros:{}", fits + 1)),
            "payload too long"
        );
        match ok("if_output tun9 unspec pat:10 seg=4,5") {
            Command::Deferred { precheck, .. } => {
                assert_eq!(precheck, Precheck::Interface("tun9".into()))
            }
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn if_output_token_limits() {
        // payload tokens beyond 512 are ignored without being checked
        let line = format!(
            "if_output tun0 unspec {} zz mcast",
            vec!["ab"; 512].join(" ")
        );
        match ok(&line) {
            Command::IfOutput { payload, mcast, .. } => {
                assert_eq!(payload.len(), 512);
                assert!(mcast);
            }
            c => panic!("{c:?}"),
        }
        // a seg= list is cut at 1023 bytes ("1," * 511 + "1" is 1023 bytes)
        let list = format!("{}1", "1,".repeat(511));
        assert_eq!(list.len(), 1023);
        match ok(&format!("if_output tun0 unspec zeros:512 seg={list}99")) {
            Command::IfOutput { segs, .. } => assert_eq!(segs, vec![1; 512]),
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn ifioctl_requests() {
        assert_eq!(
            ifioctl("ifioctl tun0 SIOCSIFADDR 10.0.0.1"),
            IfIoctlReq::SetAddr([10, 0, 0, 1])
        );
        assert_eq!(
            ifioctl("ifioctl tun0 SIOCSIFDSTADDR 10.0.0.2"),
            IfIoctlReq::SetDstAddr([10, 0, 0, 2])
        );
        assert_eq!(
            ifioctl("ifioctl tun0 SIOCSIFFLAGS UP|POINTOPOINT"),
            IfIoctlReq::SetFlags(0x11)
        );
        assert_eq!(
            ifioctl("ifioctl tun0 SIOCSIFMTU 71"),
            IfIoctlReq::SetMtu(71)
        );
        assert_eq!(
            ifioctl("ifioctl tun0 SIOCSIFMTU 0x100000048"),
            IfIoctlReq::SetMtu(72)
        );
        assert_eq!(ifioctl("ifioctl tun0 SIOCADDMULTI"), IfIoctlReq::AddMulti);
        assert_eq!(ifioctl("ifioctl tun0 SIOCDELMULTI"), IfIoctlReq::DelMulti);
        assert_eq!(ifioctl("ifioctl tun0 SIOCGIFSTATUS"), IfIoctlReq::GetStatus);
        assert_eq!(
            ifioctl("ifioctl tun0 SIOCGIFMTU"),
            IfIoctlReq::Raw {
                cmd: 0xc020_6933,
                arg: 0
            }
        );
        assert_eq!(
            ifioctl("ifioctl tun0 0x80206934 1400"),
            IfIoctlReq::Raw {
                cmd: 0x8020_6934,
                arg: 1400
            }
        );
        // with two or more arguments the oracle ignores them
        assert_eq!(
            ifioctl("ifioctl tun0 0x1 x y"),
            IfIoctlReq::Raw { cmd: 1, arg: 0 }
        );
        assert_eq!(err("ifioctl tun0"), "usage: ifioctl IF CMD [ARG]");
        assert_eq!(err("ifioctl"), "usage: ifioctl IF CMD [ARG]");
    }

    #[test]
    fn ifioctl_deferred_errors() {
        let cases = [
            ("SIOCSIFADDR", "usage: ifioctl IF SIOCSIFADDR A.B.C.D"),
            ("SIOCSIFADDR 1.2.3", "usage: ifioctl IF SIOCSIFADDR A.B.C.D"),
            (
                "SIOCSIFDSTADDR 1.2.3.4 5",
                "usage: ifioctl IF SIOCSIFDSTADDR A.B.C.D",
            ),
            ("SIOCSIFFLAGS", "usage: ifioctl IF SIOCSIFFLAGS FLAGS"),
            ("SIOCSIFFLAGS up", "usage: ifioctl IF SIOCSIFFLAGS FLAGS"),
            ("SIOCSIFMTU", "usage: ifioctl IF SIOCSIFMTU N"),
            ("SIOCSIFMTU big", "usage: ifioctl IF SIOCSIFMTU N"),
            ("SIOCADDMULTI 1", "SIOCADDMULTI takes no argument"),
            ("SIOCDELMULTI 1", "SIOCDELMULTI takes no argument"),
            ("SIOCGIFSTATUS x", "SIOCGIFSTATUS takes no argument"),
            ("0x1234 x", "bad argument 'x'"),
            ("SIOCGIFMTU x", "bad argument 'x'"),
            ("SIOCFOO", "unknown interface ioctl 'SIOCFOO'"),
            ("TUNSIFHEAD 1", "unknown interface ioctl 'TUNSIFHEAD'"),
        ];
        for (args, msg) in cases {
            assert_eq!(deferred(&format!("ifioctl tun0 {args}")), msg, "{args}");
        }
    }

    #[test]
    fn interface_commands() {
        assert_eq!(
            ok("if_start tun0"),
            Command::IfStart {
                ifname: "tun0".into()
            }
        );
        assert_eq!(err("if_start"), "usage: if_start IF");
        assert_eq!(err("if_start tun0 x"), "usage: if_start IF");
        assert_eq!(
            ok("ifaddr tun0 inet 10.0.0.9"),
            Command::IfAddr {
                ifname: "tun0".into(),
                addr: IfAddrSpec::Inet([10, 0, 0, 9])
            }
        );
        assert!(matches!(
            ok("ifaddr tun0 inet6"),
            Command::IfAddr {
                addr: IfAddrSpec::Inet6,
                ..
            }
        ));
        assert!(matches!(
            ok("ifaddr tun0 null"),
            Command::IfAddr {
                addr: IfAddrSpec::Null,
                ..
            }
        ));
        let u = "usage: ifaddr IF inet A.B.C.D | inet6 | null";
        for l in [
            "ifaddr",
            "ifaddr tun0",
            "ifaddr tun0 inet",
            "ifaddr tun0 inet 1.2.3",
            "ifaddr tun0 inet 1.2.3.4 x",
            "ifaddr tun0 inet6 x",
            "ifaddr tun0 null x",
            "ifaddr tun0 link",
        ] {
            assert_eq!(err(l), u, "{l}");
        }
        assert_eq!(
            ok("bpf attach tun0"),
            Command::BpfAttach {
                ifname: "tun0".into()
            }
        );
        assert_eq!(
            ok("bpf detach tun0"),
            Command::BpfDetach {
                ifname: "tun0".into()
            }
        );
        for l in ["bpf", "bpf attach", "bpf tun0 attach", "bpf attach tun0 x"] {
            assert_eq!(err(l), "usage: bpf attach|detach IF", "{l}");
        }
        assert_eq!(
            ok("altq tun0 on"),
            Command::Altq {
                ifname: "tun0".into(),
                on: true
            }
        );
        assert_eq!(
            ok("altq tun0 off"),
            Command::Altq {
                ifname: "tun0".into(),
                on: false
            }
        );
        for l in ["altq", "altq tun0", "altq tun0 ON", "altq tun0 on x"] {
            assert_eq!(err(l), "usage: altq IF on|off", "{l}");
        }
    }

    #[test]
    fn proc_and_as() {
        assert_eq!(
            ok("proc 200"),
            Command::Proc {
                pid: 200,
                pgrp: None,
                sess: None,
                uid: None
            }
        );
        assert_eq!(
            ok("proc 99999 uid=4294967295 sess=3 pgrp=7 pgrp=8"),
            Command::Proc {
                pid: 99999,
                pgrp: Some(8),
                sess: Some(3),
                uid: Some(u32::MAX)
            }
        );
        let u = "usage: proc PID [pgrp=G] [sess=S] [uid=U]";
        for l in ["proc", "proc 0", "proc -5", "proc 100000", "proc x"] {
            assert_eq!(err(l), u, "{l}");
        }
        for opt in ["pgrp=-1", "foo=1", "pgrp", "uid=x", "uid=", "pgrp:5"] {
            assert_eq!(
                err(&format!("proc 5 {opt}")),
                format!("bad proc option '{opt}'")
            );
        }
        assert_eq!(
            ok("as 4294967396"),
            Command::As {
                pid: 100,
                text: "4294967396".into()
            }
        );
        assert_eq!(
            ok("as 0x65"),
            Command::As {
                pid: 101,
                text: "0x65".into()
            }
        );
        for l in ["as", "as x", "as 1 2"] {
            assert_eq!(err(l), "usage: as PID", "{l}");
        }
    }

    #[test]
    fn jobs() {
        assert_eq!(
            ok("interrupt 1"),
            Command::Interrupt {
                job: NumRef {
                    text: "1".into(),
                    id: 1
                },
                restart: false
            }
        );
        assert!(matches!(
            ok("interrupt 2 restart"),
            Command::Interrupt {
                restart: true,
                job: NumRef { id: 2, .. }
            }
        ));
        let u = "usage: interrupt JOB [restart]";
        for l in [
            "interrupt",
            "interrupt 1 foo",
            "interrupt 1 restart x",
            "interrupt x foo",
        ] {
            assert_eq!(err(l), u, "{l}");
        }
        assert_eq!(err("interrupt 0 restart"), "no job 0");
        assert_eq!(err("interrupt x"), "no job x");
        assert!(matches!(
            ok("wait 0x3"),
            Command::Wait {
                job: NumRef { id: 3, .. }
            }
        ));
        assert_eq!(err("wait 0"), "no job 0");
        assert_eq!(err("wait x"), "no job x");
        assert_eq!(err("wait"), "usage: wait JOB");
        assert_eq!(err("wait 1 2"), "usage: wait JOB");
    }

    #[test]
    fn environment_commands() {
        assert_eq!(ok("failalloc 1"), Command::FailAlloc(Some(1)));
        assert_eq!(ok("failalloc 1000000"), Command::FailAlloc(Some(1_000_000)));
        assert_eq!(ok("failalloc off"), Command::FailAlloc(None));
        for l in [
            "failalloc",
            "failalloc 0",
            "failalloc 1000001",
            "failalloc on",
            "failalloc 1 2",
            "failalloc off 1",
        ] {
            assert_eq!(err(l), "usage: failalloc N|off", "{l}");
        }
        assert_eq!(
            ok("show tun0"),
            Command::Show {
                name: "tun0".into()
            }
        );
        assert_eq!(err("show"), "usage: show IF");
        assert_eq!(err("show tun0 tun1"), "usage: show IF");
        assert_eq!(ok("mbufs"), Command::Mbufs);
        assert_eq!(err("mbufs x"), "usage: mbufs");
    }

    #[test]
    fn example_scenarios_parse() {
        // The echo of every command of the shipped examples matches the
        // transcript, and every error decided here is the one it shows.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/scenarios");
        let entries = std::fs::read_dir(dir).expect("tests/scenarios is part of the repository");
        let mut checked = 0;
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().and_then(|x| x.to_str()) != Some("tun") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let out = std::fs::read_to_string(path.with_extension("out")).unwrap();
            let out: Vec<&str> = out.lines().collect();
            let mut at = 0;
            for line in split_lines(&text) {
                match parse_line(line) {
                    Line::Blank => {}
                    Line::Comment(c) => {
                        while out[at].starts_with("  ") {
                            at += 1;
                        }
                        assert_eq!(out[at], c);
                        at += 1;
                    }
                    Line::Command { echo, cmd } => {
                        while !out[at].starts_with('>') {
                            at += 1;
                        }
                        assert_eq!(out[at], format!("> {echo}"), "{}", path.display());
                        if let Err(e) = cmd {
                            assert_eq!(out[at + 1], format!("  ! error: {e}"));
                        }
                        at += 1;
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 0);
    }
}
