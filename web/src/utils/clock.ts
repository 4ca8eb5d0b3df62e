/**
 * The time, as the UI reads it. Every "now" (overdue, SLA badges, "5 minutes ago", a
 * metrics window, a default expiry date) comes from here, so there is one place that
 * reads the clock: unit tests run it from a fixed instant (src/test/setup.ts), and
 * scripts/check-test-clock fails CI on a read of the clock anywhere else in src/.
 */

/** Milliseconds since the Unix epoch. */
export function nowMs(): number {
  return Date.now() // wall-clock: the UI's one read of the clock
}

/** Now, as RFC 3339 in UTC (how the hub writes times). */
export function nowIso(): string {
  return new Date(nowMs()).toISOString()
}
