// SPDX-License-Identifier: BSD-2-Clause
//! The network-interface commands (scenario-language.md §5, and the bpf and ALTQ switches of
//! §6): what the stack does with `tunN` — `if_output`, the generic `ifioctl` layer,
//! `if_start`, addresses.

use std::sync::Arc;

use kmock::bsd::bpf::BpfListener;
use kmock::bsd::ifnet::{ifioctl, IfAddr, IfIoctlArg, IfnetDyn};
use kmock::bsd::ioccom::*;
use kmock::bsd::mbuf::MbufFlags;
use kmock::bsd::socket::SockAddr;

use super::{Res, Sim};
use crate::scenario::command::{Dst, IfAddrSpec, IfIoctlReq};
use crate::scenario::transcript::{errname, escape, res_str};

/// A bpf listener that keeps nothing (the transcript shows taps from kmock's events).
struct NullListener;

impl BpfListener for NullListener {
    fn tap(&self, _dlt: u32, _packet: &[u8]) {}
}

impl Sim {
    /// `if_output IF DST PAYLOAD...` (§5).
    pub(super) fn if_output(
        &mut self,
        ifname: String,
        dst: Dst,
        payload: Vec<u8>,
        lead: usize,
        segs: Vec<usize>,
        mcast: bool,
    ) -> Result<Res, String> {
        let ifp = self.ifp(&ifname)?;
        let mut m = self
            .k
            .mbufs()
            .packet_from(&payload, lead, Some(&segs))
            .map_err(|_| "bad seg list".to_string())?;
        if mcast {
            m.set_flag(MbufFlags::M_MCAST, true);
        }
        let buf = dst.sockaddr_buf();
        let mut sa = SockAddr::new(buf[1], buf[0]);
        sa.raw_mut().copy_from_slice(&buf);
        let r = self.traced(
            "tunoutput",
            &ifname,
            |_| ifp.output(m, &mut sa),
            |r| res_str(*r),
        );
        let mut res = Res::new(res_str(r));
        if dst == Dst::Unspec && sa.sa_family() != dst.sa_family() {
            res.after.push(format!(
                "  note: caller's dst->sa_family was rewritten to {}",
                sa.sa_family()
            ));
        }
        Ok(res)
    }

    /// `ifioctl IF CMD [ARG]`: the generic layer, or the driver directly for a raw number.
    pub(super) fn if_ioctl(&mut self, ifname: String, req: IfIoctlReq) -> Result<Res, String> {
        let ifp = self.ifp(&ifname)?;
        let cred = self.k.proc_cred(self.cur).unwrap_or_default();
        let (cmd, arg) = match req {
            IfIoctlReq::SetAddr(a) => (SIOCSIFADDR, IfIoctlArg::Inet(a)),
            IfIoctlReq::SetDstAddr(a) => (SIOCSIFDSTADDR, IfIoctlArg::Inet(a)),
            IfIoctlReq::SetFlags(f) => (SIOCSIFFLAGS, IfIoctlArg::Int(f)),
            IfIoctlReq::SetMtu(n) => (SIOCSIFMTU, IfIoctlArg::Int(n)),
            IfIoctlReq::AddMulti => (SIOCADDMULTI, IfIoctlArg::None),
            IfIoctlReq::DelMulti => (SIOCDELMULTI, IfIoctlArg::None),
            IfIoctlReq::GetStatus => (SIOCGIFSTATUS, IfIoctlArg::None),
            IfIoctlReq::Raw { cmd, arg } => {
                // A raw number goes to the driver directly (§5), with a zeroed
                // ifreq whose ifr_mtu is the argument: no generic checks.
                let mut req = kmock::bsd::ifnet::ifreq_with_mtu(arg);
                let r = self.traced(
                    "tunifioctl",
                    &ifname,
                    |_| ifp.driver_ioctl(cmd, Some(&mut req), &cred),
                    |r| res_str(*r),
                );
                return Ok(Res::new(res_str(r)));
            }
        };
        let r = self.traced(
            "ifioctl->tunifioctl",
            &ifname,
            |_| ifioctl(&*ifp, cmd, arg, &cred),
            |r| res_str(r.as_ref().map(|_| ()).map_err(|e| *e)),
        );
        Ok(Res::new(match r {
            Err(e) => errname(e),
            Ok(text) if cmd == SIOCGIFSTATUS => {
                format!("ok ascii=\"{}\"", escape(&text))
            }
            Ok(_) => "ok".into(),
        }))
    }

    /// `if_start IF`.
    pub(super) fn if_start(&mut self, ifname: String) -> Result<Res, String> {
        let ifp = self.ifp(&ifname)?;
        self.traced("tunstart", &ifname, |_| ifp.start(), |_| "void".into());
        Ok(Res::new("ok".into()))
    }

    /// `ifaddr IF inet A.B.C.D | inet6 | null`.
    pub(super) fn if_addr(&mut self, ifname: String, addr: IfAddrSpec) -> Result<Res, String> {
        let ifp = self.ifp(&ifname)?;
        let a = match addr {
            IfAddrSpec::Inet(a) => Some(SockAddr::inet(a)),
            IfAddrSpec::Inet6 => Some(SockAddr::inet6()),
            IfAddrSpec::Null => None,
        };
        ifp.with_addrs(&mut |l| {
            l.push(IfAddr {
                addr: a.clone(),
                dstaddr: None,
            })
        });
        Ok(Res::new("ok".into()))
    }

    /// `bpf attach IF` (§6).
    pub(super) fn bpf_attach(&mut self, ifname: String) -> Result<Res, String> {
        let ifp = self.ifp(&ifname)?;
        ifp.bpf().attach_listener(Arc::new(NullListener));
        Ok(Res::new("ok".into()))
    }

    /// `bpf detach IF`.
    pub(super) fn bpf_detach(&mut self, ifname: String) -> Result<Res, String> {
        let ifp = self.ifp(&ifname)?;
        if !ifp.bpf().detach_last() {
            return Err(format!("no bpf listener on {ifname}"));
        }
        Ok(Res::new("ok".into()))
    }

    /// `altq IF on|off`.
    pub(super) fn altq(&mut self, ifname: String, on: bool) -> Result<Res, String> {
        let ifp = self.ifp(&ifname)?;
        ifp.with_snd(&mut |q| q.set_altq_enabled(on));
        Ok(Res::new("ok".into()))
    }

    pub(super) fn ifp(&self, name: &str) -> Result<kmock::sync::Arc<dyn IfnetDyn>, String> {
        self.k
            .ifunit(name)
            .ok_or_else(|| format!("no interface {name}"))
    }
}
