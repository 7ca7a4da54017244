// SPDX-License-Identifier: BSD-2-Clause
//! Parsing of the tun scenario language
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
//! The tokens come from [`lexer`](super::lexer); the types are in
//! [`command`](super::command).  `if_output` keeps at most
//! [`MAX_PAYLOAD_TOKENS`] payload tokens (further ones are ignored,
//! unchecked) and reads at most 1023 bytes of a `seg=` list.

use kmock::bsd::ioccom::{IOC_OUT, SIOCGIFMTU};
use kmock::bsd::kqueue::{
    EVFILT_AIO, EVFILT_EXCEPT, EVFILT_PROC, EVFILT_READ, EVFILT_SIGNAL, EVFILT_TIMER, EVFILT_VNODE,
    EVFILT_WRITE,
};
use kmock::bsd::mbuf::{MHLEN, MLEN};

use super::command::{
    ArgKind, Command, Dst, IfAddrSpec, IfIoctlReq, IoctlReq, Line, NamedIoctl, NumRef, Precheck,
    MAX_PAYLOAD_TOKENS, MAX_PID, MAX_READ, MAX_SEGS,
};
use super::lexer::{is_c_space, tokenize};
use super::payload::{parse_flags, parse_ipv4, parse_number, parse_number_bytes, parse_payload_at};

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

/// Where on its line a harness error points: the token at fault, or the end of the line
/// (something is missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAt {
    /// The token with this index (0 is the command name).
    Token(usize),
    /// Past the last token: an argument is missing.
    End,
}

/// A harness error of the parser with the place on the line it is about (for the REPL's
/// caret under the token at fault; transcripts print only the message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The message, exactly as the transcript prints it after `! error: `.
    pub message: String,
    /// The token at fault.
    pub at: ErrorAt,
}

/// A parse error, possibly deferred behind a runtime check (see the module docs).
struct E {
    message: String,
    at: ErrorAt,
    defer: Option<Precheck>,
}

impl E {
    fn at(i: usize, message: impl Into<String>) -> E {
        E {
            message: message.into(),
            at: ErrorAt::Token(i),
            defer: None,
        }
    }

    fn end(message: impl Into<String>) -> E {
        E {
            message: message.into(),
            at: ErrorAt::End,
            defer: None,
        }
    }

    fn deferred(self, precheck: Precheck) -> E {
        E {
            defer: Some(precheck),
            ..self
        }
    }
}

/// Where a line of `n` tokens that must have exactly `want` goes wrong: at the end if it
/// is short, else at the first token too many.
fn count_fault(n: usize, want: usize, message: String) -> E {
    if n < want {
        E::end(message)
    } else {
        E::at(want, message)
    }
}

/// Where a line whose token `i` must be its last and valid goes wrong (missing: the end;
/// too many: the next token; else token `i` itself).
fn arg_fault(n: usize, i: usize, message: String) -> E {
    if n <= i {
        E::end(message)
    } else if n > i + 1 {
        E::at(i + 1, message)
    } else {
        E::at(i, message)
    }
}

/// Parses the tokens of a command line (`tokens[0]` is the command name).
/// An empty slice gives `Err("empty command")` (never produced by
/// [`parse_line`]).
pub fn parse_command(tokens: &[&str]) -> Result<Command, String> {
    parse_command_at(tokens).map_err(|e| e.message)
}

/// As [`parse_command`], with the token each error is about. A syntax error the oracle
/// reports only after a runtime check is `Ok(Command::Deferred)`, as there; see
/// [`locate_error`] for where it points.
pub fn parse_command_at(tokens: &[&str]) -> Result<Command, ParseError> {
    match parse_inner(tokens) {
        Ok(c) => Ok(c),
        Err(E {
            message,
            defer: Some(precheck),
            ..
        }) => Ok(Command::Deferred {
            precheck,
            error: message,
        }),
        Err(E { message, at, .. }) => Err(ParseError { message, at }),
    }
}

/// The syntax error of a command line with the token it is about, deferred ones included
/// (`None` if the line parses).
pub fn locate_error(tokens: &[&str]) -> Option<ParseError> {
    parse_inner(tokens)
        .err()
        .map(|E { message, at, .. }| ParseError { message, at })
}

fn parse_inner(tokens: &[&str]) -> Result<Command, E> {
    let t = tokens;
    let n = t.len();
    let Some(&name) = t.first() else {
        return Err(E::end("empty command"));
    };
    let s = |i: usize| t[i].to_string();
    match name {
        "open" | "close" => {
            if n != 2 {
                return Err(count_fault(n, 2, usage(&format!("{name} DEV"))));
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
                _ => {
                    let m = usage("read DEV LEN [nonblock]");
                    Err(if n < 3 {
                        E::end(m)
                    } else if len.is_none() {
                        E::at(2, m)
                    } else if n > 4 {
                        E::at(4, m)
                    } else {
                        E::at(3, m)
                    })
                }
            }
        }
        "write" => {
            if n < 2 {
                return Err(E::end(usage("write DEV PAYLOAD...")));
            }
            let payload = parse_payload_at(&t[2..]).map_err(|(m, i)| E::at(2 + i, m))?;
            Ok(Command::Write { dev: s(1), payload })
        }
        "ioctl" => parse_ioctl(t),
        "kq" => parse_kq(t),
        "if_output" => parse_if_output(t),
        "ifioctl" => {
            if n < 3 {
                return Err(E::end(usage("ifioctl IF CMD [ARG]")));
            }
            let req = parse_ifioctl_req(t).map_err(|e| e.deferred(Precheck::Interface(s(1))))?;
            Ok(Command::IfIoctl { ifname: s(1), req })
        }
        "if_start" => {
            if n != 2 {
                return Err(count_fault(n, 2, usage("if_start IF")));
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
            let addr = addr.ok_or_else(|| {
                let m = usage("ifaddr IF inet A.B.C.D | inet6 | null");
                match t.get(2).copied() {
                    None => E::end(m),
                    Some("inet") => arg_fault(n, 3, m),
                    Some("inet6" | "null") => E::at(3, m),
                    Some(_) => E::at(2, m),
                }
            })?;
            Ok(Command::IfAddr { ifname: s(1), addr })
        }
        "bpf" => match (n, t.get(1).copied()) {
            (3, Some("attach")) => Ok(Command::BpfAttach { ifname: s(2) }),
            (3, Some("detach")) => Ok(Command::BpfDetach { ifname: s(2) }),
            (_, sub) => {
                let m = usage("bpf attach|detach IF");
                Err(match sub {
                    None => E::end(m),
                    Some("attach" | "detach") => count_fault(n, 3, m),
                    Some(_) => E::at(1, m),
                })
            }
        },
        "altq" => match (n, t.get(2).copied()) {
            (3, Some(arg @ ("on" | "off"))) => Ok(Command::Altq {
                ifname: s(1),
                on: arg == "on",
            }),
            (_, arg) => {
                let m = usage("altq IF on|off");
                Err(match arg {
                    None => E::end(m),
                    Some("on" | "off") => E::at(3, m),
                    Some(_) => E::at(2, m),
                })
            }
        },
        "proc" => parse_proc(t),
        "as" => match t.get(1).and_then(|x| parse_number(x)) {
            Some(pid) if n == 2 => Ok(Command::As {
                pid: pid as i32,
                text: s(1),
            }),
            pid => {
                let m = usage("as PID");
                Err(if n < 2 {
                    E::end(m)
                } else if pid.is_none() {
                    E::at(1, m)
                } else {
                    E::at(2, m)
                })
            }
        },
        "interrupt" => {
            if !(2..=3).contains(&n) || (n == 3 && t[2] != "restart") {
                let m = usage("interrupt JOB [restart]");
                return Err(match n {
                    0 | 1 => E::end(m),
                    3 => E::at(2, m),
                    _ => E::at(3, m),
                });
            }
            Ok(Command::Interrupt {
                job: job_ref(t[1]).map_err(|m| E::at(1, m))?,
                restart: n == 3,
            })
        }
        "wait" => {
            if n != 2 {
                return Err(count_fault(n, 2, usage("wait JOB")));
            }
            Ok(Command::Wait {
                job: job_ref(t[1]).map_err(|m| E::at(1, m))?,
            })
        }
        "failalloc" => match t.get(1).copied() {
            Some("off") if n == 2 => Ok(Command::FailAlloc(None)),
            Some(x) if n == 2 => parse_number(x)
                .filter(|v| (1..=MAX_READ as i64).contains(v))
                .map(|v| Command::FailAlloc(Some(v as u32)))
                .ok_or_else(|| E::at(1, usage("failalloc N|off"))),
            _ => Err(count_fault(n, 2, usage("failalloc N|off"))),
        },
        "show" => {
            if n != 2 {
                return Err(count_fault(n, 2, usage("show IF")));
            }
            Ok(Command::Show { name: s(1) })
        }
        "mbufs" => {
            if n != 1 {
                return Err(E::at(1, usage("mbufs")));
            }
            Ok(Command::Mbufs)
        }
        _ => Err(E::at(0, format!("unknown command '{name}'"))),
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

fn parse_ioctl(t: &[&str]) -> Result<Command, E> {
    let n = t.len();
    if n < 3 {
        return Err(E::end(usage("ioctl DEV NAME|0xNUMBER [ARG]")));
    }
    let name = t[2];
    let int_arg = || (n == 4).then(|| parse_number(t[3])).flatten();
    let no_arg = || E::at(3, format!("{name} takes no argument"));
    let arg_err = |m: String| arg_fault(n, 3, m);
    let req = match NamedIoctl::from_name(name) {
        Some(ioctl) => match ioctl.kind() {
            ArgKind::Fionbio => {
                let v = int_arg().ok_or_else(|| arg_err(usage("ioctl DEV FIONBIO 0|1")))?;
                IoctlReq::Fionbio(v != 0)
            }
            ArgKind::IntIn => IoctlReq::SetInt {
                ioctl,
                value: int_arg()
                    .ok_or_else(|| arg_err(format!("{name} needs an integer argument")))?
                    as i32,
            },
            ArgKind::FlagsIn => {
                IoctlReq::TunsIfMode((n == 4).then(|| parse_flags(t[3])).flatten().ok_or_else(
                    || arg_err(format!("{name} needs flags (e.g. BROADCAST|MULTICAST)")),
                )?)
            }
            ArgKind::InfoIn => parse_tuninfo(&t[3..]).map_err(|(m, i)| E::at(3 + i, m))?,
            ArgKind::IntOut => {
                let preset = match n {
                    3 => 0,
                    _ => int_arg().ok_or_else(|| arg_err(no_arg().message))? as i32,
                };
                IoctlReq::GetInt { ioctl, preset }
            }
            ArgKind::InfoOut | ArgKind::None if n != 3 => return Err(no_arg()),
            ArgKind::InfoOut => IoctlReq::TungIfInfo,
            ArgKind::None => IoctlReq::NoArg { ioctl },
        },
        None => {
            let cmd = parse_number(name)
                .ok_or_else(|| E::at(2, format!("unknown ioctl '{name}'")))?
                as u32;
            let arg = match n {
                3 => None,
                _ => Some(int_arg().ok_or_else(|| {
                    arg_err(if cmd & IOC_OUT != 0 {
                        no_arg().message
                    } else {
                        format!("{name} needs an integer argument")
                    })
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

fn parse_tuninfo(fields: &[&str]) -> Result<IoctlReq, (String, usize)> {
    let (mut mtu, mut typ, mut baudrate) = (0u16, 0u8, 0i32);
    for (i, f) in fields.iter().enumerate() {
        let num = |prefix: &str| f.strip_prefix(prefix).and_then(parse_number);
        if let Some(v) = num("mtu=") {
            mtu = v as u16;
        } else if let Some(v) = num("type=") {
            typ = v as u8;
        } else if let Some(v) = num("baudrate=") {
            baudrate = v as i32;
        } else {
            return Err((format!("bad tuninfo field '{f}'"), i));
        }
    }
    Ok(IoctlReq::TunsIfInfo { mtu, typ, baudrate })
}

/// Parses a kqueue filter: a name (`read` … `except` → `EVFILT_*`) or a
/// number (truncated to C `short`).
pub fn parse_filter(tok: &str) -> Option<i16> {
    const NAMES: [(&str, i16); 8] = [
        ("read", EVFILT_READ),
        ("write", EVFILT_WRITE),
        ("aio", EVFILT_AIO),
        ("vnode", EVFILT_VNODE),
        ("proc", EVFILT_PROC),
        ("signal", EVFILT_SIGNAL),
        ("timer", EVFILT_TIMER),
        ("except", EVFILT_EXCEPT),
    ];
    match NAMES.iter().find(|(x, _)| *x == tok) {
        Some(&(_, filter)) => Some(filter),
        None => parse_number(tok).map(|v| v as i16),
    }
}

fn parse_kq(t: &[&str]) -> Result<Command, E> {
    let n = t.len();
    match (n, t.get(1).copied()) {
        (4, Some("add")) => {
            let filter =
                parse_filter(t[3]).ok_or_else(|| E::at(3, format!("unknown filter '{}'", t[3])))?;
            Ok(Command::KqAdd {
                dev: t[2].to_string(),
                filter,
            })
        }
        (3, Some("check")) => Ok(Command::KqCheck {
            knote: knote_ref(t[2]).map_err(|m| E::at(2, m))?,
        }),
        (3, Some("del")) => Ok(Command::KqDel {
            knote: knote_ref(t[2]).map_err(|m| E::at(2, m))?,
        }),
        (_, sub) => {
            let m = usage("kq add DEV FILTER | kq check K | kq del K");
            Err(match sub {
                None => E::end(m),
                Some("add") => count_fault(n, 4, m),
                Some("check" | "del") => count_fault(n, 3, m),
                Some(_) => E::at(1, m),
            })
        }
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
        super::payload::parse_sa_spec(spec)
            .map(|(family, len)| Dst::Sa { family, len })
            .ok_or_else(|| format!("bad sockaddr '{tok}'"))
    } else {
        Err(format!("bad destination '{tok}'"))
    }
}

fn parse_if_output(t: &[&str]) -> Result<Command, E> {
    if t.len() < 3 {
        return Err(E::end(usage(
            "if_output IF DST PAYLOAD... [lead=N] [seg=A,B,..] [mcast]",
        )));
    }
    let dst = parse_dst(t[2]).map_err(|m| E::at(2, m))?;
    let mut lead = 0usize;
    let mut segs: Vec<usize> = Vec::new();
    let mut seg_at: Option<usize> = None;
    let mut mcast = false;
    let mut ptoks: Vec<&str> = Vec::new();
    let mut ptok_at: Vec<usize> = Vec::new();
    for (i, &tok) in t.iter().enumerate().skip(3) {
        if let Some(v) = tok.strip_prefix("lead=") {
            lead = parse_number(v)
                .filter(|v| (0..=MHLEN as i64).contains(v))
                .ok_or_else(|| E::at(i, format!("lead must be 0..{MHLEN}")))?
                as usize;
        } else if let Some(list) = tok.strip_prefix("seg=") {
            seg_at = Some(i);
            // The oracle copies the list into a 1024-byte buffer.
            let list = &list.as_bytes()[..list.len().min(1023)];
            for item in list.split(|&b| b == b',').filter(|x| !x.is_empty()) {
                let v = parse_number_bytes(item)
                    .filter(|v| (0..=MLEN as i64).contains(v) && segs.len() < MAX_SEGS)
                    .ok_or_else(|| E::at(i, "bad seg list"))?;
                segs.push(v as usize);
            }
        } else if tok == "mcast" {
            mcast = true;
        } else if ptoks.len() < MAX_PAYLOAD_TOKENS {
            ptoks.push(tok);
            ptok_at.push(i);
        }
    }
    let payload = parse_payload_at(&ptoks).map_err(|(m, k)| E::at(ptok_at[k], m))?;
    let ifname = t[1].to_string();
    let segs = mbuf_layout(payload.len(), lead, segs).map_err(|m| {
        let at = seg_at.or(ptok_at.first().copied());
        let e = match at {
            Some(i) => E::at(i, m),
            None => E::end(m),
        };
        e.deferred(Precheck::Interface(ifname.clone()))
    })?;
    Ok(Command::IfOutput {
        ifname,
        dst,
        payload,
        lead,
        segs,
        mcast,
    })
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

fn parse_ifioctl_req(t: &[&str]) -> Result<IfIoctlReq, E> {
    let n = t.len();
    let cmd = t[2];
    match cmd {
        "SIOCSIFADDR" | "SIOCSIFDSTADDR" => {
            let a = (n == 4)
                .then(|| parse_ipv4(t[3]))
                .flatten()
                .ok_or_else(|| arg_fault(n, 3, usage(&format!("ifioctl IF {cmd} A.B.C.D"))))?;
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
            .ok_or_else(|| arg_fault(n, 3, usage("ifioctl IF SIOCSIFFLAGS FLAGS"))),
        "SIOCSIFMTU" => (n == 4)
            .then(|| parse_number(t[3]))
            .flatten()
            .map(|v| IfIoctlReq::SetMtu(v as i32))
            .ok_or_else(|| arg_fault(n, 3, usage("ifioctl IF SIOCSIFMTU N"))),
        "SIOCADDMULTI" | "SIOCDELMULTI" => {
            if n != 3 {
                return Err(E::at(3, format!("{cmd} takes no argument")));
            }
            Ok(if cmd == "SIOCADDMULTI" {
                IfIoctlReq::AddMulti
            } else {
                IfIoctlReq::DelMulti
            })
        }
        "SIOCGIFSTATUS" => {
            if n != 3 {
                return Err(E::at(3, "SIOCGIFSTATUS takes no argument"));
            }
            Ok(IfIoctlReq::GetStatus)
        }
        _ => {
            let number = match cmd {
                "SIOCGIFMTU" => SIOCGIFMTU,
                _ => parse_number(cmd)
                    .ok_or_else(|| E::at(2, format!("unknown interface ioctl '{cmd}'")))?
                    as u32,
            };
            let arg = match n {
                4 => parse_number(t[3])
                    .ok_or_else(|| E::at(3, format!("bad argument '{}'", t[3])))?,
                _ => 0,
            };
            Ok(IfIoctlReq::Raw {
                cmd: number,
                arg: arg as i32,
            })
        }
    }
}

fn parse_proc(t: &[&str]) -> Result<Command, E> {
    let pid = t
        .get(1)
        .and_then(|x| parse_number(x))
        .filter(|v| (1..=MAX_PID).contains(v))
        .ok_or_else(|| {
            let m = usage("proc PID [pgrp=G] [sess=S] [uid=U]");
            if t.len() < 2 {
                E::end(m)
            } else {
                E::at(1, m)
            }
        })?;
    let (mut pgrp, mut sess, mut uid) = (None, None, None);
    for (i, &opt) in t.iter().enumerate().skip(2) {
        let bad = || E::at(i, format!("bad proc option '{opt}'"));
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
mod tests;
