// SPDX-License-Identifier: BSD-2-Clause
//! The RfL face's allocators fail on the kernel's plan: the n-th allocation (counted across
//! `KBox`, `KVec`, `Arc` and mbufs), or every allocation at a call site; outside any kernel
//! nothing fails.

use kmock::alloc::{flags::GFP_KERNEL, AllocError, KBox, KVec};
use kmock::bsd::mbuf::{m_get, m_gethdr, MB_DONTWAIT, MT_DATA};
use kmock::event::Event;
use kmock::sync::Arc;
use kmock::Kernel;

#[test]
fn the_nth_allocation_fails_once_whatever_its_kind() {
    let k = Kernel::new();
    let _c = k.enter(1);
    k.record_events(true);
    let base = k.alloc_count();
    k.fail_alloc_nth(3);
    let a = KBox::new(1u32, GFP_KERNEL); // 1
    let b = m_gethdr(MB_DONTWAIT, MT_DATA); // 2
    let c = Arc::new(2u64, GFP_KERNEL); // 3: fails
    let mut v = KVec::new();
    let d = v.push(7u8, GFP_KERNEL); // 4
    let e = m_get(MB_DONTWAIT, MT_DATA); // 5
    assert!(a.is_ok() && b.is_some() && d.is_ok() && e.is_some());
    assert_eq!(c.err(), Some(AllocError));
    assert_eq!(k.alloc_count() - base, 5);
    assert_eq!(k.alloc_failures(), 1);
    let fails: Vec<Event> = k
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::InjectedFail { .. }))
        .collect();
    assert!(
        matches!(&fails[..], [Event::InjectedFail { nth, site }] if *nth == base + 3 && site.contains("tests/alloc.rs")),
        "{fails:?}"
    );
    drop((b, e));
    assert_eq!(k.mbufs().live(), 0);
}

#[track_caller]
fn boxed(x: u8) -> Result<KBox<u8>, AllocError> {
    KBox::new(x, GFP_KERNEL)
}

#[test]
fn a_call_site_fails_until_cleared_and_others_do_not() {
    let k = Kernel::new();
    let _c = k.enter(1);
    k.trace_allocs(true);
    let mut results = Vec::new();
    for i in 0..4 {
        // One call site, run four times; armed after the first run, cleared after the third.
        results.push(boxed(i).is_ok());
        if i == 0 {
            let site = k.alloc_trace().pop().unwrap();
            // `#[track_caller]` charges the allocation to boxed's caller, in this file.
            assert!(site.contains("tests/alloc.rs:"), "{site}");
            k.fail_alloc_at(&site);
            // Another site does not fail.
            assert!(KBox::new(1u8, GFP_KERNEL).is_ok());
        }
        if i == 2 {
            k.clear_alloc_faults();
        }
    }
    assert_eq!(results, vec![true, false, false, true]);
    assert_eq!(k.alloc_failures(), 2);
    // A file suffix names every site in it: KVec growth fails too.
    let mut v: KVec<u32> = KVec::new();
    k.fail_alloc_at("tests/alloc.rs");
    assert_eq!(v.push(1, GFP_KERNEL), Err(AllocError));
    assert!(KVec::<u8>::with_capacity(4, GFP_KERNEL).is_err());
    k.clear_alloc_faults();
    v.push(3, GFP_KERNEL).unwrap();
    assert_eq!(&v[..], &[3]);
}

#[test]
fn nothing_fails_outside_a_kernel() {
    let k = Kernel::new();
    k.fail_alloc_nth(1);
    // Not entered: the plan belongs to `k`, this thread is in no kernel.
    assert!(KBox::new(5u8, GFP_KERNEL).is_ok());
    assert_eq!(k.alloc_failures(), 0);
}

#[test]
fn loading_a_module_again_keeps_no_kernel_alive() {
    struct M;
    impl kmock::module::Module for M {
        fn init(_m: &'static kmock::module::ThisModule) -> kmock::Result<Self> {
            Ok(M)
        }
    }
    kmock::module! {
        type: M,
        name: "m",
        author: "a",
        description: "d",
        license: "Dual BSD/GPL",
    }
    let first = {
        let k = Kernel::new();
        let m = kmock::module::load::<M>(&k).unwrap();
        let weak = k.downgrade();
        drop(m);
        drop(k);
        // THIS_MODULE holds no reference to the kernel: it is gone.
        assert!(weak.upgrade().is_none());
        std::ptr::addr_of!(*kmock::module::load::<M>(&Kernel::new()).unwrap().this()) as usize
    };
    let again =
        std::ptr::addr_of!(*kmock::module::load::<M>(&Kernel::new()).unwrap().this()) as usize;
    assert_eq!(first, again, "one THIS_MODULE per module, made once");
}
