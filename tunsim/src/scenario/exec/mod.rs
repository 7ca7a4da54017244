// SPDX-License-Identifier: BSD-2-Clause
//! The scenario environment: one kernel with the tun driver loaded, the processes, the open
//! descriptors, the knotes and bpf listeners, the jobs — and the executor that runs parsed
//! [`Command`]s against it and prints the transcript.
//!
//! Everything here is the *environment* of the spec (scenario-language.md §4–§7); the
//! driver is only ever reached through kmock (devfs descriptors, the interface's
//! `if_output`/`if_ioctl`/`if_start`, the generic `ifioctl` layer). Read jobs are real
//! kernel threads run in kmock's turn-taking mode: a read that sleeps in `tsleep` hands the
//! turn back and becomes a job; woken jobs run after the command, in job order.
//!
//! The executor is split by command group: `device` (§4), `interface` (§5, bpf, ALTQ),
//! `jobs` (read jobs, `interrupt`, `wait`) and `harness` (processes, `failalloc`,
//! `show`, `mbufs`). Lines are formatted by [`transcript`](crate::scenario::transcript);
//! leaks are counted by [`leaks`](crate::scenario::leaks).

mod device;
mod harness;
mod interface;
mod jobs;

use crate::scenario::status::SoftcStatus;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, Write};
use std::sync::Arc;

use if_tun::{TunModule, TunSoftc};
use kmock::bsd::devfs::File;
use kmock::module::LoadedModule;
use kmock::Kernel;

use crate::scenario::command::{Command, Line, Precheck};
use crate::scenario::diagram::{flags_change, Origin, Recorder};
use crate::scenario::leaks::{Accounting, Leaks};
use crate::scenario::transcript::{event_line, fmt_tun_flags};

use device::KnoteRec;
pub use device::MAX_KNOTES;
pub use harness::MAX_PROCS;
use jobs::Job;

/// A scenario run in progress.
pub struct Sim {
    k: Kernel,
    /// Keeps if_tun loaded for the scenario's lifetime (unloaded on drop).
    _module: LoadedModule<TunModule>,
    cur: i32,
    fds: BTreeMap<String, Arc<File>>,
    jobs: Vec<Job>,
    /// The unfinished jobs of each device (indexes into `jobs`).
    blocked: BTreeMap<String, BTreeSet<usize>>,
    work: RunnerWork,
    knotes: Vec<KnoteRec>,
    leaks: Leaks,
    trace: bool,
    /// The sequence chart being recorded (`--diagram`), if asked for.
    diagram: Option<Box<Recorder>>,
    out: String,
}

impl Sim {
    /// Boots the world of a scenario (§1): the driver attached, process 100 current.
    pub fn new(trace: bool) -> Sim {
        // Thousands of jobs may sleep at once: keep each wakeup's cost independent of them.
        crate::hostos::use_global_futex_hash();
        let k = Kernel::new();
        k.record_events(true);
        k.set_turn_taking(true);
        k.mbufs().track_ids(true);
        k.proc_set(100, 100, 1, 0).expect("pid 100 is valid");
        let module = kmock::module::load::<TunModule>(&k).expect("tun attaches");
        k.take_events();
        Sim {
            k,
            _module: module,
            cur: 100,
            fds: BTreeMap::new(),
            jobs: Vec::new(),
            blocked: BTreeMap::new(),
            work: RunnerWork::default(),
            knotes: Vec::new(),
            leaks: Leaks::default(),
            trace,
            diagram: None,
            out: String::new(),
        }
    }

    /// Records a sequence chart of what runs from now on ([`Sim::diagram`]); the
    /// transcript is unchanged.
    pub fn enable_diagram(&mut self) {
        self.diagram = Some(Box::default());
    }

    /// The sequence chart recorded so far, if [`Sim::enable_diagram`] was called.
    pub fn diagram(&self) -> Option<&Recorder> {
        self.diagram.as_deref()
    }

    /// The kernel the scenario runs on.
    pub fn kernel(&self) -> &Kernel {
        &self.k
    }

    /// Takes what has been printed so far.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// Writes what has been printed so far to `w` and forgets it.
    pub fn write_output(&mut self, w: &mut dyn Write) -> io::Result<()> {
        let r = w.write_all(self.out.as_bytes());
        self.out.clear();
        r
    }

    /// How much looking at jobs the runner has done so far.
    pub fn work(&self) -> RunnerWork {
        self.work
    }

    fn line(&mut self, s: impl AsRef<str>) {
        self.out.push_str(s.as_ref());
        self.out.push('\n');
    }

    fn softc(&self, name: &str) -> Option<kmock::sync::Arc<TunSoftc>> {
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
        let events = self.k.take_events();
        if let Some(mut d) = self.diagram.take() {
            if d.resuming() {
                d.resume_one();
            }
            for e in &events {
                if let kmock::event::Event::Wakeup { ident, .. }
                | kmock::event::Event::Sleep { ident, .. } = e
                {
                    d.name_channel(*ident, &self.chan_name(*ident));
                }
                d.event(e);
            }
            self.diagram = Some(d);
        }
        for e in events {
            if let Some(l) = event_line(e, |ident| self.chan_name(ident)) {
                self.line(l);
            }
        }
        // The protocols consume what netisr received.
        drop(self.k.netisr().drain_all());
    }

    /// Runs one input line and appends its transcript.
    pub fn exec_line(&mut self, raw: &str) {
        match crate::scenario::parser::parse_line(raw) {
            Line::Blank => {}
            Line::Comment(c) => {
                if let Some(d) = self.diagram.as_mut() {
                    d.comment(&c);
                }
                self.line(c)
            }
            Line::Command { echo, cmd } => {
                self.line(format!("> {echo}"));
                if let Some(d) = self.diagram.as_mut() {
                    let origin = match &cmd {
                        Ok(c) if is_stack_side(c) => Origin::Stack,
                        _ => Origin::Process(self.cur),
                    };
                    d.command(&echo, origin);
                }
                match cmd {
                    Err(msg) => {
                        if let Some(d) = self.diagram.as_mut() {
                            d.end_command(Err(&msg));
                        }
                        self.line(format!("  ! error: {msg}"))
                    }
                    Ok(c) => {
                        let _ctx = self.k.enter(self.cur);
                        let interrupt = match &c {
                            Command::Interrupt { job, restart } => Some((job.id, *restart)),
                            _ => None,
                        };
                        let r = self.exec(c);
                        self.flush_events();
                        if let Some(d) = self.diagram.as_mut() {
                            match (&r, interrupt) {
                                (Ok(_), Some((job, restart))) => d.interrupt(job as usize, restart),
                                (Ok(res), None) => d.end_command(Ok(&res.result)),
                                (Err(msg), _) => d.end_command(Err(msg)),
                            }
                        }
                        match r {
                            Ok(res) => {
                                self.line(format!("  = {}", res.result));
                                for n in res.after {
                                    self.line(n);
                                }
                            }
                            Err(msg) => self.line(format!("  ! error: {msg}")),
                        }
                        let mark = self.out.len();
                        if let Some(d) = self.diagram.as_mut() {
                            d.resume_begin();
                        }
                        self.run_woken_jobs();
                        if let Some(d) = self.diagram.as_mut() {
                            d.resume_end(&self.out[mark..]);
                        }
                        if let Some(l) = self.leaks.check(&self.k) {
                            if let Some(d) = self.diagram.as_mut() {
                                d.caption(&l);
                            }
                            self.line(l);
                        }
                    }
                }
            }
        }
    }

    /// Prints the `end:` lines (§3) and winds down the jobs still asleep.
    pub fn finish(&mut self) {
        for (i, j) in self.jobs.iter().enumerate() {
            if !j.done {
                let l = format!("end: job {} still blocked reading {}", i + 1, j.dev);
                if let Some(d) = self.diagram.as_mut() {
                    d.caption(&l);
                }
                self.out.push_str(&l);
                self.out.push('\n');
            }
        }
        let Accounting {
            live,
            queued,
            leaked,
        } = self.leaks.accounting(&self.k);
        let l = format!("end: mbufs live={live} queued={queued} leaked={leaked}");
        if let Some(d) = self.diagram.as_mut() {
            d.caption(&l);
        }
        self.line(l);
        // Let sleeping readers return (silently) so their threads end.
        self.k.record_events(false);
        for j in self.jobs.iter_mut().filter(|j| !j.done) {
            if self.k.kthread_interrupt(j.th.tid(), false).is_ok() {
                let _ = self.k.kthread_resume(&mut j.th);
            }
        }
    }

    fn trace_flags(&self, dev: &str) -> String {
        match self.softc(dev) {
            Some(sc) => fmt_tun_flags(sc.status().flags),
            None => "(no softc)".to_string(),
        }
    }

    /// The softc flags of `dev` (empty without a softc), for the chart.
    fn raw_flags(&self, dev: &str) -> if_tun::TunFlags {
        self.softc(dev)
            .map_or(if_tun::TunFlags::empty(), |sc| sc.status().flags)
    }

    /// Tells the chart that the command enters `entry` on `dev`: the flags before.
    fn diagram_enter(&mut self, entry: &str, dev: &str) -> if_tun::TunFlags {
        if self.diagram.is_none() {
            return if_tun::TunFlags::empty();
        }
        let before = self.raw_flags(dev);
        if let Some(d) = self.diagram.as_mut() {
            d.enter(entry);
        }
        before
    }

    /// Tells the chart that the entry point returned.
    fn diagram_leave(&mut self, dev: &str, before: if_tun::TunFlags) {
        if self.diagram.is_none() {
            return;
        }
        let after = self.raw_flags(dev);
        if let Some(d) = self.diagram.as_mut() {
            d.leave(flags_change(before, after));
        }
    }

    /// Runs `f`, a call of driver entry point `entry` on `dev`; with `--trace` prints the
    /// entry and exit lines around it, and tells the chart, if one is recorded (both flush
    /// the kernel's events first, which leaves the transcript's order as it is).
    fn traced<T>(
        &mut self,
        entry: &str,
        dev: &str,
        f: impl FnOnce(&mut Self) -> T,
        res: impl Fn(&T) -> String,
    ) -> T {
        if !self.trace && self.diagram.is_none() {
            return f(self);
        }
        self.flush_events();
        if self.trace {
            let before = self.trace_flags(dev);
            self.line(format!("  trace: -> {entry}({dev}) tun_flags={before}"));
        }
        let raw_before = self.diagram_enter(entry, dev);
        let r = f(self);
        self.flush_events();
        self.diagram_leave(dev, raw_before);
        if self.trace {
            let after = self.trace_flags(dev);
            self.line(format!(
                "  trace: <- {entry}({dev}) = {} tun_flags={after}",
                res(&r)
            ));
        }
        r
    }

    fn exec(&mut self, c: Command) -> Result<Res, String> {
        match c {
            Command::Open { dev } => self.open(dev),
            Command::Close { dev } => self.close(dev),
            Command::Read { dev, len, nonblock } => self.read(dev, len, nonblock),
            Command::Write { dev, payload } => self.write(dev, payload),
            Command::Ioctl { dev, req } => self.ioctl(dev, req),
            Command::KqAdd { dev, filter } => self.kq_add(dev, filter),
            Command::KqCheck { knote } => self.kq_check(knote),
            Command::KqDel { knote } => self.kq_del(knote),
            Command::IfOutput {
                ifname,
                dst,
                payload,
                lead,
                segs,
                mcast,
            } => self.if_output(ifname, dst, payload, lead, segs, mcast),
            Command::IfIoctl { ifname, req } => self.if_ioctl(ifname, req),
            Command::IfStart { ifname } => self.if_start(ifname),
            Command::IfAddr { ifname, addr } => self.if_addr(ifname, addr),
            Command::BpfAttach { ifname } => self.bpf_attach(ifname),
            Command::BpfDetach { ifname } => self.bpf_detach(ifname),
            Command::Altq { ifname, on } => self.altq(ifname, on),
            Command::Proc {
                pid,
                pgrp,
                sess,
                uid,
            } => self.proc(pid, pgrp, sess, uid),
            Command::As { pid, text } => self.as_pid(pid, text),
            Command::FailAlloc(n) => self.fail_alloc(n),
            Command::Interrupt { job, restart } => self.interrupt(job, restart),
            Command::Wait { job } => self.wait(job),
            Command::Show { name } => self.show(&name),
            Command::Mbufs => self.mbufs(),
            Command::Deferred { precheck, error } => self.deferred(precheck, error),
        }
    }
}

/// Whether a command comes from the network stack's side (the interface and its
/// environment) rather than from a user process.
fn is_stack_side(c: &Command) -> bool {
    matches!(
        c,
        Command::IfOutput { .. }
            | Command::IfIoctl { .. }
            | Command::IfStart { .. }
            | Command::IfAddr { .. }
            | Command::BpfAttach { .. }
            | Command::BpfDetach { .. }
            | Command::Altq { .. }
            | Command::Deferred {
                precheck: Precheck::Interface(_),
                ..
            }
    )
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

/// Counts of the runner's work on jobs: [`Sim::work`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunnerWork {
    /// Jobs looked at: each runnable job the kernel named after a command, and each job
    /// an `interrupt` or `close` checked.
    pub jobs_examined: u64,
    /// Jobs resumed.
    pub jobs_resumed: u64,
}

/// Runs the scenario read from `input` as [`run_scenario_stream`] does, recording its
/// sequence chart, and returns the chart as SVG titled `title` (also when reading or
/// writing failed: the chart of what ran).
pub fn run_scenario_diagram(
    input: impl BufRead,
    out: &mut dyn Write,
    trace: bool,
    title: &str,
) -> (io::Result<()>, String) {
    let mut sim = Sim::new(trace);
    sim.enable_diagram();
    let r = drive(&mut sim, input, out);
    let svg = sim.diagram().map(|d| d.svg(title)).unwrap_or_default();
    (r, svg)
}

/// Runs a whole scenario text and returns its transcript.
pub fn run_scenario(text: &str, trace: bool) -> String {
    let mut out = Vec::new();
    run_scenario_stream(text.as_bytes(), &mut out, trace)
        .expect("a str is UTF-8 and a Vec takes every write");
    String::from_utf8(out).expect("transcripts are UTF-8")
}

/// Runs the scenario read from `input`, line by line, writing its transcript to `out` as
/// each line's part of it is made (nothing of either is kept beyond the line at hand).
/// Fails on the first read or write error, or on input that is not UTF-8 (`InvalidData`;
/// the transcript so far has been written), after winding down the jobs.
pub fn run_scenario_stream(
    input: impl BufRead,
    out: &mut dyn Write,
    trace: bool,
) -> io::Result<()> {
    run_scenario_counted(input, out, trace).map(|_| ())
}

/// As [`run_scenario_stream`], and returns the kernel's scheduling work and the runner's
/// (for the tests that check both grow linearly with the scenario).
pub fn run_scenario_counted(
    input: impl BufRead,
    out: &mut dyn Write,
    trace: bool,
) -> io::Result<(kmock::sched::SchedStats, RunnerWork)> {
    let mut sim = Sim::new(trace);
    drive(&mut sim, input, out).map(|()| (sim.kernel().sched_stats(), sim.work()))
}

/// Runs every line of `input` on `sim`, writing each line's transcript as it is made,
/// then winds the scenario down (`finish`) and writes the `end:` lines unless reading or
/// writing failed.
fn drive(sim: &mut Sim, input: impl BufRead, out: &mut dyn Write) -> io::Result<()> {
    let mut lines = crate::scenario::lexer::LineReader::new(input);
    let r = (|| {
        while let Some(l) = lines.next_line()? {
            sim.exec_line(l);
            sim.write_output(out)?;
        }
        Ok(())
    })();
    sim.finish();
    r.and_then(|()| sim.write_output(out))
}
