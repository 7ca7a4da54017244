//! `tunsim`: run tun scenarios against the Rust port of if_tun.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run tun scenarios (scenario-language.md) against the Rust port of DragonFly's if_tun.
#[derive(Parser)]
#[command(name = "tunsim", version, about)]
struct Cli {
    /// Add a line for each driver entry point entered and left, with the softc flags
    /// before and after (a teaching aid; transcripts then differ from the oracle's).
    #[arg(long, global = true)]
    trace: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the transcript of each scenario FILE ('-' reads standard input).
    Run {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run every NN-name.tun in DIR and compare with NN-name.out; exit 1 on any difference.
    Check {
        /// Directory of scenarios and golden transcripts.
        dir: PathBuf,
    },
    /// Read commands interactively and print each result as it goes.
    Repl,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { files } => {
            for f in files {
                let text = if f.as_os_str() == "-" {
                    let mut s = String::new();
                    if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                        eprintln!("tunsim: stdin: {e}");
                        return ExitCode::from(2);
                    }
                    s
                } else {
                    match std::fs::read_to_string(&f) {
                        Ok(s) => s,
                        Err(e) => {
                            eprintln!("tunsim: {}: {e}", f.display());
                            return ExitCode::from(2);
                        }
                    }
                };
                print!("{}", tunsim::run_scenario(&text, cli.trace));
            }
            ExitCode::SUCCESS
        }
        Cmd::Check { dir } => match tunsim::check::check_dir(&dir) {
            Ok(results) => {
                let bad = results.iter().filter(|r| r.diff.is_some()).count();
                for r in &results {
                    match &r.diff {
                        None => println!("ok   {}", r.scenario.display()),
                        Some(d) => {
                            println!("FAIL {}", r.scenario.display());
                            print!("{d}");
                        }
                    }
                }
                println!(
                    "{} passed, {} failed",
                    results.len() - bad,
                    bad
                );
                if bad == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("tunsim: {}: {e}", dir.display());
                ExitCode::from(2)
            }
        },
        Cmd::Repl => {
            let mut sim = tunsim::Sim::new(cli.trace);
            let stdin = std::io::stdin();
            let mut out = std::io::stdout();
            let _ = write!(out, "tun> ");
            let _ = out.flush();
            for line in stdin.lock().lines() {
                let Ok(line) = line else { break };
                sim.exec_line(&line);
                let _ = write!(out, "{}tun> ", sim.take_output());
                let _ = out.flush();
            }
            sim.finish();
            print!("\n{}", sim.take_output());
            ExitCode::SUCCESS
        }
    }
}
