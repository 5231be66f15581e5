#![no_main]
use libfuzzer_sys::fuzz_target;
use mailward_types::AuthenticationResults;

fuzz_target!(|data: &str| {
    if let Ok(ar) = AuthenticationResults::parse(data) {
        let again = AuthenticationResults::parse(&ar.to_string());
        assert_eq!(again.as_ref(), Ok(&ar), "rendered: {ar}");
    }
});
