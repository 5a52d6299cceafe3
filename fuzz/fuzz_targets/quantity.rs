#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = orch::model::quantity::Quantity::parse(text);
        let _ = orch::model::labels::LabelSelector::parse(text);
    }
});
