#![no_main]
use libfuzzer_sys::fuzz_target;
use mailward_types::message::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::parse(data) {
        assert!(m.body_offset() <= data.len());
        assert_eq!(m.header_bytes().len() + m.body().len(), data.len());
        for h in m.headers() {
            // Every field has its whole name, which starts its raw octets; the value follows
            // the colon.
            assert!(!h.name.is_empty());
            assert!(h.raw.starts_with(h.name.as_bytes()));
            assert!(h.raw.ends_with(h.value));
            assert_eq!(data.get(h.offset..h.offset + h.raw.len()), Some(h.raw));
        }
    }
});
