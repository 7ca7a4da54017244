// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim check DIR`: run every `NN-name.tun` in a directory and compare its transcript
//! with `NN-name.out`.

use std::path::{Path, PathBuf};

/// The outcome of checking one scenario.
pub struct CheckResult {
    /// The scenario file.
    pub scenario: PathBuf,
    /// `None` when the transcript matched; else a unified diff (expected → actual).
    pub diff: Option<String>,
}

/// The scenarios of `dir` (`*.tun` with a sibling `.out`), sorted by name.
pub fn scenarios(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tun"))
        .collect();
    v.sort();
    Ok(v)
}

/// Runs every scenario of `dir` and compares it with its golden transcript.
pub fn check_dir(dir: &Path) -> std::io::Result<Vec<CheckResult>> {
    let mut out = Vec::new();
    for s in scenarios(dir)? {
        let text = std::fs::read_to_string(&s)?;
        let golden = std::fs::read_to_string(s.with_extension("out"))?;
        let got = crate::scenario::run_scenario(&text, false);
        let diff = (got != golden).then(|| unified_diff(&golden, &got, &s));
        out.push(CheckResult { scenario: s, diff });
    }
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
