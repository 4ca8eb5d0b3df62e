//! Times taken from clients, read in one place: RFC 3339, kept in UTC, and between the
//! years 1900 and 3000. A time outside (`9999-12-31T23:59:59-23:59` is year 10000 in UTC)
//! overflows date arithmetic and PostgreSQL's conversions, and names no real deal, key or
//! event; it is a 422 like any other bad value.

use serde::{Deserialize, Deserializer, de::Error};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339, macros::datetime};

const EARLIEST: OffsetDateTime = datetime!(1900-01-01 0:00 UTC);
const LATEST: OffsetDateTime = datetime!(3000-01-01 0:00 UTC);

// Days as the API writes them, `YYYY-MM-DD` (serde's default for `Date` is a tuple).
time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

pub const EXPECTED: &str =
    "must be an RFC 3339 time between the years 1900 and 3000, like 2026-11-23T00:00:00Z";

/// Parses `text`, in UTC, or says why not.
pub fn parse(text: &str) -> Result<OffsetDateTime, &'static str> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|t| t.checked_to_offset(UtcOffset::UTC))
        .filter(|t| (EARLIEST..LATEST).contains(t))
        .ok_or(EXPECTED)
}

/// `deserialize_with` for an optional time: absent or `null` is `None`.
pub fn option<'de, D: Deserializer<'de>>(de: D) -> Result<Option<OffsetDateTime>, D::Error> {
    Option::<String>::deserialize(de)?
        .map(|text| parse(&text).map_err(D::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_utc_within_the_range() {
        let t = parse("2026-11-23T10:00:00-03:00").unwrap();
        assert_eq!(t, datetime!(2026-11-23 13:00 UTC));
        assert_eq!(t.offset(), UtcOffset::UTC);
        for bad in [
            "9999-12-31T23:59:59-23:59",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+23:59",
            "1899-12-31T23:59:59Z",
            "3000-01-01T00:00:00Z",
            "yesterday",
        ] {
            assert_eq!(parse(bad), Err(EXPECTED), "{bad}");
        }
        assert!(parse("2999-12-31T23:59:59Z").is_ok());
    }
}
