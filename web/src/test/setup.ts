/**
 * Vitest's setup file (vite.config.ts, `test.setupFiles`): every unit test starts at
 * TEST_NOW (src/test/clock.ts), so a test that forgets to set the clock still reads a
 * fixed one and passes on any day. The clock is set before the test file loads, before
 * each test, and again after each one (whatever fake or real timers the test left).
 */
import { afterEach, beforeEach, vi } from 'vitest'
import { startClockAt, TEST_NOW } from './clock'

startClockAt(TEST_NOW)

beforeEach(() => {
  startClockAt(TEST_NOW)
})

afterEach(() => {
  vi.useRealTimers()
  startClockAt(TEST_NOW)
})
