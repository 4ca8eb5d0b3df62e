use time::OffsetDateTime;

/// Now, in UTC and whole seconds. Stored timestamps carry no sub-second part, so their
/// text form on SQLite sorts like the time itself and both engines hold equal values.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// Microseconds since the Unix epoch (how Chatwoot's `updated_at` is compared).
pub fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

/// Now in microseconds since the Unix epoch, unrounded: orders events a second apart or
/// less (which of two reads of an outside service is the newer).
pub fn now_micros() -> i64 {
    micros(OffsetDateTime::now_utc())
}
