// SPDX-License-Identifier: BSD-2-Clause
//! `tunsim check DIR` reports every scenario on its own and goes on: a good one passes, a
//! mismatching one fails with its name and a unified diff, one it cannot read (a `.tun`
//! that is a directory, a dangling `.out` symlink, a missing `.out`, a `.tun` that is not
//! UTF-8) fails with the unreadable file's path and the reason — and the scenarios after
//! them are still checked. Exit 1 if any failed, 0 if none, 2 if DIR cannot be listed.
//! (Nothing here relies on permissions, which do not stop root.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tunsim::scenario::check::{check_dir, Outcome};

const GOOD: &str = "open tun0\nifioctl tun0 SIOCSIFADDR 10.0.0.1\nclose tun0\n";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("tunsim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }

    fn scenario(&self, name: &str, tun: &str, out: Option<&str>) {
        std::fs::write(self.0.join(format!("{name}.tun")), tun).unwrap();
        if let Some(out) = out {
            std::fs::write(self.0.join(format!("{name}.out")), out).unwrap();
        }
    }

    fn good(&self, name: &str) {
        self.scenario(name, GOOD, Some(&tunsim::run_scenario(GOOD, false)));
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tunsim"))
        .arg("check")
        .arg(dir)
        .output()
        .expect("run tunsim check")
}

/// The directory of the test: two good scenarios around five failing ones.
fn mixed(name: &str) -> TempDir {
    let t = TempDir::new(name);
    t.good("01-good");
    // Runs, but the golden transcript expects something else.
    t.scenario("02-mismatch", GOOD, Some("> open tun0\n  = ok\n"));
    // A `.tun` that is a directory: unreadable, even as root.
    std::fs::create_dir(t.0.join("03-dir.tun")).unwrap();
    std::fs::write(t.0.join("03-dir.out"), "").unwrap();
    // A `.out` that is a dangling symlink.
    t.scenario("04-dangling", GOOD, None);
    #[cfg(unix)]
    std::os::unix::fs::symlink(t.0.join("no-such-file"), t.0.join("04-dangling.out")).unwrap();
    // No `.out` at all.
    t.scenario("05-no-out", GOOD, None);
    // Not UTF-8.
    std::fs::write(t.0.join("06-binary.tun"), b"open tun0\n\xff\xfe\n").unwrap();
    std::fs::write(t.0.join("06-binary.out"), "").unwrap();
    t.good("07-after");
    t
}

#[test]
fn each_file_is_reported_and_the_check_goes_on() {
    let t = mixed("check-mixed-bin");
    let d = &t.0;
    let out = check(d);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}{err}");
    let p = |name: &str| d.join(name).display().to_string();
    let lines: Vec<&str> = text.lines().collect();
    let has = |s: &str| assert!(lines.contains(&s), "no line {s:?} in\n{text}");
    has(&format!("ok   {}", p("01-good.tun")));
    has(&format!(
        "FAIL {}: transcript differs from {}",
        p("02-mismatch.tun"),
        p("02-mismatch.out")
    ));
    has(&format!("--- {} (expected)", p("02-mismatch.out")));
    has(&format!("+++ {} (actual)", p("02-mismatch.tun")));
    assert!(text.contains("\n+  if_attach tun0\n"), "{text}");
    let unreadable = |tun: &str, file: &str| {
        let head = format!("FAIL {}: cannot read {}: ", p(tun), p(file));
        let line = lines
            .iter()
            .find(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("no line {head:?}... in\n{text}"));
        line[head.len()..].to_string()
    };
    let why = unreadable("03-dir.tun", "03-dir.tun");
    assert!(why.contains("directory"), "{why}");
    #[cfg(unix)]
    {
        let why = unreadable("04-dangling.tun", "04-dangling.out");
        assert!(why.contains("No such file"), "{why}");
    }
    let why = unreadable("05-no-out.tun", "05-no-out.out");
    assert!(why.contains("No such file"), "{why}");
    assert_eq!(
        unreadable("06-binary.tun", "06-binary.tun"),
        "not UTF-8 text"
    );
    // The one after the failures was still run, and the tally counts each file once.
    has(&format!("ok   {}", p("07-after.tun")));
    assert_eq!(lines.last(), Some(&"2 passed, 5 failed"), "{text}");
    // Reports come in file order; none went to stderr.
    let order: Vec<usize> = ["01-", "02-", "03-", "04-", "05-", "06-", "07-"]
        .iter()
        .map(|n| text.find(&p(n)).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn the_library_gives_one_outcome_per_file() {
    let t = mixed("check-mixed-lib");
    let r = check_dir(&t.0).expect("the directory is listed");
    let names: Vec<String> = r
        .iter()
        .map(|r| {
            r.scenario
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "01-good.tun",
            "02-mismatch.tun",
            "03-dir.tun",
            "04-dangling.tun",
            "05-no-out.tun",
            "06-binary.tun",
            "07-after.tun"
        ]
    );
    assert!(r[0].passed() && r[6].passed());
    assert!(r[1].diff().is_some_and(|d| d.contains("@@ -1,2 +1,")));
    for (i, file) in [
        (2, "03-dir.tun"),
        (3, "04-dangling.out"),
        (4, "05-no-out.out"),
        (5, "06-binary.tun"),
    ] {
        match &r[i].outcome {
            Outcome::Unreadable { path, .. } => assert_eq!(path, &t.0.join(file)),
            o => panic!("{}: {o:?}", names[i]),
        }
    }
}

#[test]
fn all_good_exits_0_and_an_unlistable_directory_exits_2() {
    let t = TempDir::new("check-good");
    t.good("01-a");
    t.good("02-b");
    let out = check(&t.0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.ends_with("2 passed, 0 failed\n"), "{text}");

    let missing = t.0.join("no-such-dir");
    let out = check(&missing);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("cannot list {}", missing.display())),
        "{err}"
    );
}
