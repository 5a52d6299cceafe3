//! Kubernetes resource quantities (`resource.Quantity`), exactly: a signed
//! decimal with an optional SI suffix (`n u m k M G T P E`), binary suffix
//! (`Ki Mi Gi Ti Pi Ei`) or decimal exponent (`1e3`, `5E-2`). Values are held
//! in nano-units with integer arithmetic; precision below 1n rounds up (away
//! from zero), as Kubernetes does.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    Format,
    #[error("unable to parse quantity's suffix")]
    Suffix,
    #[error("quantity is too large")]
    TooLarge,
}

/// A quantity in nano-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    nanos: i128,
}

const NANOS_PER_UNIT: i128 = 1_000_000_000;
const NANOS_PER_MILLI: i128 = 1_000_000;
/// Nano-units beyond which no int64 unit count can hold the value.
const MAX_NANOS: i128 = i64::MAX as i128 * NANOS_PER_UNIT;

/// The multiplier of a suffix: base 10 or 2, and an exponent.
fn suffix(text: &str) -> Result<(u32, i32), QuantityError> {
    let decimal = |e| Ok((10, e));
    let binary = |e| Ok((2, e));
    match text {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let exponent = text.strip_prefix(['e', 'E']).ok_or(QuantityError::Suffix)?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(QuantityError::Suffix);
            }
            // Far beyond any representable quantity either way; clamp before parsing.
            let value: i32 = exponent.parse().unwrap_or(if exponent.starts_with('-') {
                -10_000
            } else {
                10_000
            });
            decimal(value.clamp(-10_000, 10_000))
        }
    }
}

/// `mantissa × 10^shift` rounded up (away from zero) to an integer, if it fits.
fn scale_decimal(mantissa: i128, shift: i32) -> Option<i128> {
    if mantissa == 0 {
        return Some(0);
    }
    if shift >= 0 {
        let factor = 10i128.checked_pow(u32::try_from(shift).ok()?)?;
        return mantissa.checked_mul(factor);
    }
    let divisor = match 10i128.checked_pow(shift.unsigned_abs()) {
        Some(d) => d,
        None => return Some(mantissa.signum()),
    };
    let quotient = mantissa / divisor;
    Some(if mantissa % divisor == 0 {
        quotient
    } else {
        quotient + mantissa.signum()
    })
}

impl Quantity {
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix_text) = rest.split_at(number_len);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return Err(QuantityError::Format);
        }
        if !suffix_text
            .bytes()
            .all(|b| b"eEinumkKMGTP+-0123456789".contains(&b))
        {
            return Err(QuantityError::Format);
        }
        let (base, exponent) = suffix(suffix_text)?;
        // Digits as one integer mantissa; leading zeros do not count toward size.
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 36 {
            return Err(QuantityError::TooLarge);
        }
        let mut mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| QuantityError::Format)?
        };
        if negative {
            mantissa = -mantissa;
        }
        let fraction_digits = fraction.len() as i32;
        let nanos = if base == 10 {
            scale_decimal(mantissa, exponent + 9 - fraction_digits)
        } else {
            // × 2^exponent × 10^9, then ÷ 10^fraction_digits.
            mantissa
                .checked_mul(1i128 << exponent)
                .and_then(|m| m.checked_mul(NANOS_PER_UNIT))
                .and_then(|m| scale_decimal(m, -fraction_digits))
        }
        .ok_or(QuantityError::TooLarge)?;
        if nanos.abs() > MAX_NANOS {
            return Err(QuantityError::TooLarge);
        }
        Ok(Quantity { nanos })
    }

    /// Thousandths, rounded up (`MilliValue`); None when it does not fit an i64.
    pub fn checked_milli_value(&self) -> Option<i64> {
        i64::try_from(div_ceil(self.nanos, NANOS_PER_MILLI)).ok()
    }

    /// Thousandths, rounded up, saturating at the i64 range.
    pub fn milli_value(&self) -> i64 {
        self.checked_milli_value()
            .unwrap_or(if self.nanos < 0 { i64::MIN } else { i64::MAX })
    }

    /// Whole units, rounded up (`Value`).
    pub fn value(&self) -> i64 {
        i64::try_from(div_ceil(self.nanos, NANOS_PER_UNIT)).unwrap_or(if self.nanos < 0 {
            i64::MIN
        } else {
            i64::MAX
        })
    }

    pub fn from_milli(milli: i64) -> Quantity {
        Quantity {
            nanos: i128::from(milli) * NANOS_PER_MILLI,
        }
    }

    pub fn from_value(value: i64) -> Quantity {
        Quantity {
            nanos: i128::from(value) * NANOS_PER_UNIT,
        }
    }

    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }
}

fn div_ceil(value: i128, divisor: i128) -> i128 {
    let quotient = value.div_euclid(divisor);
    if value.rem_euclid(divisor) == 0 {
        quotient
    } else {
        quotient + 1
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (divisor, unit) in [(NANOS_PER_UNIT, ""), (NANOS_PER_MILLI, "m"), (1_000, "u")] {
            if self.nanos % divisor == 0 {
                return write!(f, "{}{unit}", self.nanos / divisor);
            }
        }
        write!(f, "{}n", self.nanos)
    }
}

/// Bytes (or units) with the largest exact binary suffix: `2Gi`, `512Mi`, `1000`.
pub fn format_binary(value: i64) -> String {
    for (suffix, shift) in [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ] {
        if value != 0 && value % (1i64 << shift) == 0 {
            return format!("{}{suffix}", value >> shift);
        }
    }
    value.to_string()
}

/// Millicores as Kubernetes prints them: `2`, `1500m`.
pub fn format_milli(milli: i64) -> String {
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn milli(text: &str) -> i64 {
        Quantity::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .milli_value()
    }

    fn value(text: &str) -> i64 {
        Quantity::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .value()
    }

    #[test]
    fn decimal_si_and_exponent_forms() {
        let cases = [
            ("100m", 100),
            ("1", 1000),
            ("1.5", 1500),
            ("0.5", 500),
            (".5", 500),
            ("5.", 5000),
            ("+1", 1000),
            ("-1", -1000),
            ("1k", 1_000_000),
            ("1M", 1_000_000_000),
            ("1e3", 1_000_000),
            ("1E3", 1_000_000),
            ("12e+2", 1_200_000),
            ("5e-1", 500),
            ("1m", 1),
            ("0.1m", 1),
            ("1u", 1),
            ("1n", 1),
            ("250000u", 250),
            ("0", 0),
            ("000.000", 0),
            ("2G", 2_000_000_000_000),
        ];
        for (text, expected) in cases {
            assert_eq!(milli(text), expected, "{text}");
        }
    }

    #[test]
    fn binary_suffixes() {
        let cases = [
            ("1Ki", 1024),
            ("512Mi", 512 << 20),
            ("2Gi", 2 << 30),
            ("0.5Gi", 1 << 29),
            ("1.5Ki", 1536),
            ("1Ti", 1 << 40),
            ("1Pi", 1 << 50),
            ("1Ei", 1 << 60),
            ("7Ei", 7 << 60),
            ("64Mi", 64 << 20),
        ];
        for (text, expected) in cases {
            assert_eq!(value(text), expected, "{text}");
        }
    }

    #[test]
    fn values_round_up() {
        assert_eq!(value("1m"), 1);
        assert_eq!(value("1500m"), 2);
        assert_eq!(value("0.1"), 1);
        assert_eq!(value("1.0001Ki"), 1025);
        assert_eq!(value("-1500m"), -1);
        assert_eq!(milli("0.0000001"), 1);
        assert_eq!(milli("1e-20"), 1);
    }

    #[test]
    fn malformed_quantities_are_refused_with_kubernetes_messages() {
        for text in [
            "", "abc", "1 Gi", " 1", "1.1.1", "-", "+", ".", "1,5", "Gi", "1Gi ", "--1", "1/2",
        ] {
            assert_eq!(
                Quantity::parse(text),
                Err(QuantityError::Format),
                "{text:?}"
            );
        }
        for text in [
            "1Gb", "1KiB", "1ki", "1e", "1e+", "1ee3", "1mi", "1MiMi", "1e3.5",
        ] {
            assert!(Quantity::parse(text).is_err(), "{text:?}");
        }
        assert_eq!(Quantity::parse("1Gb"), Err(QuantityError::Format));
        assert_eq!(Quantity::parse("1ki"), Err(QuantityError::Suffix));
        assert!(
            QuantityError::Format
                .to_string()
                .starts_with("quantities must match the regular expression")
        );
    }

    #[test]
    fn huge_quantities_are_errors_not_overflows() {
        for text in [
            "99999999999999999999Ei",
            "1e400",
            "10E",
            "9223372036854775808",
            "1e19",
            "16Ei",
        ] {
            assert_eq!(
                Quantity::parse(text),
                Err(QuantityError::TooLarge),
                "{text}"
            );
        }
        assert_eq!(value("9223372036854775807"), i64::MAX);
        assert_eq!(
            Quantity::parse("9223372036854775807")
                .unwrap()
                .checked_milli_value(),
            None
        );
    }

    #[test]
    fn display_and_formatting() {
        assert_eq!(Quantity::parse("1.5").unwrap().to_string(), "1500m");
        assert_eq!(Quantity::parse("2").unwrap().to_string(), "2");
        assert_eq!(Quantity::parse("1u").unwrap().to_string(), "1u");
        assert_eq!(Quantity::from_milli(250).to_string(), "250m");
        assert_eq!(Quantity::from_value(3).to_string(), "3");
        assert!(Quantity::parse("-1").unwrap().is_negative());
        assert_eq!(format_binary(2 << 30), "2Gi");
        assert_eq!(format_binary(1536), "1536");
        assert_eq!(format_binary(0), "0");
        assert_eq!(format_milli(1500), "1500m");
        assert_eq!(format_milli(2000), "2");
    }

    proptest! {
        #[test]
        fn milli_values_round_trip(m in -4_000_000_000_000i64..4_000_000_000_000) {
            prop_assert_eq!(Quantity::parse(&format_milli(m)).unwrap().milli_value(), m);
        }

        #[test]
        fn byte_counts_round_trip(v in 0i64..(1i64 << 62)) {
            prop_assert_eq!(Quantity::parse(&format_binary(v)).unwrap().value(), v);
        }

        #[test]
        fn any_text_parses_or_errors_without_panicking(text in "[-+]?[0-9.]{0,30}[eEinumkKMGTP]{0,2}[-+]?[0-9]{0,5}") {
            let _ = Quantity::parse(&text);
        }
    }
}
