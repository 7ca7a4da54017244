// SPDX-License-Identifier: BSD-2-Clause
//! The harness commands (scenario-language.md §6–§7): processes and the current process,
//! allocation failure, `show`, `mbufs`, and the deferred syntax errors.

use crate::scenario::status::SoftcStatus;
use std::fmt::Write as _;

use kmock::bsd::kqueue::{EVFILT_READ, EVFILT_WRITE};

use super::{Res, Sim};
use crate::scenario::command::Precheck;
use crate::scenario::leaks::Accounting;
use crate::scenario::transcript::{fmt_if_flags, fmt_tun_flags, hex_suffix};

/// The most processes a scenario may create (the oracle's table size).
pub const MAX_PROCS: usize = 64;

impl Sim {
    /// `proc PID [pgrp=G] [sess=S] [uid=U]` (§6).
    pub(super) fn proc(
        &mut self,
        pid: i32,
        pgrp: Option<i32>,
        sess: Option<i32>,
        uid: Option<u32>,
    ) -> Result<Res, String> {
        let old = self.k.proc_info(pid);
        if old.is_none() && self.k.proc_count() >= MAX_PROCS {
            return Err("too many processes".into());
        }
        let (g0, s0, u0) = old.unwrap_or((pid, 1, 0));
        self.k
            .proc_set(
                pid,
                pgrp.unwrap_or(g0),
                sess.unwrap_or(s0),
                uid.unwrap_or(u0),
            )
            .map_err(|_| format!("bad proc option '{pid}'"))?;
        Ok(Res::new("ok".into()))
    }

    /// `as PID`.
    pub(super) fn as_pid(&mut self, pid: i32, text: String) -> Result<Res, String> {
        if !self.k.proc_exists(pid) {
            return Err(format!("no process {text}"));
        }
        self.cur = pid;
        Ok(Res::new("ok".into()))
    }

    /// `failalloc N|off`.
    pub(super) fn fail_alloc(&mut self, n: Option<u32>) -> Result<Res, String> {
        self.k.mbufs().set_failalloc(n);
        Ok(Res::new("ok".into()))
    }

    /// `mbufs` (§7).
    pub(super) fn mbufs(&mut self) -> Result<Res, String> {
        let Accounting {
            live,
            queued,
            leaked,
        } = self.leaks.accounting(&self.k);
        let total = self.k.mbufs().stats().allocated;
        Ok(Res::new(format!(
            "live={live} queued={queued} leaked={leaked} allocated={total}"
        )))
    }

    /// A line whose syntax error is reported after a runtime check.
    pub(super) fn deferred(&mut self, precheck: Precheck, error: String) -> Result<Res, String> {
        let Precheck::Interface(name) = precheck;
        self.ifp(&name)?;
        Err(error)
    }

    /// `show IF`: the softc and interface state.
    pub(super) fn show(&mut self, name: &str) -> Result<Res, String> {
        let Some(ifp) = self.k.ifunit(name) else {
            if self.k.devfs().lookup(name).is_some() {
                return Ok(Res::new(format!("{name} has no softc yet (never opened)")));
            }
            return Err(format!("no interface {name}"));
        };
        let sc = self
            .softc(name)
            .ok_or_else(|| format!("no interface {name}"))?;
        let st = sc.status();
        let sigio = match st.sigio {
            None => "none".to_string(),
            Some(s) if s.sio_pgid < 0 => format!("pgrp:{}", -(s.sio_pgid as i64)),
            Some(s) => format!("pid:{}", s.sio_pgid),
        };
        self.line(format!(
            "  {name}: tun_flags={} pid={} sigio={sigio} tundebug={}",
            fmt_tun_flags(st.flags),
            st.pid,
            st.tundebug
        ));
        self.line(format!(
            "  {name}: if_flags={} mtu={} type=0x{:02x} baudrate={}",
            fmt_if_flags(ifp.flags().get().bits()),
            ifp.mtu(),
            ifp.if_type(),
            ifp.baudrate()
        ));
        let s = ifp.stats();
        self.line(format!(
            "  {name}: ipackets={} ierrors={} ibytes={} opackets={} oerrors={} obytes={} collisions={} omcasts={}",
            s.ipackets, s.ierrors, s.ibytes, s.opackets, s.oerrors, s.obytes, s.collisions, s.omcasts
        ));
        let mut qline = String::new();
        let mut pkts: Vec<String> = Vec::new();
        let bpf_on = ifp.bpf().listener_count() > 0;
        ifp.with_snd(&mut |q| {
            let _ = write!(
                qline,
                "  {name}: snd qlen={} maxlen={} drops={} altq={} bpf={}",
                q.len(),
                q.maxlen(),
                q.drops(),
                if q.altq_flags() & kmock::bsd::ifq::ALTQF_ENABLED != 0 {
                    "on"
                } else {
                    "off"
                },
                if bpf_on { "on" } else { "off" }
            );
            for (i, p) in q.iter().enumerate() {
                let segs: Vec<String> = p.iter().map(|m| m.len().to_string()).collect();
                pkts.push(format!(
                    "  {name}: pkt {} len={} segs={}{}",
                    i + 1,
                    p.pkthdr().map_or(0, |h| h.len),
                    segs.join("+"),
                    hex_suffix(&p.to_vec())
                ));
            }
        });
        self.line(qline);
        let addrs: Vec<String> = ifp
            .addrs()
            .iter()
            .map(crate::scenario::transcript::fmt_ifaddr)
            .collect();
        let knotes = if st.knotes.is_empty() {
            "none".to_string()
        } else {
            st.knotes
                .iter()
                .map(|(id, f)| {
                    format!(
                        "{id}{}",
                        match *f {
                            EVFILT_READ => "r",
                            EVFILT_WRITE => "w",
                            _ => "?",
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        self.line(format!(
            "  {name}: addrs={} knotes={knotes}",
            addrs.join(",")
        ));
        for p in pkts {
            self.line(p);
        }
        Ok(Res::new("ok".into()))
    }
}
