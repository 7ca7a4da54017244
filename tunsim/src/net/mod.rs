// SPDX-License-Identifier: BSD-2-Clause
//! Real packets through the driver: smoltcp stacks on both sides of tun0 ([`stack`],
//! [`peer`]), bpf captures as pcap files ([`pcap`]), a real Linux TUN in a network namespace
//! ([`bridge`], Linux only) and the narrated demo ([`demo`]).

#[cfg(target_os = "linux")]
pub mod bridge;
pub mod demo;
pub mod pcap;
pub mod peer;
pub mod pipe;
pub mod stack;
