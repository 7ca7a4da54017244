// SPDX-License-Identifier: BSD-2-Clause
//! Property tests for mbuf chains: building, `M_PREPEND`, `m_adj`, `m_pullup`, `m_free`.
//!
//! The BSD contracts checked are those of `tun-facts.md` §3 (DragonFly x86_64, 2010–11:
//! `MLEN` 120, `MHLEN` 56). Every property ends by checking that the kernel's mbuf zone has
//! no live mbuf left: whatever the operation did with the chain, nothing leaked.

use kmock::bsd::mbuf::{
    m_adj, m_free, m_get, m_gethdr, m_prepend_hdr, m_pullup, Mbuf, MbufBox, MB_DONTWAIT, MHLEN,
    MLEN, MT_DATA,
};
use kmock::Kernel;
use proptest::prelude::*;

/// Splits `len` bytes into valid segment lengths for `packet_from(.., lead, Some(segs))`:
/// the first at most `MHLEN - lead`, the others at most `MLEN`, zero-length segments allowed,
/// summing to `len`. `choices` drives the cuts; once they run out the rest is filled with
/// full mbufs.
fn build_segs(len: usize, lead: usize, choices: &[u16]) -> Vec<usize> {
    let mut segs = Vec::new();
    let mut rest = len;
    let mut it = choices.iter();
    let first_cap = MHLEN - lead;
    let first = match it.next() {
        Some(&c) => seg_len(c, first_cap).min(rest),
        None => first_cap.min(rest),
    };
    segs.push(first);
    rest -= first;
    for &c in it {
        if rest == 0 && c & 3 != 0 {
            // Trailing zero-length mbufs now and then, not always.
            break;
        }
        let n = seg_len(c, MLEN).min(rest);
        segs.push(n);
        rest -= n;
    }
    while rest > 0 {
        let n = rest.min(MLEN);
        segs.push(n);
        rest -= n;
    }
    segs
}

/// A segment length of at most `cap` drawn from `c`, zero one time in eight.
fn seg_len(c: u16, cap: usize) -> usize {
    if c & 7 == 0 {
        0
    } else {
        c as usize % (cap + 1)
    }
}

/// A chain description: bytes, leading space of the head, segment lengths.
fn chain() -> impl Strategy<Value = (Vec<u8>, usize, Vec<usize>)> {
    (
        // Short packets (one or two mbufs) half the time, anything up to 2000 bytes else.
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..=2 * MHLEN),
            proptest::collection::vec(any::<u8>(), 0..2000),
        ],
        0..=MHLEN,
        // No choices at all (mbufs filled to capacity) now and then.
        prop_oneof![
            1 => Just(Vec::new()),
            4 => proptest::collection::vec(any::<u16>(), 0..40),
        ],
    )
        .prop_map(|(bytes, lead, choices)| {
            let segs = build_segs(bytes.len(), lead, &choices);
            (bytes, lead, segs)
        })
}

/// Only the head of a packet carries a packet header.
fn pkthdr_only_on_head(m: &Mbuf) -> bool {
    m.pkthdr().is_some() && m.iter().skip(1).all(|x| x.pkthdr().is_none())
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes in any valid chain read back unchanged; `m_length` and `m_pkthdr.len`
    /// equal the byte count; each mbuf holds exactly its segment.
    #[test]
    fn chain_reads_back_unchanged((bytes, lead, segs) in chain()) {
        let k = Kernel::new();
        let _ctx = k.enter(1);
        {
            let m = k.mbufs().packet_from(&bytes, lead, Some(&segs)).unwrap();
            prop_assert_eq!(m.to_vec(), bytes.clone());
            prop_assert_eq!(m.chain_len(), bytes.len());
            prop_assert_eq!(m.pkthdr().unwrap().len, bytes.len());
            prop_assert_eq!(m.chain_count(), segs.len());
            let lens: Vec<usize> = m.iter().map(|x| x.len()).collect();
            prop_assert_eq!(lens, segs.clone());
            prop_assert_eq!(m.leading_space(), lead);
            prop_assert!(pkthdr_only_on_head(&m));
            prop_assert_eq!(k.mbufs().live(), segs.len());
        }
        prop_assert_eq!(k.mbufs().live(), 0);
    }

    /// `M_PREPEND(m, n)`: the old content follows the `n` new bytes, `m_pkthdr.len` grows by
    /// `n`, the packet header stays on the head only. In place iff the leading space
    /// suffices; otherwise a new head mbuf of exactly `n` bytes.
    #[test]
    fn prepend_keeps_old_content((bytes, lead, segs) in chain(), n in 0..=MHLEN, fill in any::<u8>()) {
        let k = Kernel::new();
        let _ctx = k.enter(1);
        {
            let m = k.mbufs().packet_from(&bytes, lead, Some(&segs)).unwrap();
            let (old_id, old_count) = (m.id(), m.chain_count());
            let mut m = m_prepend_hdr(m, n, MB_DONTWAIT).expect("M_PREPEND without failure injection");
            if lead >= n {
                prop_assert_eq!(m.id(), old_id);
                prop_assert_eq!(m.chain_count(), old_count);
                prop_assert_eq!(m.leading_space(), lead - n);
            } else {
                prop_assert_ne!(m.id(), old_id);
                prop_assert_eq!(m.chain_count(), old_count + 1);
                prop_assert_eq!(m.len(), n);
                prop_assert_eq!(m.next().unwrap().id(), old_id);
            }
            prop_assert!(m.len() >= n);
            m.data_mut()[..n].fill(fill);
            let mut want = vec![fill; n];
            want.extend_from_slice(&bytes);
            prop_assert_eq!(m.to_vec(), want);
            prop_assert_eq!(m.pkthdr().unwrap().len, bytes.len() + n);
            prop_assert_eq!(m.chain_len(), bytes.len() + n);
            prop_assert!(pkthdr_only_on_head(&m));
        }
        prop_assert_eq!(k.mbufs().live(), 0);
    }

    /// `m_adj(m, k)`, k ≥ 0: the first `k` bytes go; k < 0: the last `-k` go. Emptied mbufs
    /// stay in the chain; `m_pkthdr.len` follows `m_length`.
    #[test]
    fn adj_keeps_the_expected_slice((bytes, lead, segs) in chain(), cut in 0usize..2200, from_tail in any::<bool>()) {
        let k = Kernel::new();
        let _ctx = k.enter(1);
        {
            let mut m = k.mbufs().packet_from(&bytes, lead, Some(&segs)).unwrap();
            let count = m.chain_count();
            let c = cut.min(bytes.len());
            let want: Vec<u8> = if from_tail {
                m_adj(&mut m, -(cut as isize));
                bytes[..bytes.len() - c].to_vec()
            } else {
                m_adj(&mut m, cut as isize);
                bytes[c..].to_vec()
            };
            prop_assert_eq!(m.to_vec(), want.clone());
            prop_assert_eq!(m.chain_len(), want.len());
            prop_assert_eq!(m.pkthdr().unwrap().len, m.chain_len());
            prop_assert_eq!(m.chain_count(), count);
            prop_assert!(pkthdr_only_on_head(&m));
        }
        prop_assert_eq!(k.mbufs().live(), 0);
    }

    /// `m_pullup(m, n)`, n ≤ `MHLEN`: with at least `n` bytes the head holds `n` contiguous
    /// bytes and nothing else changes (the head is kept or replaced as in DragonFly); with
    /// fewer it fails (and frees the chain).
    #[test]
    fn pullup_makes_head_contiguous((bytes, lead, segs) in chain(), n in 0..=MHLEN) {
        let k = Kernel::new();
        let _ctx = k.enter(1);
        {
            let m = k.mbufs().packet_from(&bytes, lead, Some(&segs)).unwrap();
            // DragonFly tops the head up in place only if it has a successor and
            // `m_data + n` stays inside the buffer (`m_pktdat` is `MLEN - MHLEN` into it);
            // otherwise — every single-mbuf chain included — a new head is allocated.
            let in_place = segs.len() > 1 && (MLEN - MHLEN) + lead + n < MLEN;
            let old_id = m.id();
            let r = m_pullup(m, n);
            if n <= bytes.len() {
                let m = r.expect("m_pullup of a long enough chain");
                prop_assert_eq!(m.id() == old_id, in_place);
                prop_assert!(m.len() >= n);
                prop_assert_eq!(m.to_vec(), bytes.clone());
                prop_assert_eq!(m.pkthdr().unwrap().len, bytes.len());
                prop_assert_eq!(m.chain_len(), bytes.len());
                prop_assert!(pkthdr_only_on_head(&m));
            } else {
                prop_assert!(r.is_none());
            }
        }
        prop_assert_eq!(k.mbufs().live(), 0);
    }

    /// `m_pullup(m, n)` with n > `MHLEN` always fails, whatever the chain, and frees it.
    #[test]
    fn pullup_beyond_mhlen_fails((bytes, lead, segs) in chain(), n in (MHLEN + 1)..=(MLEN + 8)) {
        let k = Kernel::new();
        let _ctx = k.enter(1);
        let m = k.mbufs().packet_from(&bytes, lead, Some(&segs)).unwrap();
        prop_assert!(m_pullup(m, n).is_none());
        prop_assert_eq!(k.mbufs().live(), 0);
    }

    /// A chain built by hand with `MGETHDR`/`MGET` equals the one `packet_from` builds, and
    /// `m_free` releases exactly one mbuf at a time, returning the successor.
    #[test]
    fn hand_built_chain_and_m_free((bytes, _lead, segs) in chain()) {
        let k = Kernel::new();
        let _ctx = k.enter(1);
        {
            // Build back to front so each mbuf owns its successor.
            let mut off = bytes.len();
            let mut tail: Option<MbufBox> = None;
            for (i, &n) in segs.iter().enumerate().rev() {
                off -= n;
                let mut m = if i == 0 {
                    m_gethdr(MB_DONTWAIT, MT_DATA).unwrap()
                } else {
                    m_get(MB_DONTWAIT, MT_DATA).unwrap()
                };
                prop_assert_eq!(m.leading_space(), 0);
                prop_assert_eq!(m.trailing_space(), if i == 0 { MHLEN } else { MLEN });
                // The hand-built head has no leading space, so the first segment may be
                // as long as MHLEN whatever the generated lead was.
                m.append(&bytes[off..off + n]).unwrap();
                m.set_next(tail.take());
                tail = Some(m);
            }
            let mut head = tail.unwrap();
            head.pkthdr_mut().unwrap().len = bytes.len();
            prop_assert_eq!(head.to_vec(), bytes.clone());
            prop_assert!(pkthdr_only_on_head(&head));
            prop_assert_eq!(k.mbufs().live(), segs.len());

            let mut cur = Some(head);
            let mut left = segs.len();
            while let Some(m) = cur {
                cur = m_free(m);
                left -= 1;
                prop_assert_eq!(k.mbufs().live(), left);
                prop_assert_eq!(cur.as_ref().map_or(0, |c| c.chain_count()), left);
            }
        }
        prop_assert_eq!(k.mbufs().live(), 0);
    }
}
