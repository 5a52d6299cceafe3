//! TEMPORARY minimal quantity parser; replaced by the full implementation.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    Format,
    #[error("quantity is too large")]
    TooLarge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    nanos: i128,
}

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(s.len());
        let (num, suffix) = s.split_at(split);
        let mult: i128 = match suffix {
            "" => 1_000_000_000,
            "m" => 1_000_000,
            "k" => 1_000_000_000_000,
            "Ki" => 1024 * 1_000_000_000,
            "Mi" => (1 << 20) * 1_000_000_000,
            "Gi" => (1 << 30) * 1_000_000_000,
            _ => return Err(QuantityError::Format),
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        let i: i128 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| QuantityError::Format)?
        };
        let mut nanos = i.checked_mul(mult).ok_or(QuantityError::TooLarge)?;
        if !frac.is_empty() {
            let f: i128 = frac.parse().map_err(|_| QuantityError::Format)?;
            nanos += f * mult / 10i128.pow(frac.len() as u32);
        }
        Ok(Quantity { nanos })
    }
    pub fn milli_value(&self) -> i64 {
        (self.nanos + 999_999).div_euclid(1_000_000) as i64
    }
    pub fn value(&self) -> i64 {
        (self.nanos + 999_999_999).div_euclid(1_000_000_000) as i64
    }
    pub fn from_milli(m: i64) -> Quantity {
        Quantity {
            nanos: m as i128 * 1_000_000,
        }
    }
    pub fn from_value(v: i64) -> Quantity {
        Quantity {
            nanos: v as i128 * 1_000_000_000,
        }
    }
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_milli(self.milli_value()))
    }
}

pub fn format_binary(v: i64) -> String {
    for (suffix, shift) in [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ] {
        if v != 0 && v % (1i64 << shift) == 0 {
            return format!("{}{suffix}", v >> shift);
        }
    }
    v.to_string()
}

pub fn format_milli(m: i64) -> String {
    if m % 1000 == 0 {
        (m / 1000).to_string()
    } else {
        format!("{m}m")
    }
}
