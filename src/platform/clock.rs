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
