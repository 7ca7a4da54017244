// SPDX-License-Identifier: BSD-2-Clause
//! Deterministic allocation failure (kmock's per-kernel plan) on the open path: every
//! allocation `tunopen` makes on a first open (`tuncreate`: the interface, the sysctl
//! handle, the softc) fails in turn, by number and by call site, with `ENOMEM`; nothing
//! leaks and a retry succeeds.

use kernel::error::code::ENOMEM;
use kernel::Kernel;

fn boot() -> (Kernel, kernel::module::LoadedModule<if_tun::TunModule>) {
    let k = Kernel::new();
    k.proc_set(100, 100, 1, 0).unwrap();
    let m = kernel::module::load::<if_tun::TunModule>(&k).unwrap();
    (k, m)
}

/// The call sites of the allocations of a first open of tun0.
fn first_open_sites() -> Vec<String> {
    let (k, _m) = boot();
    k.trace_allocs(true);
    let fd = k.dev_open("tun0", 100).unwrap();
    let sites = k.alloc_trace();
    drop(fd);
    sites
}

#[test]
fn every_allocation_of_a_first_open_fails_by_number_with_enomem() {
    let sites = first_open_sites();
    assert!(sites.len() >= 3, "tuncreate allocates: {sites:?}");
    for nth in 1..=sites.len() as u64 {
        let (k, _m) = boot();
        k.fail_alloc_nth(nth);
        assert_eq!(
            k.dev_open("tun0", 100).unwrap_err(),
            ENOMEM,
            "allocation {nth}"
        );
        assert_eq!(k.alloc_failures(), 1);
        assert!(
            k.ifunit("tun0").is_none(),
            "no interface attached after failure {nth}"
        );
        // The plan fired once: the retry creates the unit.
        let fd = k.dev_open("tun0", 100).unwrap();
        assert!(k.ifunit("tun0").is_some());
        drop(fd);
        assert_eq!(k.mbufs().live(), 0);
    }
    // One past the last allocation of the open: nothing fails.
    let (k, _m) = boot();
    k.fail_alloc_nth(sites.len() as u64 + 1);
    let fd = k.dev_open("tun0", 100).unwrap();
    assert_eq!(k.alloc_failures(), 0);
    drop(fd);
}

#[test]
fn every_allocation_site_of_a_first_open_fails_until_cleared() {
    let sites = first_open_sites();
    assert!(sites.iter().all(|s| s.contains("if_tun.rs")), "{sites:?}");
    for site in &sites {
        let (k, _m) = boot();
        k.fail_alloc_at(site);
        assert_eq!(k.dev_open("tun0", 100).unwrap_err(), ENOMEM, "{site}");
        assert_eq!(k.dev_open("tun0", 100).unwrap_err(), ENOMEM, "{site} again");
        k.clear_alloc_faults();
        drop(k.dev_open("tun0", 100).unwrap());
        assert_eq!(k.mbufs().live(), 0);
    }
}

#[test]
fn tunattach_fails_with_enomem_when_its_first_allocation_fails() {
    let k = Kernel::new();
    k.fail_alloc_nth(1);
    assert_eq!(
        kernel::module::load::<if_tun::TunModule>(&k).err(),
        Some(ENOMEM)
    );
    assert!(k.devfs().lookup("tun").is_none());
}
