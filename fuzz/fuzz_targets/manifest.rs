#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let source = orch::sources::Source { name: "fuzz.yaml".into(), text: text.to_string() };
        let _ = orch::manifest::parse(&[source], &orch::manifest::ParseOptions::default());
    }
});
