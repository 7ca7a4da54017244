//! The scenario environment: one kernel with the tun driver loaded, the processes, the open
//! descriptors, the knotes and bpf listeners, the jobs — and the executor that runs parsed
//! [`Command`]s against it and prints the transcript.
//!
//! Everything here is the *environment* of the spec (scenario-language.md §4–§7); the
//! driver is only ever reached through kmock (devfs descriptors, the interface's
//! `if_output`/`if_ioctl`/`if_start`, the generic `ifioctl` layer). Read jobs are real
//! kernel threads run in kmock's turn-taking mode: a read that sleeps in `tsleep` hands the
//! turn back and becomes a job; woken jobs run after the command, in job order.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use if_tun::abi::TunInfo;
use if_tun::{TunFlags, TunModule, TunSoftc};
use kmock::bsd::bpf::BpfListener;
use kmock::bsd::devfs::{DevIoctlArgs, DevOps, File};
use kmock::bsd::ifnet::{ifioctl, IfAddr, IfIoctlArg, IfnetDyn};
use kmock::bsd::ioccom::*;
use kmock::bsd::kqueue::{Knote, EVFILT_READ, EVFILT_WRITE};
use kmock::bsd::mbuf::MbufFlags;
use kmock::bsd::netisr::netisr_name;
use kmock::bsd::socket::SockAddr;
use kmock::event::Event;
use kmock::module::LoadedModule;
use kmock::sched::{Kthread, KthreadState};
use kmock::{Error, Kernel};

use crate::lang::{Command, Dst, IfAddrSpec, IfIoctlReq, IoctlReq, Line, NumRef, Precheck};
use crate::payload::{hex_groups, IFF_NAMES};

/// The most processes a scenario may create (the oracle's table size).
pub const MAX_PROCS: usize = 64;
/// The most knotes a scenario may register.
pub const MAX_KNOTES: usize = 1024;

type ReadOutcome = (Result<usize, (Error, usize)>, Vec<u8>);

struct Job {
    dev: String,
    th: Kthread<ReadOutcome>,
    done: Option<String>,
}

struct KnoteRec {
    kn: Arc<Knote>,
    dev: String,
    attached: bool,
}

struct NullListener;

impl BpfListener for NullListener {
    fn tap(&self, _dlt: u32, _packet: &[u8]) {}
}

/// A scenario run in progress.
pub struct Sim {
    k: Kernel,
    module: LoadedModule<TunModule>,
    cur: i32,
    fds: BTreeMap<String, Arc<File>>,
    jobs: Vec<Job>,
    knotes: Vec<KnoteRec>,
    reported: BTreeSet<u64>,
    trace: bool,
    out: String,
}

fn errname(e: Error) -> String {
    match e.name() {
        Some(n) => n.to_string(),
        None => format!("E{}", e.to_errno()),
    }
}

fn bytes_suffix(b: &[u8]) -> String {
    if b.is_empty() {
        String::new()
    } else {
        format!(": {}", hex_groups(b))
    }
}

const TUN_FLAG_NAMES: [(&str, u16); 9] = [
    ("OPEN", 0x0001),
    ("INITED", 0x0002),
    ("RCOLL", 0x0004),
    ("IASET", 0x0008),
    ("DSTADDR", 0x0010),
    ("LMODE", 0x0020),
    ("RWAIT", 0x0040),
    ("ASYNC", 0x0080),
    ("IFHEAD", 0x0100),
];

fn names(bits: u64, table: &[(&str, u64)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut known = 0u64;
    for (n, b) in table {
        known |= b;
        if bits & b != 0 {
            parts.push(n.to_string());
        }
    }
    let unknown = bits & !known;
    if unknown != 0 {
        parts.push(format!("0x{unknown:x}"));
    }
    format!("<{}>", parts.join(","))
}

/// `tun_flags` as the transcript shows them: `0x000b<OPEN,INITED,IASET>`.
pub fn fmt_tun_flags(f: TunFlags) -> String {
    let t: Vec<(&str, u64)> = TUN_FLAG_NAMES
        .iter()
        .map(|(n, b)| (*n, u64::from(*b)))
        .collect();
    format!("0x{:04x}{}", f.bits(), names(u64::from(f.bits()), &t))
}

fn fmt_if_flags(bits: u32) -> String {
    let t: Vec<(&str, u64)> = IFF_NAMES
        .iter()
        .map(|(n, b)| (*n, u64::from(*b as u32)))
        .collect();
    format!("0x{:x}{}", bits, names(u64::from(bits), &t))
}

impl Sim {
    /// Boots the world of a scenario (§1): the driver attached, process 100 current.
    pub fn new(trace: bool) -> Sim {
        let k = Kernel::new();
        k.record_events(true);
        k.set_turn_taking(true);
        k.mbufs().track_ids(true);
        k.proc_set(100, 100, 1, 0).expect("pid 100 is valid");
        let module = kmock::module::load::<TunModule>(&k).expect("tun attaches");
        k.take_events();
        Sim {
            k,
            module,
            cur: 100,
            fds: BTreeMap::new(),
            jobs: Vec::new(),
            knotes: Vec::new(),
            reported: BTreeSet::new(),
            trace,
            out: String::new(),
        }
    }

    /// The kernel the scenario runs on.
    pub fn kernel(&self) -> &Kernel {
        &self.k
    }

    /// Takes what has been printed so far.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    fn line(&mut self, s: impl AsRef<str>) {
        self.out.push_str(s.as_ref());
        self.out.push('\n');
    }

    fn softc(&self, name: &str) -> Option<Arc<TunSoftc>> {
        self.k.devfs().lookup(name)?.si_drv1::<TunSoftc>()
    }

    fn chan_name(&self, ident: usize) -> String {
        for n in self.k.devfs().names() {
            if let Some(sc) = self.softc(&n) {
                if sc.wait_channel() == ident {
                    return sc.tun_if.if_xname().to_string();
                }
            }
        }
        format!("chan@{ident:x}")
    }

    fn flush_events(&mut self) {
        for e in self.k.take_events() {
            let l = match e {
                Event::IfAttach { ifname } => format!("  if_attach {ifname}"),
                Event::Clone { node, dev } => format!("  clone {node} -> {dev}"),
                Event::Kprintf { text } => format!("  kprintf: {text}"),
                Event::Enqueue {
                    ifname,
                    len,
                    mbufs,
                    qlen,
                } => format!("  enqueue {ifname}: len={len} mbufs={mbufs} qlen={qlen}"),
                Event::QueueFull { ifname, qlen } => {
                    format!("  enqueue {ifname}: queue full (qlen={qlen}), packet freed")
                }
                Event::Purge { ifname, count } => {
                    format!("  purge {ifname}: {count} packet(s) freed")
                }
                Event::IfDown { ifname } => format!("  if_down {ifname}"),
                Event::IfUp { ifname } => format!("  if_up {ifname}"),
                Event::PurgeAddr { ifname, addr } => {
                    format!("  purgeaddrs {ifname}: removed {addr}")
                }
                Event::Wakeup { ident, woken } => {
                    format!("  wakeup {} (sleepers={woken})", self.chan_name(ident))
                }
                Event::Sleep { .. } => continue,
                Event::Sigio { pid, pgrp, .. } => match pgrp {
                    Some(g) => format!("  SIGIO -> pid {pid} (pgrp {g})"),
                    None => format!("  SIGIO -> pid {pid}"),
                },
                Event::Funsetown { pgid } => {
                    if pgid < 0 {
                        format!("  funsetown: SIGIO owner pgrp {} cleared", -(pgid as i64))
                    } else {
                        format!("  funsetown: SIGIO owner pid {pgid} cleared")
                    }
                }
                Event::Knote { id, filter, ready } => format!(
                    "  knote {id} {}: {}",
                    filter_name(filter),
                    if ready { "ready" } else { "not ready" }
                ),
                Event::KnoteDetached { id } => format!("  knote {id} detached"),
                Event::Bpf { ifname, data, .. } => {
                    if data.len() < 4 {
                        format!(
                            "  bpf {ifname}: short={}{}",
                            data.len(),
                            bytes_suffix(&data)
                        )
                    } else {
                        let af = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                        format!(
                            "  bpf {ifname}: af={af} len={}{}",
                            data.len() - 4,
                            bytes_suffix(&data[4..])
                        )
                    }
                }
                Event::Netisr {
                    isr,
                    len,
                    mbufs,
                    data,
                } => format!(
                    "  netisr {}: len={len} mbufs={mbufs}{}",
                    netisr_name(isr).map_or_else(|| isr.to_string(), str::to_string),
                    bytes_suffix(&data)
                ),
                Event::AllocFail { what } => format!("  alloc fail (injected): {what}"),
            };
            self.line(l);
        }
        // The protocols consume what netisr received.
        drop(self.k.netisr().drain_all());
    }

    /// Runs one input line and appends its transcript.
    pub fn exec_line(&mut self, raw: &str) {
        match crate::lang::parse_line(raw) {
            Line::Blank => {}
            Line::Comment(c) => self.line(c),
            Line::Command { echo, cmd } => {
                self.line(format!("> {echo}"));
                match cmd {
                    Err(msg) => self.line(format!("  ! error: {msg}")),
                    Ok(c) => {
                        let _ctx = self.k.enter(self.cur);
                        let r = self.exec(c);
                        self.flush_events();
                        match r {
                            Ok(res) => {
                                self.line(format!("  = {}", res.result));
                                for n in res.after {
                                    self.line(n);
                                }
                            }
                            Err(msg) => self.line(format!("  ! error: {msg}")),
                        }
                        self.run_woken_jobs();
                        self.check_leaks();
                    }
                }
            }
        }
    }

    /// Prints the `end:` lines (§3) and winds down the jobs still asleep.
    pub fn finish(&mut self) {
        for (i, j) in self.jobs.iter().enumerate() {
            if j.done.is_none() {
                let l = format!("end: job {} still blocked reading {}", i + 1, j.dev);
                self.out.push_str(&l);
                self.out.push('\n');
            }
        }
        let (live, queued, leaked) = self.accounting();
        self.line(format!(
            "end: mbufs live={live} queued={queued} leaked={leaked}"
        ));
        // Let sleeping readers return (silently) so their threads end.
        self.k.record_events(false);
        for j in self.jobs.iter_mut().filter(|j| j.done.is_none()) {
            if self.k.kthread_interrupt(j.th.tid(), false).is_ok() {
                let _ = self.k.kthread_resume(&mut j.th);
            }
        }
    }

    fn queued_ids(&self) -> BTreeSet<u64> {
        let mut ids = BTreeSet::new();
        for ifp in self.k.ifnets() {
            ifp.with_snd(&mut |q| {
                for p in q.iter() {
                    for m in p.iter() {
                        ids.insert(m.id());
                    }
                }
            });
        }
        ids
    }

    fn accounting(&self) -> (usize, usize, usize) {
        let live: BTreeSet<u64> = self.k.mbufs().live_ids().into_iter().collect();
        let queued = self.queued_ids();
        let leaked = self.reported.intersection(&live).count();
        (self.k.mbufs().live(), queued.len(), leaked)
    }

    fn check_leaks(&mut self) {
        let queued = self.queued_ids();
        let new: Vec<u64> = self
            .k
            .mbufs()
            .live_ids()
            .into_iter()
            .filter(|id| !queued.contains(id) && !self.reported.contains(id))
            .collect();
        if !new.is_empty() {
            let ids: Vec<String> = new.iter().map(|i| format!("#{i}")).collect();
            self.line(format!(
                "  leak: {} mbuf(s) no longer reachable: {}",
                new.len(),
                ids.join(" ")
            ));
            self.reported.extend(new);
        }
    }

    fn run_woken_jobs(&mut self) {
        loop {
            let next = self
                .jobs
                .iter()
                .position(|j| j.done.is_none() && self.k.kthread_runnable(j.th.tid()));
            let Some(i) = next else { break };
            let st = self.k.kthread_resume(&mut self.jobs[i].th);
            self.flush_events();
            match st {
                Ok(KthreadState::Done(o)) => {
                    let r = read_result(&o);
                    self.line(format!("  job {} = {r}", i + 1));
                    self.jobs[i].done = Some(r);
                }
                Ok(KthreadState::Sleeping) => {
                    self.line(format!("  job {}: woke up and sleeps again", i + 1))
                }
                Err(_) => break,
            }
        }
    }

    fn fd(&self, dev: &str) -> Result<Arc<File>, String> {
        self.fds
            .get(dev)
            .cloned()
            .ok_or_else(|| format!("{dev} is not open"))
    }

    /// `d_ioctl` on the descriptor's device as process `pid`, bypassing the generic ioctl
    /// layer of [`File::ioctl_as`] (which takes `FIONBIO` by number). kmock's `File` has no
    /// such path and `Cdev` does not expose its ops, so this calls the loaded module's
    /// `tun_ops` (the ops of every tun node) the way `File::ioctl_as` calls the node's.
    fn driver_ioctl(&self, f: &File, pid: i32, cmd: u32, data: &mut [u8]) -> Result<(), Error> {
        let _ctx = self.k.enter(pid);
        let cred = self.k.proc_cred(pid).ok_or(kmock::error::code::ESRCH)?;
        self.module.get().ops().d_ioctl(&mut DevIoctlArgs {
            a_dev: f.dev(),
            a_cmd: cmd,
            a_data: data,
            a_fflag: 0,
            a_cred: &cred,
        })
    }

    fn ifp(&self, name: &str) -> Result<Arc<dyn IfnetDyn>, String> {
        self.k
            .ifunit(name)
            .ok_or_else(|| format!("no interface {name}"))
    }

    fn trace_flags(&self, dev: &str) -> String {
        match self.softc(dev) {
            Some(sc) => fmt_tun_flags(sc.status().flags),
            None => "(no softc)".to_string(),
        }
    }

    fn traced<T>(
        &mut self,
        entry: &str,
        dev: &str,
        f: impl FnOnce(&mut Self) -> T,
        res: impl Fn(&T) -> String,
    ) -> T {
        if !self.trace {
            return f(self);
        }
        self.flush_events();
        let before = self.trace_flags(dev);
        self.line(format!("  trace: -> {entry}({dev}) tun_flags={before}"));
        let r = f(self);
        self.flush_events();
        let after = self.trace_flags(dev);
        self.line(format!(
            "  trace: <- {entry}({dev}) = {} tun_flags={after}",
            res(&r)
        ));
        r
    }

    fn exec(&mut self, c: Command) -> Result<Res, String> {
        match c {
            Command::Open { dev } => {
                let pid = self.cur;
                let r = self.traced(
                    "tunopen",
                    &dev,
                    |s| s.k.dev_open(&dev, pid),
                    |r| res_str(r.as_ref().map(|_| ()).map_err(|e| *e)),
                );
                match r {
                    Ok(f) => {
                        let name = f.dev().name().to_string();
                        let cloned = name != dev;
                        self.fds.insert(name.clone(), Arc::new(f));
                        Ok(Res::new(if cloned {
                            format!("ok {name}")
                        } else {
                            "ok".into()
                        }))
                    }
                    Err(e) => Ok(Res::new(errname(e))),
                }
            }
            Command::Close { dev } => {
                let f = self.fd(&dev)?;
                if let Some(j) = self
                    .jobs
                    .iter()
                    .position(|j| j.done.is_none() && j.dev == dev)
                {
                    return Err(format!(
                        "job {} is blocked reading {dev}; interrupt it first",
                        j + 1
                    ));
                }
                self.fds.remove(&dev);
                for k in self.knotes.iter_mut().filter(|k| k.dev == dev) {
                    k.attached = false;
                }
                let r = self.traced("tunclose", &dev, |_| f.close(), |r| res_str(*r));
                Ok(Res::new(res_str(r)))
            }
            Command::Read { dev, len, nonblock } => {
                let f = self.fd(&dev)?;
                if self.trace {
                    self.flush_events();
                    let fl = self.trace_flags(&dev);
                    self.line(format!("  trace: -> tunread({dev}) tun_flags={fl}"));
                }
                let (th, st) = self.k.kthread_spawn(self.cur, move || {
                    let mut buf = vec![0u8; len];
                    let r = {
                        let mut uio = kmock::bsd::uio::Uio::new_read(&mut buf);
                        let flag = if nonblock {
                            kmock::bsd::uio::IO_NDELAY
                        } else {
                            0
                        };
                        f.read_uio(&mut uio, flag)
                    };
                    (r, buf)
                });
                if self.trace {
                    self.flush_events();
                    let fl = self.trace_flags(&dev);
                    let how = match &st {
                        KthreadState::Done(o) => read_result(o),
                        KthreadState::Sleeping => "asleep in tsleep(\"tunread\")".into(),
                    };
                    self.line(format!("  trace: <- tunread({dev}) = {how} tun_flags={fl}"));
                }
                match st {
                    KthreadState::Done(o) => Ok(Res::new(read_result(&o))),
                    KthreadState::Sleeping => {
                        self.jobs.push(Job {
                            dev,
                            th,
                            done: None,
                        });
                        Ok(Res::new(format!("blocked (job {})", self.jobs.len())))
                    }
                }
            }
            Command::Write { dev, payload } => {
                let f = self.fd(&dev)?;
                let r = self.traced(
                    "tunwrite",
                    &dev,
                    |_| f.write(&payload).map(|_| ()),
                    |r| res_str(*r),
                );
                Ok(Res::new(res_str(r)))
            }
            Command::Ioctl { dev, req } => {
                let f = self.fd(&dev)?;
                let cmd = req.cmd();
                let mut buf = vec![0u8; IOCPARM_LEN(cmd).max(1024)];
                match &req {
                    IoctlReq::SetInt { value, .. } => {
                        buf[..4].copy_from_slice(&value.to_ne_bytes())
                    }
                    IoctlReq::TunsIfMode(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
                    IoctlReq::TunsIfInfo { mtu, typ, baudrate } => {
                        let ti = TunInfo {
                            baudrate: *baudrate,
                            mtu: *mtu,
                            type_: *typ,
                            dummy: 0,
                        };
                        ti.to_bytes(&mut buf).map_err(|e| e.to_string())?;
                    }
                    IoctlReq::GetInt { preset, .. } => {
                        buf[..4].copy_from_slice(&preset.to_ne_bytes())
                    }
                    IoctlReq::Fionbio(on) => {
                        buf[..4].copy_from_slice(&i32::from(*on).to_ne_bytes())
                    }
                    IoctlReq::Raw { arg: Some(a), .. } => {
                        buf[..4].copy_from_slice(&a.to_ne_bytes())
                    }
                    _ => {}
                }
                let pid = self.cur;
                // Only the *name* FIONBIO is the generic layer's (§4): the descriptor's
                // ioctl handles it without calling the driver. Every other request, a raw
                // number included whatever its value (0x8004667e too), goes to d_ioctl
                // directly, as the oracle's `d->si_ops->d_ioctl(&a)` does.
                let r = if matches!(req, IoctlReq::Fionbio(_)) {
                    f.ioctl_as(pid, cmd, &mut buf)
                } else {
                    self.traced(
                        "tunioctl",
                        &dev,
                        |s| s.driver_ioctl(&f, pid, cmd, &mut buf),
                        |r| res_str(*r),
                    )
                };
                Ok(Res::new(match r {
                    Err(e) => errname(e),
                    Ok(()) => {
                        let v = i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
                        match req {
                            IoctlReq::TungIfInfo => {
                                let ti = TunInfo::from_bytes(&buf).map_err(|e| e.to_string())?;
                                format!(
                                    "ok baudrate={} mtu={} type={}",
                                    ti.baudrate, ti.mtu, ti.type_
                                )
                            }
                            ref r if r.prints_value() => format!("ok value={v}"),
                            _ => "ok".into(),
                        }
                    }
                }))
            }
            Command::KqAdd { dev, filter } => {
                let f = self.fd(&dev)?;
                if self.knotes.len() >= MAX_KNOTES {
                    return Err("too many knotes".into());
                }
                let id = self.knotes.len() as u64 + 1;
                let kn = Knote::new(id, filter);
                let r = self.traced(
                    "tunkqfilter",
                    &dev,
                    |_| f.kqfilter(&kn),
                    |r| res_str(r.as_ref().map(|_| ()).map_err(|e| *e)),
                );
                match r {
                    Ok(ready) => {
                        self.knotes.push(KnoteRec {
                            kn,
                            dev,
                            attached: true,
                        });
                        Ok(Res::new(format!(
                            "ok knote={id} {}",
                            if ready { "ready" } else { "not ready" }
                        )))
                    }
                    Err(e) => Ok(Res::new(errname(e))),
                }
            }
            Command::KqCheck { knote } => {
                let i = self.knote_index(&knote)?;
                let ready = self.knotes[i].kn.check(0);
                Ok(Res::new(if ready { "ready" } else { "not ready" }.into()))
            }
            Command::KqDel { knote } => {
                let i = self.knote_index(&knote)?;
                let dev = self.knotes[i].dev.clone();
                let f = self.fd(&dev)?;
                let r = f.kqdel(self.knotes[i].kn.id());
                self.knotes[i].attached = false;
                Ok(Res::new(res_str(r)))
            }
            Command::IfOutput {
                ifname,
                dst,
                payload,
                lead,
                segs,
                mcast,
            } => {
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
            Command::IfIoctl { ifname, req } => {
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
            Command::IfStart { ifname } => {
                let ifp = self.ifp(&ifname)?;
                self.traced("tunstart", &ifname, |_| ifp.start(), |_| "void".into());
                Ok(Res::new("ok".into()))
            }
            Command::IfAddr { ifname, addr } => {
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
            Command::BpfAttach { ifname } => {
                let ifp = self.ifp(&ifname)?;
                ifp.bpf().attach_listener(Arc::new(NullListener));
                Ok(Res::new("ok".into()))
            }
            Command::BpfDetach { ifname } => {
                let ifp = self.ifp(&ifname)?;
                if !ifp.bpf().detach_last() {
                    return Err(format!("no bpf listener on {ifname}"));
                }
                Ok(Res::new("ok".into()))
            }
            Command::Altq { ifname, on } => {
                let ifp = self.ifp(&ifname)?;
                ifp.with_snd(&mut |q| q.set_altq_enabled(on));
                Ok(Res::new("ok".into()))
            }
            Command::Proc {
                pid,
                pgrp,
                sess,
                uid,
            } => {
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
            Command::As { pid, text } => {
                if !self.k.proc_exists(pid) {
                    return Err(format!("no process {text}"));
                }
                self.cur = pid;
                Ok(Res::new("ok".into()))
            }
            Command::FailAlloc(n) => {
                self.k.mbufs().set_failalloc(n);
                Ok(Res::new("ok".into()))
            }
            Command::Interrupt { job, restart } => {
                let i = self.job_index(&job)?;
                let tid = self.jobs[i].th.tid();
                if self.jobs[i].done.is_some() || self.k.kthread_runnable(tid) {
                    return Err(format!("job {} is not sleeping", i + 1));
                }
                self.k
                    .kthread_interrupt(tid, restart)
                    .map_err(|_| format!("job {} is not sleeping", i + 1))?;
                Ok(Res::new("ok".into()))
            }
            Command::Wait { job } => {
                let i = self.job_index(&job)?;
                Ok(Res::new(
                    if self.jobs[i].done.is_some() {
                        "done"
                    } else {
                        "still blocked"
                    }
                    .into(),
                ))
            }
            Command::Show { name } => self.show(&name),
            Command::Mbufs => {
                let (live, queued, leaked) = self.accounting();
                let total = self.k.mbufs().stats().allocated;
                Ok(Res::new(format!(
                    "live={live} queued={queued} leaked={leaked} allocated={total}"
                )))
            }
            Command::Deferred { precheck, error } => {
                let Precheck::Interface(name) = precheck;
                self.ifp(&name)?;
                Err(error)
            }
        }
    }

    fn knote_index(&self, k: &NumRef) -> Result<usize, String> {
        let id = k.id;
        if id < 1 || id as usize > self.knotes.len() {
            return Err(format!("no knote {}", k.text));
        }
        let i = id as usize - 1;
        if !self.knotes[i].attached {
            return Err(format!("knote {} is not attached", k.text));
        }
        Ok(i)
    }

    fn job_index(&self, j: &NumRef) -> Result<usize, String> {
        let id = j.id;
        if id < 1 || id as usize > self.jobs.len() {
            return Err(format!("no job {}", j.text));
        }
        Ok(id as usize - 1)
    }

    fn show(&mut self, name: &str) -> Result<Res, String> {
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
                    bytes_suffix(&p.to_vec())
                ));
            }
        });
        self.line(qline);
        let addrs: Vec<String> = ifp.addrs().iter().map(|a| a.to_string()).collect();
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

struct Res {
    result: String,
    after: Vec<String>,
}

impl Res {
    fn new(result: String) -> Res {
        Res {
            result,
            after: Vec::new(),
        }
    }
}

fn res_str(r: Result<(), Error>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => errname(e),
    }
}

fn read_result(o: &ReadOutcome) -> String {
    let (r, buf) = o;
    match r {
        Ok(n) => {
            let n = *n;
            if n == 0 {
                "0 bytes".into()
            } else {
                format!("{n} bytes: {}", hex_groups(&buf[..n]))
            }
        }
        Err((e, 0)) => errname(*e),
        Err((e, n)) => format!(
            "{} after {n} bytes: {}",
            errname(*e),
            hex_groups(&buf[..*n])
        ),
    }
}

fn filter_name(f: i16) -> String {
    match f {
        EVFILT_READ => "read".into(),
        EVFILT_WRITE => "write".into(),
        n => n.to_string(),
    }
}

fn escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            c => o.push(c),
        }
    }
    o
}

/// Runs a whole scenario text and returns its transcript.
pub fn run_scenario(text: &str, trace: bool) -> String {
    let mut sim = Sim::new(trace);
    for l in crate::lang::split_lines(text) {
        sim.exec_line(l);
    }
    sim.finish();
    sim.take_output()
}
