// SPDX-License-Identifier: BSD-2-Clause
//! Sequence charts of scenarios (`tunsim run --diagram FILE.svg`): who calls whom, in order —
//! the user process and its sleeping reads (jobs), the driver's entry points, the interface
//! and its send queue, bpf and the stack — with the sleeps, wakeups and signals that join
//! them, drawn as a plain SVG.
//!
//! The chart is built from structured information, not from the transcript's text: the
//! executor tells a [`Recorder`] each command and where it comes from, each driver entry
//! point it enters (where `--trace` prints its `trace:` lines), the softc flags before and
//! after, and hands it every kmock [`Event`] as it flushes them. Labels reuse the
//! transcript's formatting ([`event_line`]) so that the chart and the transcript say the
//! same thing. One thing is read back from the runner's output: the `job J = RESULT` lines
//! of the woken jobs, whose results the job runner prints without handing them over
//! ([`Recorder::resume_end`]).
//!
//! The SVG is deterministic (integer coordinates, no clock, no hashing) and every text is
//! XML-escaped ([`xml_escape`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use if_tun::TunFlags;
use kmock::event::Event;

use super::transcript::event_line;

/// Most rows a chart draws; a longer scenario's chart ends with a note saying so.
pub const MAX_ROWS: usize = 4000;
/// Most characters of a label (longer ones end in `…`).
pub const MAX_LABEL: usize = 64;

/// A lifeline (a column of the chart).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// A user process: the scenario's commands on the device run on its behalf.
    Pid(i32),
    /// A read that slept: job J (its thread), with the pid that started it.
    Job(usize),
    /// A driver entry point (`tunread`, `tunoutput`…).
    Entry(&'static str),
    /// An interface and its send queue.
    Iface(String),
    /// The bpf listeners.
    Bpf,
    /// The network stack: it calls `if_output`/`ifioctl`/`if_start` and receives netisr.
    Stack,
}

/// Where a command comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A user process (a command on the character device, or a harness command).
    Process(i32),
    /// The network stack (a command on the interface).
    Stack,
}

impl Origin {
    fn lane(&self) -> Lane {
        match self {
            Origin::Process(p) => Lane::Pid(*p),
            Origin::Stack => Lane::Stack,
        }
    }
}

/// The kind of an arrow (its colour and style).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowKind {
    /// A call into the driver.
    Call,
    /// A return to the caller.
    Return,
    /// `wakeup()` making a sleeping job runnable.
    Wakeup,
    /// A signal: `interrupt` on a sleeping job, or SIGIO to a process.
    Signal,
    /// Something done to an interface or its send queue.
    Queue,
    /// A packet handed on: netisr, bpf.
    Packet,
    /// A knote evaluated (kqueue).
    Knote,
}

/// The kind of a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// A harness command, or a detail.
    Info,
    /// A thread goes to sleep.
    Sleep,
    /// A harness error, a defect, a leak.
    Error,
}

/// One row of the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    /// A scenario comment, across the chart.
    Comment(String),
    /// An arrow between two lifelines.
    Arrow {
        /// Its tail.
        from: Lane,
        /// Its head.
        to: Lane,
        /// The text above it.
        label: String,
        /// Its style.
        kind: ArrowKind,
    },
    /// A note beside a lifeline.
    Note {
        /// The lifeline.
        on: Lane,
        /// The text.
        text: String,
        /// Its style.
        kind: NoteKind,
    },
    /// Job J's lifeline starts here (its read went to sleep).
    JobStart(usize),
    /// A line of the transcript's end (`end: …`, `leak: …`), across the chart.
    Caption(String),
}

#[derive(Clone, Debug)]
struct JobInfo {
    pid: i32,
    dev: String,
    start: usize,
    end: Option<usize>,
    /// Rows where it slept and where it was woken or signalled.
    sleeps: Vec<(usize, Option<usize>)>,
}

/// Collects a scenario's rows as the executor runs it, and draws them ([`Recorder::svg`]).
#[derive(Debug, Default)]
pub struct Recorder {
    rows: Vec<Row>,
    truncated: bool,
    origin: Option<Origin>,
    echo: String,
    entered: Option<&'static str>,
    flags_change: String,
    /// The wait channel a fresh read slept on (before it has a job number).
    pending_sleep: Option<usize>,
    /// Jobs asleep on each wait channel.
    sleeping: BTreeMap<usize, Vec<usize>>,
    jobs: BTreeMap<usize, JobInfo>,
    /// The job being resumed while the runner runs the woken jobs: batches of events, one
    /// per job run.
    resuming: Option<Vec<Vec<Event>>>,
    /// Channel names (`tun0`), for the labels.
    chan_names: BTreeMap<usize, String>,
}

/// The names of the bits set in `f` (`RWAIT`), in bit order.
fn flag_names(f: TunFlags) -> Vec<&'static str> {
    (0..u16::BITS)
        .filter(|i| f.bits() & (1 << i) != 0)
        .filter_map(|i| {
            let (name, _) = TunFlags::from_bits(1 << i)?.iter_names().next()?;
            Some(name.strip_prefix("TUN_").unwrap_or(name))
        })
        .collect()
}

/// How `tun_flags` changed: `tun_flags +RWAIT`, `tun_flags -OPEN,-RWAIT`, or "".
pub fn flags_change(before: TunFlags, after: TunFlags) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(flag_names(after & !before).iter().map(|n| format!("+{n}")));
    parts.extend(flag_names(before & !after).iter().map(|n| format!("-{n}")));
    if parts.is_empty() {
        String::new()
    } else {
        format!("tun_flags {}", parts.join(","))
    }
}

/// Cuts `s` to [`MAX_LABEL`] characters, ending in `…` when cut.
fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX_LABEL - 1).collect();
        t.push('…');
        t
    }
}

impl Recorder {
    /// An empty chart.
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// The rows so far.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    fn push(&mut self, r: Row) {
        if self.rows.len() >= MAX_ROWS {
            if !self.truncated {
                self.truncated = true;
                self.rows.push(Row::Caption(format!(
                    "… the chart stops here: more than {MAX_ROWS} rows"
                )));
            }
            return;
        }
        self.rows.push(r);
    }

    /// A comment line of the scenario.
    pub fn comment(&mut self, text: &str) {
        self.push(Row::Comment(text.to_string()));
    }

    /// A command line starts (`echo` is the transcript's echo, without `> `).
    pub fn command(&mut self, echo: &str, origin: Origin) {
        self.origin = Some(origin);
        self.echo = echo.to_string();
        self.entered = None;
        self.flags_change.clear();
    }

    fn origin_lane(&self) -> Lane {
        self.origin.as_ref().map_or(Lane::Pid(100), Origin::lane)
    }

    fn source(&self) -> Lane {
        match self.entered {
            Some(e) => Lane::Entry(e),
            None => self.origin_lane(),
        }
    }

    /// The command calls driver entry point `entry` (`tunread`; the generic `ifioctl`
    /// layer's `ifioctl->tunifioctl` is drawn as `tunifioctl`).
    pub fn enter(&mut self, entry: &str) {
        let entry = lane_entry(entry);
        let label = clip(&self.echo);
        self.push(Row::Arrow {
            from: self.origin_lane(),
            to: Lane::Entry(entry),
            label,
            kind: ArrowKind::Call,
        });
        self.entered = Some(entry);
    }

    /// The entry point returned; `change` is what it did to `tun_flags` ([`flags_change`]).
    pub fn leave(&mut self, change: String) {
        self.flags_change = change;
    }

    /// Names a wait channel (`tun0`) for the labels.
    pub fn name_channel(&mut self, ident: usize, name: &str) {
        self.chan_names.insert(ident, name.to_string());
    }

    /// An event the kernel reported, in order.
    pub fn event(&mut self, e: &Event) {
        if let Some(batch) = self.resuming.as_mut() {
            if let Some(b) = batch.last_mut() {
                b.push(e.clone());
            }
            return;
        }
        self.draw_event(e);
    }

    fn chan(&self, ident: usize) -> String {
        self.chan_names
            .get(&ident)
            .cloned()
            .unwrap_or_else(|| format!("chan@{ident:x}"))
    }

    fn draw_event(&mut self, e: &Event) {
        let src = self.source();
        let text = event_line(e.clone(), |i| self.chan(i))
            .map(|l| l.trim_start().to_string())
            .unwrap_or_default();
        let arrow = |to: Lane, kind: ArrowKind| Row::Arrow {
            from: src.clone(),
            to,
            label: clip(&text),
            kind,
        };
        let note = |kind: NoteKind| Row::Note {
            on: src.clone(),
            text: clip(&text),
            kind,
        };
        let row = match e {
            Event::IfAttach { ifname }
            | Event::Enqueue { ifname, .. }
            | Event::QueueFull { ifname, .. }
            | Event::Purge { ifname, .. }
            | Event::IfDown { ifname }
            | Event::IfUp { ifname }
            | Event::PurgeAddr { ifname, .. } => {
                arrow(Lane::Iface(ifname.to_string()), ArrowKind::Queue)
            }
            Event::Wakeup { ident, woken } => {
                let jobs = if *woken > 0 {
                    self.sleeping.remove(ident).unwrap_or_default()
                } else {
                    Vec::new()
                };
                if jobs.is_empty() {
                    let what = if *woken == 0 {
                        "nobody asleep"
                    } else {
                        "woke a thread that is no job"
                    };
                    Row::Note {
                        on: src.clone(),
                        text: clip(&format!("{text}: {what}")),
                        kind: NoteKind::Info,
                    }
                } else {
                    let at = self.rows.len();
                    for &j in &jobs {
                        self.end_sleep(j, at);
                        self.push(Row::Arrow {
                            from: src.clone(),
                            to: Lane::Job(j),
                            label: clip(&format!("{text}: job {j} runnable")),
                            kind: ArrowKind::Wakeup,
                        });
                    }
                    return;
                }
            }
            Event::Sleep { ident, wmesg } => {
                self.pending_sleep = Some(*ident);
                Row::Note {
                    on: src.clone(),
                    text: clip(&format!(
                        "tsleep(sc, PCATCH, \"{wmesg}\"): nothing queued, sleeps"
                    )),
                    kind: NoteKind::Sleep,
                }
            }
            Event::Sigio { pid, .. } => arrow(Lane::Pid(*pid), ArrowKind::Signal),
            Event::Knote { .. } => {
                let to = match &self.origin {
                    Some(Origin::Process(p)) => Lane::Pid(*p),
                    _ => Lane::Pid(100),
                };
                if to == src {
                    note(NoteKind::Info)
                } else {
                    arrow(to, ArrowKind::Knote)
                }
            }
            Event::Bpf { .. } => arrow(Lane::Bpf, ArrowKind::Packet),
            Event::Netisr { .. } => arrow(Lane::Stack, ArrowKind::Packet),
            Event::AllocFail { .. } => note(NoteKind::Error),
            Event::InjectedFail { .. } => return,
            Event::Clone { .. }
            | Event::Kprintf { .. }
            | Event::Funsetown { .. }
            | Event::KnoteDetached { .. } => note(NoteKind::Info),
        };
        self.push(row);
    }

    fn end_sleep(&mut self, job: usize, at: usize) {
        if let Some(j) = self.jobs.get_mut(&job) {
            if let Some(last) = j.sleeps.last_mut() {
                if last.1.is_none() {
                    last.1 = Some(at);
                }
            }
        }
    }

    /// The read the command started slept: it is job `job` of process `pid`.
    pub fn read_blocked(&mut self, job: usize, pid: i32, dev: &str) {
        self.push(Row::Arrow {
            from: Lane::Entry("tunread"),
            to: self.origin_lane(),
            label: clip(&format!("= blocked (job {job}) {}", self.flags_change)),
            kind: ArrowKind::Return,
        });
        self.entered = None;
        self.origin = None;
        let start = self.rows.len();
        self.push(Row::JobStart(job));
        self.jobs.insert(
            job,
            JobInfo {
                pid,
                dev: dev.to_string(),
                start,
                end: None,
                sleeps: vec![(start, None)],
            },
        );
        if let Some(ident) = self.pending_sleep.take() {
            self.sleeping.entry(ident).or_default().push(job);
        }
    }

    /// `interrupt J [restart]` signalled job J.
    pub fn interrupt(&mut self, job: usize, restart: bool) {
        let at = self.rows.len();
        self.end_sleep(job, at);
        for v in self.sleeping.values_mut() {
            v.retain(|&j| j != job);
        }
        let err = if restart { "ERESTART" } else { "EINTR" };
        let label = clip(&format!("{}: signal, tsleep returns {err}", self.echo));
        self.push(Row::Arrow {
            from: self.origin_lane(),
            to: Lane::Job(job),
            label,
            kind: ArrowKind::Signal,
        });
        self.origin = None;
    }

    /// The command ended with `result` (`ok`, `blocked (job 1)`…) or a harness error.
    pub fn end_command(&mut self, result: Result<&str, &str>) {
        let Some(origin) = self.origin.take() else {
            return;
        };
        let lane = origin.lane();
        match (self.entered.take(), result) {
            (Some(e), Ok(r)) => {
                let label = clip(format!("= {r} {}", self.flags_change).trim_end());
                self.push(Row::Arrow {
                    from: Lane::Entry(e),
                    to: lane,
                    label,
                    kind: ArrowKind::Return,
                });
            }
            (Some(e), Err(m)) => self.push(Row::Note {
                on: Lane::Entry(e),
                text: clip(&format!("! error: {m}")),
                kind: NoteKind::Error,
            }),
            (None, r) => {
                let (text, kind) = match r {
                    Ok(r) => (format!("{} = {r}", self.echo), NoteKind::Info),
                    Err(m) => (format!("{} ! error: {m}", self.echo), NoteKind::Error),
                };
                self.push(Row::Note {
                    on: lane,
                    text: clip(&text),
                    kind,
                })
            }
        }
    }

    /// Whether the runner is running the woken jobs.
    pub fn resuming(&self) -> bool {
        self.resuming.is_some()
    }

    /// The runner starts running the woken jobs.
    pub fn resume_begin(&mut self) {
        self.resuming = Some(Vec::new());
    }

    /// The runner flushes the events of one job it resumed (they follow).
    pub fn resume_one(&mut self) {
        if let Some(b) = self.resuming.as_mut() {
            b.push(Vec::new());
        }
    }

    /// The runner has run the woken jobs; `output` is what it printed meanwhile, whose
    /// `job J = RESULT` / `job J: woke up and sleeps again` lines say which job each run
    /// was, in order.
    pub fn resume_end(&mut self, output: &str) {
        let batches = self.resuming.take().unwrap_or_default();
        let outcomes = output.lines().filter_map(|l| {
            let rest = l.strip_prefix("  job ")?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let j: usize = digits.parse().ok()?;
            let tail = &rest[digits.len()..];
            if let Some(r) = tail.strip_prefix(" = ") {
                Some((j, Some(r.to_string())))
            } else if tail == ": woke up and sleeps again" {
                Some((j, None))
            } else {
                None
            }
        });
        // The runner flushes the kernel's events once after each job it resumes, then
        // prints that job's line: the k-th batch is the k-th line's job.
        let mut batches = batches.into_iter();
        let saved = (self.origin.take(), self.entered.take());
        for (j, outcome) in outcomes {
            let events = batches.next().unwrap_or_default();
            self.entered = Some("tunread");
            let pid = self.jobs.get(&j).map_or(100, |i| i.pid);
            self.origin = Some(Origin::Process(pid));
            self.push(Row::Note {
                on: Lane::Job(j),
                text: format!("job {j} runs: tunread goes on"),
                kind: NoteKind::Info,
            });
            for e in &events {
                self.draw_event(e);
            }
            match outcome {
                Some(r) => {
                    let at = self.rows.len();
                    self.push(Row::Arrow {
                        from: Lane::Entry("tunread"),
                        to: Lane::Job(j),
                        label: clip(&format!("job {j} = {r}")),
                        kind: ArrowKind::Return,
                    });
                    if let Some(info) = self.jobs.get_mut(&j) {
                        info.end = Some(at);
                    }
                }
                None => {
                    let at = self.rows.len();
                    if let Some(info) = self.jobs.get_mut(&j) {
                        info.sleeps.push((at, None));
                    }
                    if let Some(ident) = self.pending_sleep.take() {
                        self.sleeping.entry(ident).or_default().push(j);
                    }
                }
            }
            self.pending_sleep = None;
        }
        (self.origin, self.entered) = saved;
    }

    /// A line across the chart: a leak, the `end:` lines.
    pub fn caption(&mut self, text: &str) {
        self.push(Row::Caption(clip(text)));
    }

    /// Draws the chart, titled `title`.
    pub fn svg(&self, title: &str) -> String {
        render(self, title)
    }
}

/// The lifeline of an entry point name as the executor gives it.
fn lane_entry(entry: &str) -> &'static str {
    const ENTRIES: [&str; 9] = [
        "tunopen",
        "tunclose",
        "tunread",
        "tunwrite",
        "tunioctl",
        "tunkqfilter",
        "tunoutput",
        "tunifioctl",
        "tunstart",
    ];
    let e = entry.rsplit("->").next().unwrap_or(entry);
    ENTRIES
        .iter()
        .copied()
        .find(|&n| n == e)
        .unwrap_or("driver")
}

/// `s` with `& < > " '` as XML entities.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

// ---- layout and drawing ----

const CHAR_W: i64 = 7; // 11.5px monospace, rounded up
const ROW_H: i64 = 24;
const MARGIN: i64 = 20;
const MIN_GAP: i64 = 110;
const LEGEND_COL: i64 = 300;
const NOTE_ROOM: i64 = 200;
const HEAD_TOP: i64 = 44;
const HEAD_H: i64 = 36;
const FONT: &str = "DejaVu Sans Mono,Menlo,Consolas,monospace";

fn text_w(s: &str) -> i64 {
    s.chars().count() as i64 * CHAR_W
}

fn lane_rank(l: &Lane) -> (u8, i64) {
    match l {
        Lane::Pid(_) | Lane::Job(_) => (0, 0),
        Lane::Entry(e) => {
            let order = [
                "tunopen",
                "tunclose",
                "tunread",
                "tunwrite",
                "tunioctl",
                "tunkqfilter",
                "driver",
            ];
            match order.iter().position(|x| x == e) {
                Some(i) => (1, i as i64),
                None => (
                    3,
                    ["tunoutput", "tunifioctl", "tunstart"]
                        .iter()
                        .position(|x| x == e)
                        .unwrap_or(0) as i64,
                ),
            }
        }
        Lane::Iface(_) => (2, 0),
        Lane::Bpf => (4, 0),
        Lane::Stack => (5, 0),
    }
}

fn lane_title(l: &Lane, rec: &Recorder) -> (String, String) {
    match l {
        Lane::Pid(p) => (format!("pid {p}"), "user process".into()),
        Lane::Job(j) => (
            format!("job {j}"),
            match rec.jobs.get(j) {
                Some(i) => format!("read {} (pid {})", i.dev, i.pid),
                None => "read".into(),
            },
        ),
        Lane::Entry(e) => (
            (*e).to_string(),
            match lane_rank(l).0 {
                1 => "cdevsw (device)".into(),
                _ => "ifnet (interface)".into(),
            },
        ),
        Lane::Iface(n) => (n.clone(), "ifnet, if_snd queue".into()),
        Lane::Bpf => ("bpf".into(), "listeners".into()),
        Lane::Stack => ("stack".into(), "IP stack, netisr".into()),
    }
}

struct Style {
    color: &'static str,
    dash: &'static str,
    width: &'static str,
}

fn arrow_style(k: ArrowKind) -> Style {
    let s = |color, dash, width| Style { color, dash, width };
    match k {
        ArrowKind::Call => s("#222222", "", "1.4"),
        ArrowKind::Return => s("#666666", "5,3", "1.2"),
        ArrowKind::Wakeup => s("#e07000", "", "2.4"),
        ArrowKind::Signal => s("#c0182a", "", "2.4"),
        ArrowKind::Queue => s("#1f5fbf", "", "1.4"),
        ArrowKind::Packet => s("#2e8b3e", "", "1.4"),
        ArrowKind::Knote => s("#8a3fb0", "2,2", "1.4"),
    }
}

const KINDS: [(ArrowKind, &str, &str); 7] = [
    (ArrowKind::Call, "call", "call into the driver"),
    (ArrowKind::Return, "ret", "return (= result)"),
    (
        ArrowKind::Wakeup,
        "wake",
        "wakeup: a sleeper becomes runnable",
    ),
    (ArrowKind::Signal, "sig", "signal (interrupt, SIGIO)"),
    (ArrowKind::Queue, "ifq", "interface / send queue"),
    (ArrowKind::Packet, "pkt", "packet to netisr / bpf"),
    (ArrowKind::Knote, "kn", "knote evaluated"),
];

fn marker_id(k: ArrowKind) -> &'static str {
    KINDS
        .iter()
        .find(|(x, _, _)| *x == k)
        .map_or("call", |(_, id, _)| id)
}

fn render(rec: &Recorder, title: &str) -> String {
    // The lifelines used, in a fixed order: each process followed by its jobs, the device
    // entry points, the interfaces, the interface entry points, bpf, the stack.
    let mut used: Vec<Lane> = Vec::new();
    let mut add = |l: &Lane| {
        if !used.contains(l) {
            used.push(l.clone());
        }
    };
    for r in &rec.rows {
        match r {
            Row::Arrow { from, to, .. } => {
                add(from);
                add(to);
            }
            Row::Note { on, .. } => add(on),
            Row::JobStart(j) => add(&Lane::Job(*j)),
            Row::Comment(_) | Row::Caption(_) => {}
        }
    }
    let mut pids: Vec<i32> = Vec::new();
    for l in &used {
        let p = match l {
            Lane::Pid(p) => *p,
            Lane::Job(j) => rec.jobs.get(j).map_or(100, |i| i.pid),
            _ => continue,
        };
        if !pids.contains(&p) {
            pids.push(p);
        }
    }
    let mut lanes: Vec<Lane> = Vec::new();
    for p in &pids {
        lanes.push(Lane::Pid(*p));
        let mut jobs: Vec<usize> = used
            .iter()
            .filter_map(|l| match l {
                Lane::Job(j) if rec.jobs.get(j).map_or(100, |i| i.pid) == *p => Some(*j),
                _ => None,
            })
            .collect();
        jobs.sort_unstable();
        lanes.extend(jobs.into_iter().map(Lane::Job));
    }
    let mut rest: Vec<Lane> = used
        .iter()
        .filter(|l| !matches!(l, Lane::Pid(_) | Lane::Job(_)))
        .cloned()
        .collect();
    rest.sort_by(|a, b| lane_rank(a).cmp(&lane_rank(b)).then(a.cmp(b)));
    lanes.extend(rest);
    if lanes.is_empty() {
        lanes.push(Lane::Pid(100));
    }
    let idx = |l: &Lane| lanes.iter().position(|x| x == l).unwrap_or(0);

    // Positions: every gap at least MIN_GAP and wide enough for the lane titles; then
    // every arrow's label fits between its ends, and every note before the next lifeline.
    let n = lanes.len();
    let mut gap: Vec<i64> = vec![MIN_GAP; n];
    for i in 1..n {
        let (a, b) = (lane_title(&lanes[i - 1], rec), lane_title(&lanes[i], rec));
        let wa = text_w(&a.0).max(text_w(&a.1));
        let wb = text_w(&b.0).max(text_w(&b.1));
        gap[i] = gap[i].max((wa + wb) / 2 + 24);
    }
    let mut spans: Vec<(usize, usize, i64)> = Vec::new();
    for r in &rec.rows {
        match r {
            Row::Arrow {
                from, to, label, ..
            } => {
                let (a, b) = (idx(from), idx(to));
                let (a, b) = (a.min(b), a.max(b));
                if a != b {
                    spans.push((a, b, text_w(label) + 24));
                }
            }
            Row::Note { on, text, .. } => {
                let a = idx(on);
                // A note may run over the next lifelines (it has a background) past
                // NOTE_ROOM.
                if a + 1 < n {
                    spans.push((a, a + 1, (text_w(text) + 28).min(NOTE_ROOM)));
                }
            }
            _ => {}
        }
    }
    spans.sort_by_key(|&(a, b, w)| (b - a, a, w));
    for (a, b, w) in spans {
        let have: i64 = gap[a + 1..=b].iter().sum();
        if have < w {
            // Widen the gaps of the span evenly (the remainder on the last one).
            let k = (b - a) as i64;
            let d = w - have;
            for (m, g) in gap[a + 1..=b].iter_mut().enumerate() {
                *g += d / k + if m as i64 == k - 1 { d % k } else { 0 };
            }
        }
    }
    let first_w = {
        let t = lane_title(&lanes[0], rec);
        text_w(&t.0).max(text_w(&t.1)) / 2 + 12
    };
    let mut xs: Vec<i64> = Vec::with_capacity(n);
    let mut x = MARGIN + first_w.max(60);
    for (i, g) in gap.iter().enumerate() {
        if i > 0 {
            x += g;
        }
        xs.push(x);
    }
    let rows_top = HEAD_TOP + HEAD_H + 28;
    let y_of = |i: usize| rows_top + i as i64 * ROW_H;
    let nrows = rec.rows.len();
    let bottom = y_of(nrows) + 4;
    let mut width = xs[n - 1] + 60;
    for (i, r) in rec.rows.iter().enumerate() {
        let _ = i;
        let right = match r {
            Row::Comment(t) | Row::Caption(t) => MARGIN + text_w(t) + 20,
            Row::Note { on, text, .. } => xs[idx(on)] + text_w(text) + 36,
            Row::JobStart(j) => xs[idx(&Lane::Job(*j))] + 40,
            Row::Arrow { .. } => 0,
        };
        width = width.max(right);
    }
    let legend_top = bottom + 24;
    let height = legend_top + 22 * 4 + 10;
    width = width.max(MARGIN + 4 * LEGEND_COL);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>"#
    );
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">"#
    );
    let _ = writeln!(
        s,
        "<title>{}</title>",
        xml_escape(&format!("sequence chart of {title}"))
    );
    s.push_str("<defs>\n");
    for (k, id, _) in KINDS {
        let st = arrow_style(k);
        let _ = writeln!(
            s,
            r#"<marker id="m-{id}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>"#,
            st.color
        );
    }
    s.push_str("</defs>\n");
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{MARGIN}" y="24" font-size="14" font-weight="bold">{}</text>"#,
        xml_escape(title)
    );

    // Lifelines: heads, then lines (a job's only while it lives, its sleeps as bars).
    for (i, l) in lanes.iter().enumerate() {
        let x = xs[i];
        let (t1, t2) = lane_title(l, rec);
        let w = text_w(&t1).max(text_w(&t2)) + 16;
        let fill = match lane_rank(l).0 {
            0 => "#fff6d5",
            1 => "#e3eefc",
            2 => "#e6f4e6",
            3 => "#fde8e0",
            _ => "#eeeeee",
        };
        let (y0, y1) = match l {
            Lane::Job(j) => {
                let info = rec.jobs.get(j);
                let start = info.map_or(0, |i| i.start);
                let end = info
                    .and_then(|i| i.end)
                    .map_or(bottom, |e| y_of(e) + ROW_H / 2 + 6);
                (y_of(start), end)
            }
            _ => (HEAD_TOP + HEAD_H, bottom),
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#999999" stroke-dasharray="4,3"/>"##
        );
        if let Lane::Job(j) = l {
            if let Some(info) = rec.jobs.get(j) {
                for &(a, b) in &info.sleeps {
                    let ya = y_of(a);
                    let yb = b.map_or(y1, y_of);
                    let _ = writeln!(
                        s,
                        r##"<rect x="{}" y="{ya}" width="12" height="{}" fill="#cfe3ff" stroke="#4a78c2"/>"##,
                        x - 6,
                        (yb - ya).max(2)
                    );
                }
                if info.end.is_some() {
                    let _ = writeln!(
                        s,
                        r##"<path d="M{} {} l10 10 M{} {} l-10 10" stroke="#444444" stroke-width="1.6"/>"##,
                        x - 5,
                        y1 - 5,
                        x + 5,
                        y1 - 5
                    );
                }
            }
            continue;
        }
        let _ = writeln!(
            s,
            r##"<rect x="{}" y="{HEAD_TOP}" width="{w}" height="{HEAD_H}" rx="4" fill="{fill}" stroke="#555555"/>"##,
            x - w / 2
        );
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"#,
            HEAD_TOP + 15,
            xml_escape(&t1)
        );
        let _ = writeln!(
            s,
            r##"<text x="{x}" y="{}" text-anchor="middle" fill="#555555" font-size="10">{}</text>"##,
            HEAD_TOP + 29,
            xml_escape(&t2)
        );
    }

    // Rows.
    for (i, r) in rec.rows.iter().enumerate() {
        let y = y_of(i) + ROW_H / 2 + 4;
        match r {
            Row::Comment(t) => {
                let _ = writeln!(
                    s,
                    r##"<rect x="{}" y="{}" width="{}" height="16" fill="white" fill-opacity="0.85"/><text x="{MARGIN}" y="{y}" fill="#5a6e5a" font-style="italic">{}</text>"##,
                    MARGIN - 2,
                    y - 12,
                    text_w(t) + 4,
                    xml_escape(t)
                );
            }
            Row::Caption(t) => {
                let color = if t.starts_with("leak") || t.starts_with('…') {
                    "#c0182a"
                } else {
                    "#333333"
                };
                let _ = writeln!(
                    s,
                    r#"<text x="{MARGIN}" y="{y}" fill="{color}" font-weight="bold">{}</text>"#,
                    xml_escape(t)
                );
            }
            Row::JobStart(j) => {
                let x = xs[idx(&Lane::Job(*j))];
                let label = format!("job {j}");
                let w = text_w(&label) + 12;
                let top = y_of(i) + 2;
                let _ = writeln!(
                    s,
                    r##"<rect x="{}" y="{top}" width="{w}" height="18" rx="3" fill="#fff6d5" stroke="#555555"/><text x="{x}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"##,
                    x - w / 2,
                    top + 13,
                    xml_escape(&label)
                );
            }
            Row::Note { on, text, kind } => {
                let x = xs[idx(on)] + 10;
                let (fill, stroke, color) = match kind {
                    NoteKind::Info => ("#f4f4f4", "#bbbbbb", "#333333"),
                    NoteKind::Sleep => ("#cfe3ff", "#4a78c2", "#16345f"),
                    NoteKind::Error => ("#fde2e2", "#c0182a", "#8a0f1c"),
                };
                let w = text_w(text) + 10;
                let _ = writeln!(
                    s,
                    r##"<rect x="{x}" y="{}" width="{w}" height="17" rx="3" fill="{fill}" stroke="{stroke}"/><text x="{}" y="{y}" fill="{color}">{}</text>"##,
                    y - 12,
                    x + 5,
                    xml_escape(text)
                );
            }
            Row::Arrow {
                from,
                to,
                label,
                kind,
            } => {
                let (xa, xb) = (xs[idx(from)], xs[idx(to)]);
                let st = arrow_style(*kind);
                let dash = if st.dash.is_empty() {
                    String::new()
                } else {
                    format!(r#" stroke-dasharray="{}""#, st.dash)
                };
                let ya = y + 2;
                let xe = if xb > xa { xb - 2 } else { xb + 2 };
                let _ = writeln!(
                    s,
                    r#"<line x1="{xa}" y1="{ya}" x2="{xe}" y2="{ya}" stroke="{}" stroke-width="{}"{dash} marker-end="url(#m-{})"/>"#,
                    st.color,
                    st.width,
                    marker_id(*kind)
                );
                let mid = (xa + xb) / 2;
                let w = text_w(label) + 6;
                let _ = writeln!(
                    s,
                    r##"<rect x="{}" y="{}" width="{w}" height="13" fill="white" fill-opacity="0.9"/><text x="{mid}" y="{}" text-anchor="middle" fill="{}">{}</text>"##,
                    mid - w / 2,
                    ya - 14,
                    ya - 4,
                    if *kind == ArrowKind::Return {
                        "#444444"
                    } else {
                        st.color
                    },
                    xml_escape(label)
                );
            }
        }
    }

    // The legend.
    for (i, (k, id, text)) in KINDS.iter().enumerate() {
        let col = (i % 4) as i64;
        let row = (i / 4) as i64;
        let x = MARGIN + col * LEGEND_COL;
        let y = legend_top + row * 22;
        let st = arrow_style(*k);
        let dash = if st.dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{}""#, st.dash)
        };
        let _ = writeln!(
            s,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="{}"{dash} marker-end="url(#m-{id})"/><text x="{}" y="{}">{}</text>"#,
            x + 36,
            st.color,
            st.width,
            x + 44,
            y + 4,
            xml_escape(text)
        );
    }
    let y = legend_top + 44;
    let _ = writeln!(
        s,
        r##"<rect x="{MARGIN}" y="{}" width="12" height="14" fill="#cfe3ff" stroke="#4a78c2"/><text x="{}" y="{}">a job asleep in tsleep (its read blocked)</text>"##,
        y - 10,
        MARGIN + 20,
        y + 2
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            xml_escape("ip4:10.0.0.1>10.0.0.2 <OPEN> & \"q\" 'a'"),
            "ip4:10.0.0.1&gt;10.0.0.2 &lt;OPEN&gt; &amp; &quot;q&quot; &apos;a&apos;"
        );
        assert_eq!(xml_escape("a\u{1}b"), "a\u{fffd}b");
    }

    #[test]
    fn flag_changes() {
        let b = TunFlags::TUN_OPEN | TunFlags::TUN_INITED;
        assert_eq!(flags_change(b, b | TunFlags::TUN_RWAIT), "tun_flags +RWAIT");
        assert_eq!(flags_change(b, b), "");
        assert_eq!(
            flags_change(b | TunFlags::TUN_RWAIT, TunFlags::TUN_INITED),
            "tun_flags -OPEN,-RWAIT"
        );
    }

    #[test]
    fn labels_are_clipped() {
        let long = "x".repeat(200);
        let c = clip(&long);
        assert_eq!(c.chars().count(), MAX_LABEL);
        assert!(c.ends_with('…'));
    }

    #[test]
    fn rows_are_capped() {
        let mut r = Recorder::new();
        for _ in 0..MAX_ROWS + 10 {
            r.comment("# c");
        }
        assert_eq!(r.rows().len(), MAX_ROWS + 1);
        assert!(matches!(r.rows().last(), Some(Row::Caption(_))));
    }
}
