#![no_main]
use libfuzzer_sys::fuzz_target;
use mailward_types::message::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::parse(data) {
        assert!(m.body_offset() <= data.len());
        assert_eq!(m.header_bytes().len() + m.body().len(), data.len());
    }
});
