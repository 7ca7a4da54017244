// SPDX-License-Identifier: BSD-2-Clause
//! The allocation-failure line of a transcript names what the reference C prints — the
//! mbuf allocation that failed (`m_gethdr`/`m_get`), also when it failed inside `m_pullup`
//! or `M_PREPEND` — while kmock's event carries the precise allocator (`what`), the mbuf
//! allocation under it (`mget`) and the driver's line.

use kmock::event::Event;

/// `failalloc` firing in tunwrite's `MGETHDR`/`MGET`, in its two `m_pullup`s (IFHEAD with
/// and without bpf) and in tunoutput's `M_PREPEND`s (IFHEAD, LMODE).
const SCENARIO: &str = r#"# failalloc inside m_pullup (tunwrite, IFHEAD with and without bpf) and M_PREPEND (tunoutput)
open tun0
ifioctl tun0 SIOCSIFADDR 10.0.0.1
ioctl tun0 TUNSIFHEAD 1
bpf attach tun0
failalloc 2
write tun0 00000002 45000014
bpf detach tun0
failalloc 2
write tun0 0000
failalloc 2
write tun0 00000002 pat:200
failalloc 1
if_output tun0 inet:10.0.0.2 45000014
ioctl tun0 TUNSIFHEAD 0
ioctl tun0 TUNSLMODE 1
failalloc 1
if_output tun0 inet:10.0.0.2 45000014
failalloc off
mbufs
close tun0
"#;

/// The reference oracle's transcript of [`SCENARIO`] (`run-scenario`, unedited).
const ORACLE: &str = r#"# failalloc inside m_pullup (tunwrite, IFHEAD with and without bpf) and M_PREPEND (tunoutput)
> open tun0
  if_attach tun0
  = ok
> ifioctl tun0 SIOCSIFADDR 10.0.0.1
  = ok
> ioctl tun0 TUNSIFHEAD 1
  = ok
> bpf attach tun0
  = ok
> failalloc 2
  = ok
> write tun0 00000002 45000014
  alloc fail (injected): m_gethdr
  = ENOBUFS
> bpf detach tun0
  = ok
> failalloc 2
  = ok
> write tun0 0000
  alloc fail (injected): m_gethdr
  = ENOBUFS
> failalloc 2
  = ok
> write tun0 00000002 pat:200
  alloc fail (injected): m_get
  = ENOBUFS
> failalloc 1
  = ok
> if_output tun0 inet:10.0.0.2 45000014
  alloc fail (injected): m_gethdr
  = ENOBUFS
> ioctl tun0 TUNSIFHEAD 0
  = ok
> ioctl tun0 TUNSLMODE 1
  = ok
> failalloc 1
  = ok
> if_output tun0 inet:10.0.0.2 45000014
  alloc fail (injected): m_gethdr
  = ENOBUFS
> failalloc off
  = ok
> mbufs
  = live=0 queued=0 leaked=0 allocated=5
> close tun0
  if_down tun0
  purgeaddrs tun0: removed inet:10.0.0.1
  = ok
end: mbufs live=0 queued=0 leaked=0
"#;

#[test]
fn alloc_fail_lines_match_the_oracle_inside_pullup_and_prepend() {
    let t = tunsim::scenario::run_scenario(SCENARIO, false);
    assert_eq!(t, ORACLE);
}

#[test]
fn the_line_prints_the_mbuf_allocation_not_the_allocator() {
    for (what, mget) in [
        ("m_gethdr", "m_gethdr"),
        ("m_get", "m_get"),
        ("m_prepend", "m_gethdr"),
        ("m_pullup", "m_gethdr"),
        ("m_pullup", "m_get"),
    ] {
        let e = Event::AllocFail {
            what,
            mget,
            site: "driver/src/if_tun.rs:1:1".into(),
        };
        assert_eq!(
            tunsim::scenario::transcript::event_line(e, |_| String::new()).as_deref(),
            Some(format!("  alloc fail (injected): {mget}").as_str())
        );
    }
}
