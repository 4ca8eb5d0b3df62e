//! Money as the API shows it (`"149.90"`), as it is stored (cents) and as Asaas sends it
//! (a JSON number of reais).

/// The most a price may be: far above any plan, far below where cents overflow.
const MAX_CENTS: i64 = 10_000_000_000;

/// `"149.90"`, `"149.9"` or `"149"` as cents; `None` for anything else (signs, commas,
/// more than two decimals, exponents).
pub fn parse(raw: &str) -> Option<i64> {
    let (units, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(units) || units.len() > 12 || !(fraction.is_empty() || digits(fraction)) {
        return None;
    }
    if fraction.len() > 2 || (raw.contains('.') && fraction.is_empty()) {
        return None;
    }
    let cents = units.parse::<i64>().ok()? * 100
        + match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().ok()? * 10,
            _ => fraction.parse::<i64>().ok()?,
        };
    (cents <= MAX_CENTS).then_some(cents)
}

/// Cents as `"149.90"`.
pub fn format(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Asaas's value (reais, a float on the wire) as cents.
pub fn from_reais(value: f64) -> i64 {
    (value * 100.0).round() as i64
}

/// Cents as the number Asaas takes.
pub fn to_reais(cents: i64) -> f64 {
    cents as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_exactly_or_not_at_all() {
        assert_eq!(parse("149.90"), Some(14990));
        assert_eq!(parse("149.9"), Some(14990));
        assert_eq!(parse("149"), Some(14900));
        assert_eq!(parse("0.05"), Some(5));
        for bad in [
            "",
            "-1",
            "1,50",
            "1.505",
            "1.",
            ".5",
            "1e3",
            " 1",
            "+2",
            "99999999999999",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(format(14990), "149.90");
        assert_eq!(format(5), "0.05");
        assert_eq!(from_reais(149.9), 14990);
        assert_eq!(from_reais(0.1 + 0.2), 30);
    }
}
