// SPDX-License-Identifier: BSD-2-Clause
//! The character-device commands (scenario-language.md §4): what a user process does with
//! `/dev/tunN` — open, close, read, write, ioctl and kqueue registrations.

use std::sync::Arc;

use if_tun::abi::TunInfo;
use kmock::bsd::devfs::File;
use kmock::bsd::ioccom::*;
use kmock::bsd::kqueue::Knote;
use kmock::sched::KthreadState;
use kmock::Error;

use super::jobs::Job;
use super::{Res, Sim};
use crate::scenario::command::{IoctlReq, NumRef};
use crate::scenario::transcript::{errname, read_result, res_str};

/// The most knotes a scenario may register.
pub const MAX_KNOTES: usize = 1024;

/// A registered knote and the descriptor it came through.
pub(super) struct KnoteRec {
    kn: kmock::sync::Arc<Knote>,
    dev: String,
    attached: bool,
}

impl Sim {
    /// `open DEV` (§4).
    pub(super) fn open(&mut self, dev: String) -> Result<Res, String> {
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

    /// `close DEV`.
    pub(super) fn close(&mut self, dev: String) -> Result<Res, String> {
        let f = self.fd(&dev)?;
        if let Some(j) = self.blocked.get(&dev).and_then(|s| s.first()) {
            self.work.jobs_examined += 1;
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

    /// `read DEV LEN [nonblock]`: a kernel thread, which becomes a job if it sleeps.
    pub(super) fn read(&mut self, dev: String, len: usize, nonblock: bool) -> Result<Res, String> {
        let f = self.fd(&dev)?;
        if self.trace || self.diagram.is_some() {
            self.flush_events();
        }
        if self.trace {
            let fl = self.trace_flags(&dev);
            self.line(format!("  trace: -> tunread({dev}) tun_flags={fl}"));
        }
        let raw_before = self.diagram_enter("tunread", &dev);
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
        if self.trace || self.diagram.is_some() {
            self.flush_events();
            self.diagram_leave(&dev, raw_before);
        }
        if self.trace {
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
                self.blocked
                    .entry(dev.clone())
                    .or_default()
                    .insert(self.jobs.len());
                let pid = self.cur;
                if let Some(d) = self.diagram.as_mut() {
                    d.read_blocked(self.jobs.len() + 1, pid, &dev);
                }
                self.jobs.push(Job {
                    dev,
                    th,
                    done: false,
                });
                Ok(Res::new(format!("blocked (job {})", self.jobs.len())))
            }
        }
    }

    /// `write DEV PAYLOAD...`.
    pub(super) fn write(&mut self, dev: String, payload: Vec<u8>) -> Result<Res, String> {
        let f = self.fd(&dev)?;
        let r = self.traced(
            "tunwrite",
            &dev,
            |_| f.write(&payload).map(|_| ()),
            |r| res_str(*r),
        );
        Ok(Res::new(res_str(r)))
    }

    /// `ioctl DEV NAME|0xNUMBER [ARG...]`.
    pub(super) fn ioctl(&mut self, dev: String, req: IoctlReq) -> Result<Res, String> {
        let f = self.fd(&dev)?;
        let cmd = req.cmd();
        let mut buf = vec![0u8; IOCPARM_LEN(cmd).max(1024)];
        match &req {
            IoctlReq::SetInt { value, .. } => buf[..4].copy_from_slice(&value.to_ne_bytes()),
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
            IoctlReq::GetInt { preset, .. } => buf[..4].copy_from_slice(&preset.to_ne_bytes()),
            IoctlReq::Fionbio(on) => buf[..4].copy_from_slice(&i32::from(*on).to_ne_bytes()),
            IoctlReq::Raw { arg: Some(a), .. } => buf[..4].copy_from_slice(&a.to_ne_bytes()),
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

    /// `kq add DEV FILTER`.
    pub(super) fn kq_add(&mut self, dev: String, filter: i16) -> Result<Res, String> {
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

    /// `kq check K`.
    pub(super) fn kq_check(&mut self, knote: NumRef) -> Result<Res, String> {
        let i = self.knote_index(&knote)?;
        let ready = self.knotes[i].kn.check(0);
        Ok(Res::new(if ready { "ready" } else { "not ready" }.into()))
    }

    /// `kq del K`.
    pub(super) fn kq_del(&mut self, knote: NumRef) -> Result<Res, String> {
        let i = self.knote_index(&knote)?;
        let dev = self.knotes[i].dev.clone();
        let f = self.fd(&dev)?;
        let r = f.kqdel(self.knotes[i].kn.id());
        self.knotes[i].attached = false;
        Ok(Res::new(res_str(r)))
    }

    pub(super) fn fd(&self, dev: &str) -> Result<Arc<File>, String> {
        self.fds
            .get(dev)
            .cloned()
            .ok_or_else(|| format!("{dev} is not open"))
    }

    /// `d_ioctl` on the descriptor's device as process `pid`, bypassing the generic ioctl
    /// layer of [`File::ioctl_as`] (which takes the command `FIONBIO`): the scenario
    /// language's raw number.
    fn driver_ioctl(&self, f: &File, pid: i32, cmd: u32, data: &mut [u8]) -> Result<(), Error> {
        f.driver_ioctl_as(pid, cmd, data)
    }

    pub(super) fn knote_index(&self, k: &NumRef) -> Result<usize, String> {
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
}
