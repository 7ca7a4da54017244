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
use super::payload::{parse_flags, parse_ipv4, parse_number, parse_number_bytes, parse_payload};

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
        super::payload::parse_sa_spec(spec)
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
mod tests;
