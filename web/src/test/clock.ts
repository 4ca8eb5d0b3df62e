/**
 * The clock of the unit tests. Each test starts at TEST_NOW, whatever the day the suite
 * runs on (src/test/setup.ts, Vitest's setup file, calls `startClockAt(TEST_NOW)` before
 * each test), so an expectation never depends on today's date. A test that needs another
 * moment calls `startClockAt` itself (or `vi.useFakeTimers()`, whose clock then starts
 * at TEST_NOW too).
 *
 * The clock runs: time passes as it really does, from TEST_NOW. A frozen `Date` (what
 * `vi.setSystemTime` alone gives) would break Vue: its DOM event handlers ignore an event
 * stamped no later than the moment the handler was attached, so with a stopped clock a
 * click never reaches a parent's handler.
 */

/**
 * When every test starts. No test depends on which instant it is (the fakes' records are
 * dated from it): the suite passes with any other.
 */
export const TEST_NOW = Date.parse('2026-11-28T14:00:00Z')

/** When the fake hubs' records were made and last changed: two hours before TEST_NOW. */
export const FIXTURE_AT = new Date(TEST_NOW - 2 * 3_600_000).toISOString()

/** `minutes` before TEST_NOW, as RFC 3339. */
export function minutesBefore(minutes: number): string {
  return new Date(TEST_NOW - minutes * 60_000).toISOString()
}

const HostDate = globalThis.Date

/**
 * Makes `Date` read `at` now and run on from there in step with the host's clock (the
 * same offset for `Date.now()` and `new Date()`; `Date(...)` with arguments, `parse` and
 * `UTC` as ever). Replaces whatever clock a test left behind.
 */
export function startClockAt(at: number | string | Date): void {
  const start = typeof at === 'number' ? at : new HostDate(at).getTime()
  if (Number.isNaN(start)) throw new TypeError(`startClockAt: not a time: ${String(at)}`)
  const offset = start - HostDate.now() // wall-clock: what the test clock runs on
  const current = () => HostDate.now() + offset // wall-clock: what the test clock runs on
  function TestDate(...args: unknown[]) {
    if (!new.target) return new HostDate(current()).toString()
    return Reflect.construct(HostDate, args.length === 0 ? [current()] : args, new.target)
  }
  TestDate.prototype = HostDate.prototype
  Object.setPrototypeOf(TestDate, HostDate)
  Object.assign(TestDate, { now: current })
  globalThis.Date = TestDate as unknown as DateConstructor
}
