// SPDX-License-Identifier: BSD-2-Clause
//! libFuzzer target: the input is decoded (`tunsim::fuzzops::decode`) into up to 256
//! entry-point calls on both sides of the if_tun driver and kernel events, run on a fresh
//! kmock kernel with the softc invariants checked after each call; then every descriptor
//! is closed and no mbuf may stay live. Any violation panics (a crash for libFuzzer).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ops = tunsim::fuzzops::decode(data);
    if let Err(e) = tunsim::fuzzops::run(&ops) {
        panic!("invariant violated {e}\noperations: {ops:#?}");
    }
});
