// SPDX-License-Identifier: BSD-2-Clause
//! Every `unsafe` block and `unsafe impl` of the kernel-side implementation (`kmock/linux`,
//! built by Kbuild, not by cargo) has a `// SAFETY:` comment right above it (on one of the
//! lines of the comment run that ends where the `unsafe` starts, or on the same line).

use std::fs;
use std::path::Path;

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The `unsafe` blocks and impls of `src` without a SAFETY comment: (line, text).
fn missing(src: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = src.lines().collect();
    let mut bad = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let code = l.split("//").next().unwrap_or("");
        let is_block = code.contains("unsafe {");
        let is_impl = code.trim_start().starts_with("unsafe impl");
        if !(is_block || is_impl) || l.contains("SAFETY:") {
            continue;
        }
        // Walk up over the statement's earlier lines and the comment run above it.
        let mut j = i;
        let mut ok = false;
        while j > 0 {
            j -= 1;
            let t = lines[j].trim();
            if t.contains("// SAFETY:") {
                ok = true;
                break;
            }
            if t.starts_with("//") || t.ends_with('(') || t.ends_with('=') || t.ends_with(',') {
                continue;
            }
            break;
        }
        if !ok {
            bad.push((i + 1, l.trim().to_string()));
        }
    }
    bad
}

#[test]
fn every_unsafe_in_kmock_linux_has_a_safety_comment() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("linux");
    let mut files = Vec::new();
    rs_files(&dir, &mut files);
    assert!(
        files.len() >= 10,
        "kmock/linux has its Rust files: {files:?}"
    );
    let mut seen = 0;
    let mut bad = Vec::new();
    for f in &files {
        let src = fs::read_to_string(f).unwrap();
        seen += src.matches("unsafe {").count() + src.matches("unsafe impl").count();
        for (line, text) in missing(&src) {
            bad.push(format!("{}:{line}: {text}", f.display()));
        }
    }
    assert!(seen > 0);
    assert!(
        bad.is_empty(),
        "unsafe without // SAFETY:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_finds_a_missing_comment() {
    let src = "fn f() {\n    let x = 1;\n    unsafe { g() };\n}\n// SAFETY: fine\nunsafe impl Send for X {}\n";
    assert_eq!(missing(src), vec![(3, "unsafe { g() };".to_string())]);
}
