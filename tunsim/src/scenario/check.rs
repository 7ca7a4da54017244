// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim check DIR`: run every `NN-name.tun` in a directory and compare its transcript
//! with `NN-name.out`.
//!
//! Each scenario is reported on its own — it passed, its transcript differs (with a
//! unified diff), or one of its two files could not be read (which one, and why) — and
//! the check goes on with the next; only a directory that cannot be listed stops it.

use std::fmt;
use std::path::{Path, PathBuf};

/// How one scenario fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its transcript equals the golden one.
    Pass,
    /// Its transcript differs: a unified diff, expected (`.out`) → actual.
    Mismatch(String),
    /// A file could not be read (the `.tun`, its `.out`, or a directory entry).
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why (the system's error, or "not UTF-8").
        reason: String,
    },
}

/// The outcome of checking one scenario.
#[derive(Clone, Debug)]
pub struct CheckResult {
    /// The scenario file.
    pub scenario: PathBuf,
    /// How it fared.
    pub outcome: Outcome,
}

impl CheckResult {
    /// Whether the transcript matched.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }

    /// The unified diff, when the transcript differs.
    pub fn diff(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Mismatch(d) => Some(d),
            _ => None,
        }
    }
}

impl fmt::Display for CheckResult {
    /// `ok   FILE`, `FAIL FILE: transcript differs from GOLDEN` and the diff, or
    /// `FAIL FILE: cannot read PATH: REASON`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.scenario.display();
        match &self.outcome {
            Outcome::Pass => writeln!(f, "ok   {s}"),
            Outcome::Mismatch(d) => write!(
                f,
                "FAIL {s}: transcript differs from {}\n{d}",
                self.scenario.with_extension("out").display()
            ),
            Outcome::Unreadable { path, reason } => {
                writeln!(f, "FAIL {s}: cannot read {}: {reason}", path.display())
            }
        }
    }
}

/// A directory entry that could not be read, and why.
type EntryError = (PathBuf, String);

/// The scenarios of `dir` (`*.tun`), sorted by name, and the entries of `dir` that could
/// not be read.
fn scenarios_and_errors(dir: &Path) -> std::io::Result<(Vec<PathBuf>, Vec<EntryError>)> {
    let mut v = Vec::new();
    let mut errors = Vec::new();
    for e in std::fs::read_dir(dir)? {
        match e {
            Ok(e) => {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "tun") {
                    v.push(p);
                }
            }
            Err(e) => errors.push((dir.to_path_buf(), e.to_string())),
        }
    }
    v.sort();
    Ok((v, errors))
}

/// The scenarios of `dir` (`*.tun`), sorted by name.
pub fn scenarios(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    Ok(scenarios_and_errors(dir)?.0)
}

fn read(path: &Path) -> Result<String, Outcome> {
    std::fs::read_to_string(path).map_err(|e| Outcome::Unreadable {
        path: path.to_path_buf(),
        reason: if e.kind() == std::io::ErrorKind::InvalidData {
            "not UTF-8 text".to_string()
        } else {
            e.to_string()
        },
    })
}

/// Runs one scenario and compares its transcript with `scenario`'s `.out`.
pub fn check_file(scenario: &Path) -> CheckResult {
    let outcome = (|| {
        let text = read(scenario)?;
        let golden = read(&scenario.with_extension("out"))?;
        let got = crate::scenario::run_scenario(&text, false);
        Ok(if got == golden {
            Outcome::Pass
        } else {
            Outcome::Mismatch(unified_diff(&golden, &got, scenario))
        })
    })()
    .unwrap_or_else(|e| e);
    CheckResult {
        scenario: scenario.to_path_buf(),
        outcome,
    }
}

/// Runs every scenario of `dir` and compares it with its golden transcript, one result
/// per scenario (and one per directory entry that could not be read); fails only when
/// `dir` itself cannot be listed.
pub fn check_dir(dir: &Path) -> std::io::Result<Vec<CheckResult>> {
    let (files, errors) = scenarios_and_errors(dir)?;
    let mut out: Vec<CheckResult> = files.iter().map(|s| check_file(s)).collect();
    out.extend(errors.into_iter().map(|(path, reason)| CheckResult {
        scenario: path.clone(),
        outcome: Outcome::Unreadable { path, reason },
    }));
    Ok(out)
}

/// A unified diff of two texts (whole-file hunk with 3 lines of context around changes).
pub fn unified_diff(expected: &str, actual: &str, path: &Path) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // Longest common subsequence table (scenario transcripts are small).
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let mut out = format!(
        "--- {} (expected)\n+++ {} (actual)\n",
        path.with_extension("out").display(),
        path.display()
    );
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, (c, _))| *c != ' ')
        .map(|(k, _)| k)
        .collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(3);
        let mut end = changed[k] + 3;
        while k + 1 < changed.len() && changed[k + 1] <= end + 3 {
            k += 1;
            end = changed[k] + 3;
        }
        let end = end.min(ops.len() - 1);
        let a0 = ops[..start].iter().filter(|(c, _)| *c != '+').count();
        let b0 = ops[..start].iter().filter(|(c, _)| *c != '-').count();
        let alen = ops[start..=end].iter().filter(|(c, _)| *c != '+').count();
        let blen = ops[start..=end].iter().filter(|(c, _)| *c != '-').count();
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            a0 + 1,
            alen,
            b0 + 1,
            blen
        ));
        for (c, l) in &ops[start..=end] {
            out.push(*c);
            out.push_str(l);
            out.push('\n');
        }
        k += 1;
    }
    out
}
