// SPDX-License-Identifier: BSD-2-Clause
//! The sequence charts of `tunsim run --diagram` (issue 12 §3): the lifelines, a blocking
//! read's sleep, wakeup and result in that order, signals, XML escaping, determinism, the
//! transcript left unchanged, and the command line's error paths.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tunsim::scenario::diagram::{ArrowKind, Lane, NoteKind, Row};
use tunsim::scenario::{run_scenario_diagram, Sim};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios")
}

/// The chart's rows for a scenario text.
fn rows(text: &str) -> Vec<Row> {
    let mut sim = Sim::new(false);
    sim.enable_diagram();
    for l in text.lines() {
        sim.exec_line(l);
    }
    sim.finish();
    sim.diagram().unwrap().rows().to_vec()
}

fn chart(text: &str, title: &str) -> (String, String) {
    let mut out = Vec::new();
    let (r, svg) = run_scenario_diagram(text.as_bytes(), &mut out, false, title);
    r.unwrap();
    (String::from_utf8(out).unwrap(), svg)
}

fn position(rows: &[Row], what: &str, f: impl Fn(&Row) -> bool) -> usize {
    rows.iter()
        .position(f)
        .unwrap_or_else(|| panic!("no {what} in {rows:#?}"))
}

const BLOCKING: &str = "open tun0
ifioctl tun0 SIOCSIFADDR 10.0.0.1
read tun0 2000
if_output tun0 inet:10.0.0.2 ip4:10.0.0.1>10.0.0.2 cafe
close tun0
";

#[test]
fn a_blocking_read_sleeps_then_is_woken_by_the_output_then_returns() {
    let rows = rows(BLOCKING);
    let call = position(
        &rows,
        "the read's call",
        |r| matches!(r, Row::Arrow { from: Lane::Pid(100), to: Lane::Entry("tunread"), kind: ArrowKind::Call, label } if label == "read tun0 2000"),
    );
    let sleep = position(
        &rows,
        "the tsleep",
        |r| matches!(r, Row::Note { on: Lane::Entry("tunread"), kind: NoteKind::Sleep, text } if text.contains("tsleep") && text.contains("\"tunread\"")),
    );
    let blocked = position(
        &rows,
        "the blocked return",
        |r| matches!(r, Row::Arrow { from: Lane::Entry("tunread"), to: Lane::Pid(100), kind: ArrowKind::Return, label } if label.starts_with("= blocked (job 1)") && label.contains("+RWAIT")),
    );
    let start = position(&rows, "job 1's lifeline", |r| *r == Row::JobStart(1));
    let output = position(&rows, "the output's call", |r| {
        matches!(
            r,
            Row::Arrow {
                from: Lane::Stack,
                to: Lane::Entry("tunoutput"),
                kind: ArrowKind::Call,
                ..
            }
        )
    });
    let enqueue = position(
        &rows,
        "the enqueue",
        |r| matches!(r, Row::Arrow { from: Lane::Entry("tunoutput"), to: Lane::Iface(i), kind: ArrowKind::Queue, label } if i == "tun0" && label.starts_with("enqueue tun0: len=22")),
    );
    let wakeup = position(
        &rows,
        "the wakeup arrow",
        |r| matches!(r, Row::Arrow { from: Lane::Entry("tunoutput"), to: Lane::Job(1), kind: ArrowKind::Wakeup, label } if label.contains("wakeup tun0 (sleepers=1)")),
    );
    let done = position(
        &rows,
        "job 1's result",
        |r| matches!(r, Row::Arrow { from: Lane::Entry("tunread"), to: Lane::Job(1), kind: ArrowKind::Return, label } if label.starts_with("job 1 = 22 bytes: 45000016")),
    );
    let order = [call, sleep, blocked, start, output, enqueue, wakeup, done];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "out of order: {order:?}"
    );
}

#[test]
fn the_svg_has_every_lifeline_and_the_sleep_and_wakeup_in_order() {
    let text = fs::read_to_string(scenarios_dir().join("02-output-read.tun")).unwrap();
    let (_, svg) = chart(&text, "02-output-read.tun");
    for head in [
        ">pid 100<",
        ">user process<",
        ">job 1<",
        ">tunopen<",
        ">tunclose<",
        ">tunread<",
        ">tunioctl<",
        ">tunoutput<",
        ">tunifioctl<",
        ">tun0<",
        ">stack<",
    ] {
        assert!(svg.contains(head), "no lifeline {head}");
    }
    let at = |s: &str| svg.find(s).unwrap_or_else(|| panic!("no {s:?} in the SVG"));
    let sleep = at("tsleep(sc, PCATCH, &quot;tunread&quot;)");
    let wake = at("wakeup tun0 (sleepers=1): job 1 runnable");
    let done = at("job 1 = 22 bytes: 45000016");
    assert!(sleep < wake && wake < done);
    // The wakeup is drawn in its own colour, with an arrowhead.
    assert!(svg.contains(r##"stroke="#e07000" stroke-width="2.4" marker-end="url(#m-wake)""##));
}

#[test]
fn signals_end_sleeps_and_an_output_with_no_sleeper_wakes_nobody() {
    let text = fs::read_to_string(scenarios_dir().join("12-blocking-read.tun")).unwrap();
    let rows = rows(&text);
    let sig = position(
        &rows,
        "the interrupt",
        |r| matches!(r, Row::Arrow { from: Lane::Pid(100), to: Lane::Job(1), kind: ArrowKind::Signal, label } if label.contains("EINTR")),
    );
    let eintr = position(
        &rows,
        "job 1 = EINTR",
        |r| matches!(r, Row::Arrow { to: Lane::Job(1), label, .. } if label == "job 1 = EINTR"),
    );
    assert!(sig < eintr);
    position(
        &rows,
        "the stale RWAIT's wakeup",
        |r| matches!(r, Row::Note { on: Lane::Entry("tunoutput"), text, .. } if text == "wakeup tun0 (sleepers=0): nobody asleep"),
    );
    position(
        &rows,
        "the restart",
        |r| matches!(r, Row::Arrow { to: Lane::Job(2), kind: ArrowKind::Signal, label, .. } if label.contains("ERESTART")),
    );
    // SIGIO goes to the owner process.
    let text = fs::read_to_string(scenarios_dir().join("10-sigio.tun")).unwrap();
    let rows = self::rows(&text);
    position(
        &rows,
        "a SIGIO arrow",
        |r| matches!(r, Row::Arrow { kind: ArrowKind::Signal, label, to: Lane::Pid(_), .. } if label.starts_with("SIGIO -> pid")),
    );
}

#[test]
fn several_readers_each_get_a_lifeline() {
    let text = fs::read_to_string(scenarios_dir().join("24-multi-readers.tun")).unwrap();
    let rows = rows(&text);
    for j in 1..=6 {
        assert!(rows.contains(&Row::JobStart(j)), "job {j}");
    }
    // One wakeup of two sleepers: two arrows.
    let two = rows
        .iter()
        .filter(|r| matches!(r, Row::Arrow { kind: ArrowKind::Wakeup, label, .. } if label.starts_with("wakeup tun0 (sleepers=2)")))
        .count();
    assert_eq!(two, 2);
    position(&rows, "a job that sleeps again", |r| {
        matches!(
            r,
            Row::Note {
                kind: NoteKind::Sleep,
                on: Lane::Entry("tunread"),
                ..
            }
        )
    });
}

/// Checks that `svg` is made of tags and escaped text only: no `<`, `>` or bare `&` outside
/// tags, and every attribute value quoted without `<` or a stray `"`.
fn assert_well_escaped(svg: &str) {
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        assert!(!text.contains('>'), "a '>' in text: {text:?}");
        for (k, _) in text.match_indices('&') {
            let ent = &text[k..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| ent.starts_with(e)),
                "a bare '&' in text: {ent:?}"
            );
        }
        let tag_end = rest[i..].find('>').expect("a tag ends") + i;
        let tag = &rest[i + 1..tag_end];
        assert!(!tag.contains('<'), "a '<' in a tag: {tag:?}");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes: {tag:?}"
        );
        rest = &rest[tag_end + 1..];
    }
}

#[test]
fn text_is_xml_escaped() {
    let (_, svg) = chart(
        "# <script> & \"quotes\" 'too'\nopen tun0\nifioctl tun0 SIOCSIFADDR 10.0.0.1\nif_output tun0 inet:10.0.0.2 ip4:10.0.0.1>10.0.0.2 cafe\nbogus <&>\n",
        "a <title> & more",
    );
    assert!(svg.contains("# &lt;script&gt; &amp; &quot;quotes&quot; &apos;too&apos;"));
    assert!(svg.contains("ip4:10.0.0.1&gt;10.0.0.2"));
    assert!(!svg.contains("10.0.0.1>10.0.0.2"));
    assert!(svg.contains("a &lt;title&gt; &amp; more"));
    assert!(svg.contains("bogus &lt;&amp;&gt; ! error: unknown command &apos;bogus&apos;"));
    assert!(svg.starts_with("<?xml") && svg.ends_with("</svg>\n"));
    assert_well_escaped(&svg);
}

#[test]
fn every_scenario_charts_without_changing_its_transcript() {
    let mut n = 0;
    let mut entries: Vec<_> = fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tun"))
        .collect();
    entries.sort();
    for p in entries {
        let text = fs::read_to_string(&p).unwrap();
        let golden = fs::read_to_string(p.with_extension("out")).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let (transcript, svg) = chart(&text, &name);
        assert_eq!(transcript, golden, "{name}: the transcript changed");
        // With --trace too: the same transcript as without the chart.
        let mut out = Vec::new();
        let (r, _) = run_scenario_diagram(text.as_bytes(), &mut out, true, &name);
        r.unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            tunsim::scenario::run_scenario(&text, true),
            "{name}: the --trace transcript changed"
        );
        assert_well_escaped(&svg);
        assert!(svg.contains("end: mbufs live="), "{name}");
        n += 1;
    }
    assert!(n >= 37);
}

#[test]
fn the_chart_is_byte_identical_across_runs() {
    let text = fs::read_to_string(scenarios_dir().join("24-multi-readers.tun")).unwrap();
    let a = chart(&text, "t").1;
    let b = chart(&text, "t").1;
    assert_eq!(a, b);
    // And through the binary.
    let dir = tempdir("same");
    let f = dir.join("s.tun");
    fs::write(&f, BLOCKING).unwrap();
    let mut svgs = Vec::new();
    for i in 0..2 {
        let svg = dir.join(format!("{i}.svg"));
        let out = tunsim()
            .arg("run")
            .arg("--diagram")
            .arg(&svg)
            .arg(&f)
            .output()
            .unwrap();
        assert!(out.status.success());
        svgs.push(fs::read(&svg).unwrap());
    }
    assert_eq!(svgs[0], svgs[1]);
}

#[test]
fn huge_scenarios_are_cut_short_with_a_note() {
    let text = "# x\n".repeat(tunsim::scenario::diagram::MAX_ROWS + 50);
    let (_, svg) = chart(&text, "big");
    assert!(svg.contains("the chart stops here"));
}

fn tunsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tunsim"))
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tunsim-chart-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_command_line_prints_the_transcript_and_writes_the_chart() {
    let dir = tempdir("cli");
    let svg = dir.join("chart.svg");
    let src = scenarios_dir().join("02-output-read.tun");
    let out = tunsim()
        .arg("run")
        .arg("--diagram")
        .arg(&svg)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let golden = fs::read(scenarios_dir().join("02-output-read.out")).unwrap();
    assert_eq!(out.stdout, golden, "the transcript on stdout is unchanged");
    let chart = fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<?xml") && chart.contains("wakeup tun0 (sleepers=1)"));
    // Standard input works too.
    let mut cmd = tunsim();
    cmd.args(["run", "--diagram"])
        .arg(dir.join("stdin.svg"))
        .arg("-");
    let out = common::run_with_input(cmd, BLOCKING.as_bytes());
    assert!(out.status.success());
    assert!(fs::read_to_string(dir.join("stdin.svg"))
        .unwrap()
        .contains(">stdin<"));
}

#[test]
fn the_command_line_errors_are_clear() {
    let dir = tempdir("err");
    let src = scenarios_dir().join("01-open-close.tun");
    // A file that cannot be created: exit 2, the file named, nothing run.
    let bad = dir.join("no/such/dir/chart.svg");
    let out = tunsim()
        .arg("run")
        .arg("--diagram")
        .arg(&bad)
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot create diagram") && err.contains(&bad.display().to_string()),
        "{err}"
    );
    assert!(out.stdout.is_empty());
    // Several scenarios: one chart draws one scenario.
    let out = tunsim()
        .arg("run")
        .arg("--diagram")
        .arg(dir.join("x.svg"))
        .arg(&src)
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--diagram draws one scenario, but 2 files were given"));
    // A scenario that does not exist: exit 2, and no chart left behind.
    let svg = dir.join("gone.svg");
    let out = tunsim()
        .arg("run")
        .arg("--diagram")
        .arg(&svg)
        .arg(dir.join("missing.tun"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.tun"));
    assert!(!svg.exists());
}
