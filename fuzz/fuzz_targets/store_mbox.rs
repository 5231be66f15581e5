#![no_main]
//! The mbox splitter: never a panic, and the messages it returns are never longer, together,
//! than the input (From_ lines are dropped, `>From ` loses a `>`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let total: usize = mailward_store::source::mbox_messages(data, "fuzz")
        .filter_map(Result::ok)
        .map(|m| m.bytes.len())
        .sum();
    assert!(total <= data.len());
});
