// SPDX-License-Identifier: BSD-2-Clause
//! Every diagram's SVG (`docs/diagrams/*.svg`, made by `make diagrams`) was rendered from
//! its current Graphviz source: the SVG carries the FNV-1a 64 hash of the `.dot` it came
//! from, so a source edited without re-rendering fails here.

use std::fs;
use std::path::Path;

fn fnv1a64(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}

#[test]
fn every_svg_matches_its_source() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagrams");
    let mut n = 0;
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "dot") {
            continue;
        }
        let src = fs::read(&p).unwrap();
        let svg_path = p.with_extension("svg");
        let svg = fs::read_to_string(&svg_path)
            .unwrap_or_else(|e| panic!("{}: no SVG ({e}); run `make diagrams`", p.display()));
        let want = format!("<!-- source-fnv1a64: {:016x} -->", fnv1a64(&src));
        assert!(
            svg.lines().take(3).any(|l| l == want),
            "{} is stale: rendered from another source; run `make diagrams`",
            svg_path.display()
        );
        assert!(svg.contains("<svg"), "{}: not an SVG", svg_path.display());
        n += 1;
    }
    assert!(
        n >= 4,
        "the four diagrams: write path, output path, tun_flags, crates"
    );
}

/// The sequence charts (`docs/diagrams/NAME.svg` drawn from `NAME.tun` by `make diagrams`,
/// that is `tunsim run --diagram`) are what tunsim draws today.
#[test]
fn every_sequence_chart_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagrams");
    let mut n = 0;
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "tun") {
            continue;
        }
        let src = fs::read(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let mut out = Vec::new();
        let (r, svg) = tunsim::scenario::run_scenario_diagram(&src[..], &mut out, false, &name);
        r.unwrap();
        let svg_path = p.with_extension("svg");
        let have = fs::read_to_string(&svg_path)
            .unwrap_or_else(|e| panic!("{}: no SVG ({e}); run `make diagrams`", p.display()));
        assert!(
            have == svg,
            "{} is stale: tunsim draws {name} differently now; run `make diagrams`",
            svg_path.display()
        );
        n += 1;
    }
    assert!(n >= 1, "the blocking read's chart");
}

#[test]
fn the_hash_is_fnv1a64() {
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
}
