//! The hashes Kubernetes names things with: FNV-1a (32 bit) and
//! `rand.SafeEncodeString`'s alphabet without vowels or confusable digits.

/// `rand.SafeEncodeString`'s alphabet.
pub const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub fn fnv1a32(bytes: &[u8]) -> u32 {
    fnv1a32_on(2_166_136_261, bytes)
}

/// `fnv1a32` of a text that starts with one hashed as `hash`, of the rest
/// `bytes`: `fnv1a32_on(fnv1a32(a), b) == fnv1a32(a ++ b)`.
pub fn fnv1a32_on(mut hash: u32, bytes: &[u8]) -> u32 {
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(16_777_619);
    }
    hash
}

/// `rand.SafeEncodeString`: every byte mapped into the alphabet.
pub fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// The pod-template-hash of a template: FNV-1a over its canonical JSON,
/// encoded as the Deployment controller encodes it.
pub fn template_hash(template: &serde_json::Value) -> String {
    kept_template_hash(&super::json::Json::new(template))
}

/// `template_hash` of a template kept as its text.
pub fn kept_template_hash(template: &super::json::Json) -> String {
    safe_encode(&fnv1a32(template.as_str().as_bytes()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a32_matches_reference_values() {
        assert_eq!(fnv1a32(b""), 0x811c9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9cf968);
    }

    #[test]
    fn safe_encoding_uses_the_kubernetes_alphabet() {
        // '0' is byte 48: 48 % 27 = 21 → '4'; '9' is 57 → 3 → 'f'.
        assert_eq!(safe_encode("09"), "4f");
        let hash = template_hash(&serde_json::json!({"a": 1}));
        assert!(hash.bytes().all(|b| ALPHANUMS.contains(&b)));
        assert_eq!(hash, template_hash(&serde_json::json!({"a": 1})));
        assert_ne!(hash, template_hash(&serde_json::json!({"a": 2})));
    }
}
