//! The API server's field checks against the cases of their upstream tests.

use super::*;

/// Cases from apimachinery's `TestIsQualifiedName` and `TestIsValidLabelValue`
/// (staging/src/k8s.io/apimachinery/pkg/util/validation/validation_test.go).
#[test]
fn qualified_names_and_label_values_as_upstream() {
    let good = [
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "1234",
        "simple/simple",
        "now-with-dashes/simple",
        "now-with-dashes/now-with-dashes",
        "now.with.dots/simple",
        "now-with.dashes-and.dots/simple",
        "1-num.2-num/3-num",
        "1234/5678",
        "1.2.3.4/5678",
        "Uppercase_Is_OK_123",
        "example.com/Uppercase_Is_OK_123",
        "requests.storage-foo",
    ];
    for name in good {
        assert!(qualified_name(name).is_empty(), "{name}");
    }
    let long_name = "a".repeat(64);
    let long_prefix = format!("{}/b", "a".repeat(254));
    let bad = [
        "nospecialchars%^=@",
        "cantendwithadash-",
        "-cantstartwithadash-",
        "only/one/slash",
        "Example.com/abc",
        "example_com/abc",
        "example.com/",
        "/simple",
        long_name.as_str(),
        long_prefix.as_str(),
    ];
    for name in bad {
        assert!(!qualified_name(name).is_empty(), "{name}");
    }
    for value in [
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "end-with-num-1",
        "1234",
        "",
        "A",
        "AB",
        "a_b",
        "a.b",
    ] {
        assert!(label_value(value).is_empty(), "{value}");
    }
    let long_value = "a".repeat(64);
    for value in [
        "nospecialchars%^=@",
        "Tama-nui-te-rā.is.Māori.sun",
        "\\backslashes\\are\\bad",
        "-starts-with-dash",
        "ends-with-dash-",
        ".starts.with.dot",
        "ends.with.dot.",
        long_value.as_str(),
    ] {
        assert!(!label_value(value).is_empty(), "{value}");
    }
}

/// `TestIsDNS1123Label`, `TestIsDNS1035Label` (same file).
#[test]
fn dns_names_as_upstream() {
    for name in [
        "a",
        "ab",
        "abc",
        "a1",
        "a-1",
        "a--1--2--b",
        "0",
        "01",
        "1-2",
    ] {
        assert!(dns1123_label(name).is_empty(), "{name}");
    }
    for name in [
        "", "A", "ABC", "-", "a-", "-a", "1-", "_", "a_b", "a.b", "a b",
    ] {
        assert!(!dns1123_label(name).is_empty(), "{name}");
    }
    assert_eq!(dns1123_label("a.b"), vec!["must not contain dots"]);
    assert!(!dns1123_label(&"a".repeat(64)).is_empty());
    for name in ["a", "ab", "a-1", "a--1--2--b"] {
        assert!(dns1035_label(name).is_empty(), "{name}");
    }
    for name in ["0", "01", "1-2", "A", "a-", "-a", "a.b"] {
        assert!(!dns1035_label(name).is_empty(), "{name}");
    }
    for name in ["a.b.c", "1.2.3", "a-1.b-2"] {
        assert!(dns1123_subdomain(name).is_empty(), "{name}");
    }
    for name in ["a..b", ".a", "a.", "A.b", "a_b.c"] {
        assert!(!dns1123_subdomain(name).is_empty(), "{name}");
    }
}

#[test]
fn integer_resources_are_counted_and_extended_ones() {
    assert!(is_integer_resource("pods"));
    assert!(is_integer_resource("nvidia.com/gpu"));
    assert!(!is_integer_resource("cpu"));
    assert!(!is_integer_resource("kubernetes.io/something"));
    assert!(!is_integer_resource("hugepages-2Mi"));
}
