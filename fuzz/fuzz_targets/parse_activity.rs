//! Arbitrary bytes as one activity JSON line: parse, validate, and run the
//! conflict predicate on whatever is accepted. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parley_wire::fuzz_activity(data));
