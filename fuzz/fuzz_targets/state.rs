#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = orch::state_store::parse(std::path::Path::new("fuzz.yaml"), data);
    let _ = orch::state_store::parse(std::path::Path::new("fuzz.json"), data);
});
