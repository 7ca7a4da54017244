// SPDX-License-Identifier: BSD-2-Clause
//! Fuzzer inputs as scenarios (for `tools/fuzz-diff`), or their operations and a run.
//!
//! ```text
//! cargo run -q -p tunsim --example fuzz_scenario -- OUTDIR INPUT|DIR...  # OUTDIR/NAME.tun
//! cargo run -q -p tunsim --example fuzz_scenario -- --ops INPUT...    # decoded ops, run
//! ```
//!
//! With OUTDIR it writes one scenario per input that has at least one operation the
//! scenario language can express (identical scenarios once), and prints
//! `inputs=N written=W duplicate=D inexpressible=E ops=O expressed=X`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tunsim::fuzzops;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(first) = args.first() else {
        eprintln!("usage: fuzz_scenario OUTDIR INPUT... | --ops INPUT...");
        std::process::exit(2);
    };
    if first == "--ops" {
        for a in files(&args[1..]) {
            let data = std::fs::read(&a).unwrap_or_else(|e| panic!("{}: {e}", a.display()));
            let ops = fuzzops::decode(&data);
            println!(
                "== {}: {} bytes, {} ops",
                a.display(),
                data.len(),
                ops.len()
            );
            for op in &ops {
                let s = op
                    .scenario_lines()
                    .map_or("(not expressible)".to_string(), |l| l.join(" ; "));
                println!("  {s:<60} {op:?}");
            }
            println!("  -> {:?}", fuzzops::run(&ops));
        }
        return;
    }
    let out = Path::new(first);
    std::fs::create_dir_all(out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let (mut seen, mut written, mut dup, mut none, mut nops, mut nexp) =
        (BTreeSet::new(), 0, 0, 0, 0, 0);
    let inputs = files(&args[1..]);
    for a in &inputs {
        let data = std::fs::read(a).unwrap_or_else(|e| panic!("{}: {e}", a.display()));
        let ops = fuzzops::decode(&data);
        let (text, n) = fuzzops::scenario(&ops);
        nops += ops.len();
        nexp += n;
        if n == 0 {
            none += 1;
            continue;
        }
        if !seen.insert(text.clone()) {
            dup += 1;
            continue;
        }
        let name = a
            .file_name()
            .map_or("input".into(), |s| s.to_string_lossy().into_owned());
        let p = out.join(format!("{name}.tun"));
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        written += 1;
    }
    println!(
        "inputs={} written={written} duplicate={dup} inexpressible={none} ops={nops} expressed={nexp}",
        inputs.len()
    );
}

/// The files named, with a directory standing for its files (sorted).
fn files(args: &[String]) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for a in args {
        let p = PathBuf::from(a);
        if p.is_dir() {
            let mut d: Vec<PathBuf> = std::fs::read_dir(&p)
                .unwrap_or_else(|e| panic!("{a}: {e}"))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            d.sort();
            v.extend(d);
        } else {
            v.push(p);
        }
    }
    v
}
