// SPDX-License-Identifier: BSD-2-Clause
//! `kernel::init`: the real one.

pub use kernel::init::{InPlaceInit, PinInit};
