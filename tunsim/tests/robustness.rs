// SPDX-License-Identifier: BSD-2-Clause
//! No input a user process or the network stack can supply through a scenario makes the
//! runner, kmock or the driver panic, and nothing leaks: random command sequences built
//! from the language's vocabulary (valid and malformed) always end with
//! `end: mbufs live=L queued=Q leaked=0`, where every live mbuf is a queued one.

use proptest::prelude::*;

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("open tun0".to_string()),
        Just("open tun".to_string()),
        Just("open tun1".to_string()),
        Just("close tun0".to_string()),
        Just("close tun1".to_string()),
        (0usize..300).prop_map(|n| format!("read tun0 {n}")),
        (0usize..300).prop_map(|n| format!("read tun0 {n} nonblock")),
        (0usize..400).prop_map(|n| format!("write tun0 pat:{n}")),
        (0u32..40, 0usize..100).prop_map(|(f, n)| format!("write tun0 be32:{f} pat:{n}")),
        (0usize..200, 0usize..57)
            .prop_map(|(n, l)| format!("if_output tun0 inet:10.0.0.2 pat:{n} lead={l}")),
        (0usize..20).prop_map(|n| format!("if_output tun0 unspec pat:{n} seg={n}")),
        (0u32..256, 0u32..256).prop_map(|(f, l)| format!("if_output tun0 sa:{f}:{l} pat:8")),
        Just("if_output tun0 inet6 60000000".to_string()),
        Just("ifioctl tun0 SIOCSIFADDR 10.0.0.1".to_string()),
        Just("ifioctl tun0 SIOCSIFDSTADDR 10.0.0.2".to_string()),
        Just("ifioctl tun0 SIOCSIFFLAGS UP|POINTOPOINT|MULTICAST".to_string()),
        Just("ifioctl tun0 SIOCSIFFLAGS 0".to_string()),
        Just("ifioctl tun0 SIOCGIFSTATUS".to_string()),
        (any::<u32>(), any::<i32>()).prop_map(|(c, a)| format!("ifioctl tun0 0x{c:x} {a}")),
        (any::<u32>(), any::<i32>()).prop_map(|(c, a)| format!("ioctl tun0 0x{c:x} {a}")),
        (0i32..3).prop_map(|v| format!("ioctl tun0 TUNSLMODE {v}")),
        (0i32..3).prop_map(|v| format!("ioctl tun0 TUNSIFHEAD {v}")),
        (0i32..2).prop_map(|v| format!("ioctl tun0 FIOASYNC {v}")),
        (0i32..2).prop_map(|v| format!("ioctl tun0 FIONBIO {v}")),
        Just("ioctl tun0 FIONREAD".to_string()),
        Just("ioctl tun0 FIOSETOWN 100".to_string()),
        (any::<u16>(), any::<u8>(), any::<i32>())
            .prop_map(|(m, t, b)| format!("ioctl tun0 TUNSIFINFO mtu={m} type={t} baudrate={b}")),
        Just("ioctl tun0 TUNSIFMODE BROADCAST".to_string()),
        Just("kq add tun0 read".to_string()),
        Just("kq add tun0 write".to_string()),
        (1u32..4).prop_map(|k| format!("kq check {k}")),
        (1u32..4).prop_map(|k| format!("kq del {k}")),
        Just("bpf attach tun0".to_string()),
        Just("bpf detach tun0".to_string()),
        (0u32..2).prop_map(|o| format!("altq tun0 {}", if o == 1 { "on" } else { "off" })),
        Just("if_start tun0".to_string()),
        (1u32..4).prop_map(|n| format!("failalloc {n}")),
        (1u32..4).prop_map(|j| format!("interrupt {j}")),
        (1u32..4).prop_map(|j| format!("wait {j}")),
        Just("ifaddr tun0 null".to_string()),
        Just("proc 200 uid=1000".to_string()),
        Just("as 200".to_string()),
        Just("as 100".to_string()),
        Just("show tun0".to_string()),
        Just("mbufs".to_string()),
        Just("bogus command".to_string()),
        "[ -~]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_scenarios_never_panic_or_leak(lines in prop::collection::vec(token(), 1..40)) {
        let text = lines.join("\n");
        let out = tunsim::scenario::run_scenario(&text, false);
        let last = out.lines().last().unwrap_or_default();
        prop_assert!(last.starts_with("end: mbufs live="), "{}", out);
        prop_assert!(last.ends_with(" leaked=0"), "{}", out);
        prop_assert!(!out.contains("  leak:"), "{}", out);
        // live == queued: whatever is alive sits on a send queue.
        let f: Vec<&str> = last.split(['=', ' ']).collect();
        prop_assert_eq!(f[3], f[5], "{}", out);
    }
}
