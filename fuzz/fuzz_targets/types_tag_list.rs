#![no_main]
use libfuzzer_sys::fuzz_target;
use mailward_types::tag_list::{TagList, TagListOptions};

fuzz_target!(|data: &str| {
    let _ = TagList::parse(data);
    if let Ok(list) = TagList::parse_with(data, TagListOptions::lenient()) {
        assert!(list.len() <= mailward_types::tag_list::MAX_TAGS);
    }
});
