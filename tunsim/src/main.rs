// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim`: run tun scenarios against the Rust port of if_tun, or watch it carry real
//! packets (`tunsim demo`, the default; `tunsim bridge`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::RangedU64ValueParser;
use clap::{Parser, Subcommand};

use tunsim::net::demo::MAX_TCP_BYTES;

/// The most pings `tunsim bridge` sends (one a second): ten minutes' worth.
const MAX_PINGS: u32 = 600;

/// Run tun scenarios (scenario-language.md) against the Rust port of DragonFly's if_tun,
/// or watch it carry real packets between two TCP/IP stacks (the default: `demo`).
#[derive(Parser)]
#[command(name = "tunsim", version, about)]
struct Cli {
    /// Add a line for each driver entry point entered and left, with the softc flags
    /// before and after (a teaching aid; transcripts then differ from the oracle's).
    #[arg(long, global = true)]
    trace: bool,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the transcript of each scenario FILE ('-' reads standard input).
    Run {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also draw the scenario as a sequence chart (SVG) into this file: the user
        /// process and its sleeping reads, the driver's entry points, the interface, the
        /// stack, with the sleeps, wakeups and signals. Takes one scenario FILE.
        #[arg(long, value_name = "FILE.svg")]
        diagram: Option<PathBuf>,
    },
    /// Run every NN-name.tun in DIR and compare with NN-name.out; exit 1 on any difference.
    Check {
        /// Directory of scenarios and golden transcripts.
        dir: PathBuf,
    },
    /// Read commands interactively and print each result as it goes (line editing and
    /// history on a terminal; `help` and `help COMMAND`; a caret under a syntax error).
    Repl,
    /// tun0 between two smoltcp stacks: pings, 1 MiB over TCP, a narrated driver trace and
    /// tun0.pcap (the default command; needs no root).
    Demo {
        /// Where to write the capture.
        #[arg(long, default_value = "tun0.pcap")]
        pcap: PathBuf,
        /// Framing on /dev/tun0: plain, lmode or ifhead.
        #[arg(long, default_value = "plain")]
        framing: String,
        /// Bytes to send over TCP (0 to 67108864, 64 MiB).
        #[arg(
            long,
            default_value_t = 1 << 20,
            allow_negative_numbers = true,
            value_parser = RangedU64ValueParser::<usize>::new().range(0..=MAX_TCP_BYTES as u64)
        )]
        bytes: usize,
    },
    /// Join the driver's user side to a real Linux TUN in a new network namespace and ping
    /// across it (needs root and /dev/net/tun; the namespace is removed on exit).
    Bridge {
        /// Pings to send from the namespace (1 to 600, one a second).
        #[arg(
            long,
            default_value_t = 5,
            allow_negative_numbers = true,
            value_parser = RangedU64ValueParser::<u32>::new().range(1..=u64::from(MAX_PINGS))
        )]
        count: u32,
    },
    /// TCP through the driver vs the same two smoltcp stacks joined by a bare in-memory
    /// pipe: the same transfer both ways, RUNS times; prints each throughput, the ratio and
    /// their distribution (issue 11; build with --release for meaningful figures).
    BenchTcp {
        /// Bytes per transfer (1 to 67108864, 64 MiB).
        #[arg(
            long,
            default_value_t = 4 << 20,
            allow_negative_numbers = true,
            value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_TCP_BYTES as u64)
        )]
        bytes: usize,
        /// Rounds (1 to 1000); each does both directions, driver and pipe.
        #[arg(
            long,
            default_value_t = 7,
            allow_negative_numbers = true,
            value_parser = RangedU64ValueParser::<usize>::new().range(1..=1000)
        )]
        runs: usize,
        /// Framing on /dev/tun0: plain, lmode or ifhead.
        #[arg(long, default_value = "plain")]
        framing: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cmd = cli.cmd.unwrap_or(Cmd::Demo {
        pcap: PathBuf::from("tun0.pcap"),
        framing: "plain".into(),
        bytes: 1 << 20,
    });
    match cmd {
        Cmd::Demo {
            pcap,
            framing,
            bytes,
        } => {
            let framing = match framing.to_ascii_lowercase().as_str() {
                "plain" => tunsim::net::peer::Framing::Plain,
                "lmode" => tunsim::net::peer::Framing::Lmode,
                "ifhead" => tunsim::net::peer::Framing::Ifhead,
                other => {
                    eprintln!("tunsim: unknown framing {other:?} (plain, lmode, ifhead)");
                    return ExitCode::from(2);
                }
            };
            let opts = tunsim::net::demo::DemoOptions {
                pcap,
                framing,
                tcp_bytes: bytes,
                ..Default::default()
            };
            match tunsim::net::demo::run_demo(&opts, &mut std::io::stdout()) {
                Ok(s) if s.mbufs_live == 0 => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("tunsim demo: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Bridge { count } => bridge(count),
        Cmd::BenchTcp {
            bytes,
            runs,
            framing,
        } => match parse_framing(&framing) {
            Some(f) => bench_tcp(bytes, runs, f),
            None => {
                eprintln!("tunsim: unknown framing {framing:?} (plain, lmode, ifhead)");
                ExitCode::from(2)
            }
        },
        Cmd::Run {
            files,
            diagram: Some(svg),
        } => run_with_diagram(&files, &svg, cli.trace),
        Cmd::Run {
            files,
            diagram: None,
        } => {
            // Each transcript line goes out as it is made; the input is read line by line.
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for f in files {
                let (name, r) = if f.as_os_str() == "-" {
                    let r = tunsim::scenario::run_scenario_stream(
                        std::io::stdin().lock(),
                        &mut out,
                        cli.trace,
                    );
                    ("stdin".to_string(), r)
                } else {
                    let r = std::fs::File::open(&f).and_then(|file| {
                        tunsim::scenario::run_scenario_stream(
                            std::io::BufReader::new(file),
                            &mut out,
                            cli.trace,
                        )
                    });
                    (f.display().to_string(), r)
                };
                if let Err(code) = finish_run(&name, r, &mut out) {
                    return code;
                }
            }
            ExitCode::SUCCESS
        }
        Cmd::Check { dir } => match tunsim::scenario::check::check_dir(&dir) {
            Ok(results) => {
                let bad = results.iter().filter(|r| !r.passed()).count();
                for r in &results {
                    print!("{r}");
                }
                println!("{} passed, {} failed", results.len() - bad, bad);
                if bad == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("tunsim check: cannot list {}: {e}", dir.display());
                ExitCode::from(2)
            }
        },
        Cmd::Repl => {
            tunsim::repl::run(cli.trace);
            ExitCode::SUCCESS
        }
    }
}

/// `tunsim run --diagram SVG FILE`: the transcript on standard output as without
/// `--diagram`, and the sequence chart of the one scenario in `svg`.
fn run_with_diagram(files: &[PathBuf], svg: &std::path::Path, trace: bool) -> ExitCode {
    let [f] = files else {
        eprintln!(
            "tunsim: --diagram draws one scenario, but {} files were given",
            files.len()
        );
        return ExitCode::from(2);
    };
    // Created first, so that a path that cannot be written fails before anything runs.
    let mut svg_file = match std::fs::File::create(svg) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("tunsim: cannot create diagram {}: {e}", svg.display());
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (name, (r, chart)) = if f.as_os_str() == "-" {
        let r = tunsim::scenario::run_scenario_diagram(
            std::io::stdin().lock(),
            &mut out,
            trace,
            "stdin",
        );
        ("stdin".to_string(), r)
    } else {
        let name = f.display().to_string();
        match std::fs::File::open(f) {
            Ok(file) => {
                let r = tunsim::scenario::run_scenario_diagram(
                    std::io::BufReader::new(file),
                    &mut out,
                    trace,
                    &name,
                );
                (name, r)
            }
            Err(e) => {
                eprintln!("tunsim: {name}: {e}");
                drop(svg_file);
                let _ = std::fs::remove_file(svg);
                return ExitCode::from(2);
            }
        }
    };
    let written = svg_file
        .write_all(chart.as_bytes())
        .and_then(|()| svg_file.flush());
    if let Err(code) = finish_run(&name, r, &mut out) {
        return code;
    }
    if let Err(e) = written {
        eprintln!("tunsim: cannot write diagram {}: {e}", svg.display());
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

#[cfg(target_os = "linux")]
fn bridge(count: u32) -> ExitCode {
    if let Err(why) = tunsim::net::bridge::available() {
        eprintln!("tunsim bridge: cannot run: {why}");
        return ExitCode::from(2);
    }
    println!(
        "bridge: netns with a Linux TUN ({}) <-> /dev/tun0 <-> smoltcp on tun0 ({})",
        tunsim::net::stack::fmt_ip(tunsim::net::bridge::LINUX_ADDR),
        tunsim::net::stack::fmt_ip(tunsim::net::bridge::TUN0_ADDR)
    );
    match tunsim::net::bridge::run_ping_check(count) {
        Ok(r) => {
            print!("{}", r.ping_output);
            println!(
                "bridge: {} packets Linux -> tun0, {} packets tun0 -> Linux; mbufs leaked = {}; namespace removed",
                r.from_linux, r.to_linux, r.mbufs_live
            );
            if r.ping_ok && r.mbufs_live == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("tunsim bridge: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn bridge(_count: u32) -> ExitCode {
    eprintln!("tunsim bridge: cannot run: the bridge needs Linux");
    ExitCode::from(2)
}

/// Flushes a scenario's transcript after its run `r`; on a failure of either, the exit
/// code: 1 quietly when the reader of standard output went away (a broken pipe), else 2
/// with the error named after scenario `name`.
fn finish_run(name: &str, r: std::io::Result<()>, out: &mut impl Write) -> Result<(), ExitCode> {
    match r.and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = out.flush();
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Err(ExitCode::FAILURE);
            }
            eprintln!("tunsim: {name}: {e}");
            Err(ExitCode::from(2))
        }
    }
}

fn parse_framing(s: &str) -> Option<tunsim::net::peer::Framing> {
    match s.to_ascii_lowercase().as_str() {
        "plain" => Some(tunsim::net::peer::Framing::Plain),
        "lmode" => Some(tunsim::net::peer::Framing::Lmode),
        "ifhead" => Some(tunsim::net::peer::Framing::Ifhead),
        _ => None,
    }
}

fn bench_tcp(bytes: usize, runs: usize, framing: tunsim::net::peer::Framing) -> ExitCode {
    use tunsim::net::peer::Direction;
    let name = |d: Direction| match d {
        Direction::HostToPeer => "host->peer (tunoutput/tunread)",
        Direction::PeerToHost => "peer->host (tunwrite/netisr)",
    };
    let mbit = |bps: f64| bps * 8.0 / 1e6;
    println!(
        "bench-tcp: {bytes} bytes per transfer, {runs} rounds, {} framing; driver = two smoltcp stacks through tun0 (the daemon a blocking reader thread, or polling with IO_NDELAY in the pump's thread), pipe = the same stacks joined in memory",
        framing.name()
    );
    let dirs = [Direction::HostToPeer, Direction::PeerToHost];
    let res = tunsim::net::pipe::bench_tcp(bytes, runs, framing, &dirs, |r| {
        println!(
            "  {:<32} driver: thread {:>8.1} Mbit/s, polling {:>8.1} Mbit/s   pipe {:>8.1} Mbit/s   ratios {:.2} / {:.2}   retransmissions {} (after a timeout {}), pipe {}",
            name(r.dir),
            mbit(r.tunnel_bps),
            mbit(r.polled_bps),
            mbit(r.pipe_bps),
            r.ratio(),
            r.polled_ratio(),
            r.tunnel_rtx,
            r.tunnel_timeouts,
            r.pipe_rtx
        );
    });
    let runs = match res {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tunsim bench-tcp: {e}");
            return ExitCode::FAILURE;
        }
    };
    let med = |mut v: Vec<f64>| -> (f64, f64, f64) {
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        let m = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        (m, v[0], v[n - 1])
    };
    let mut ok = true;
    println!(
        "summary (median, min..max over {} rounds):",
        runs.len() / dirs.len()
    );
    for d in dirs {
        let rs: Vec<_> = runs.iter().filter(|r| r.dir == d).collect();
        let (t, tl, th) = med(rs.iter().map(|r| mbit(r.tunnel_bps)).collect());
        let (o, ol, oh) = med(rs.iter().map(|r| mbit(r.polled_bps)).collect());
        let (p, pl, ph) = med(rs.iter().map(|r| mbit(r.pipe_bps)).collect());
        let (q, ql, qh) = med(rs.iter().map(|r| r.ratio()).collect());
        let (v, vl, vh) = med(rs.iter().map(|r| r.polled_ratio()).collect());
        let stalls: usize = rs.iter().map(|r| r.tunnel_timeouts).sum();
        let rtx: usize = rs.iter().map(|r| r.tunnel_rtx).sum();
        let verdict = |x: f64| if x >= 0.8 { "met" } else { "missed" };
        println!(
            "  {:<32} pipe {p:.1} Mbit/s ({pl:.1}..{ph:.1}); stalls {stalls}, retransmissions {rtx}",
            name(d)
        );
        println!(
            "  {:<32}   reader thread:   driver {t:.1} Mbit/s ({tl:.1}..{th:.1})   ratio {q:.2} ({ql:.2}..{qh:.2})   target >= 0.80: {}",
            "",
            verdict(q)
        );
        println!(
            "  {:<32}   polling daemon:  driver {o:.1} Mbit/s ({ol:.1}..{oh:.1})   ratio {v:.2} ({vl:.2}..{vh:.2})   target >= 0.80: {}",
            "",
            verdict(v)
        );
        ok &= stalls == 0;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
