/**
 * The metrics view's pure logic: the range asked for, the weeks of the throughput chart
 * (gaps filled), a value axis with round ticks, and small formatting helpers.
 */
import type { WeekThroughput } from '../../api/kanban'
import { nowMs } from '../../utils/clock'

/** The ranges offered, in days. */
export const RANGE_DAYS = [7, 30, 90] as const
export type RangeDays = (typeof RANGE_DAYS)[number]

const DAY_MS = 86_400_000

/**
 * The last `days` days up to `now`, as the API's `from` and `to` (RFC 3339, UTC). `to`
 * is the end of now's second, as the hub's default: events are stamped in whole seconds
 * and the window is `[from, to)`, so a card won this second counts.
 */
export function metricsRange(days: number, now: number = nowMs()): { from: string; to: string } {
  const to = Math.floor(now / 1000) * 1000 + 1000
  return { from: new Date(to - days * DAY_MS).toISOString(), to: new Date(to).toISOString() }
}

function parseDay(day: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(day)
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN
}

function dayText(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/**
 * The weeks in order, with the weeks between the first and the last that the hub left
 * out (nothing closed) as zeros.
 */
export function fillWeeks(weeks: readonly WeekThroughput[]): WeekThroughput[] {
  const known = weeks.filter((w) => Number.isFinite(parseDay(w.week_start)))
  const byDay = new Map(known.map((w) => [dayText(parseDay(w.week_start)), w]))
  const days = [...byDay.keys()].sort()
  if (days.length === 0) return []
  const out: WeekThroughput[] = []
  const last = parseDay(days[days.length - 1]!)
  // At most a few years of weeks, whatever the hub sends.
  for (let at = parseDay(days[0]!); at <= last && out.length < 520; at += 7 * DAY_MS) {
    const day = dayText(at)
    out.push(byDay.get(day) ?? { week_start: day, won: 0, lost: 0 })
  }
  return out
}

/** 1, 2 or 5 times a power of ten, at least `value` (and at least 1). */
export function niceStep(value: number): number {
  if (!(value > 1)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const factor of [1, 2, 5, 10]) {
    if (factor * power >= value) return factor * power
  }
  return 10 * power
}

/** Round ticks from 0 to at least `max`, about `count` steps: 0, 5, 10, 15 for 13. */
export function axisTicks(max: number, count = 4): number[] {
  const step = niceStep(Math.max(max, 0) / count)
  const top = Math.max(step, Math.ceil(Math.max(max, 0) / step) * step)
  const ticks: number[] = []
  for (let tick = 0; tick <= top; tick += step) ticks.push(tick)
  return ticks
}

const weekFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })
const weekFormatYear = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  timeZone: 'UTC',
})

/** "Nov 23" for `2026-11-23` (the day as written, whatever the time zone). */
export function formatWeek(day: string, withYear = false): string {
  const ms = parseDay(day)
  if (!Number.isFinite(ms)) return day
  return (withYear ? weekFormatYear : weekFormat).format(new Date(ms))
}

/** Won out of won and lost, as "67%"; '—' when nothing closed. */
export function winRate(won: number, lost: number): string {
  const closed = won + lost
  return closed > 0 ? `${Math.round((won / closed) * 100)}%` : '—'
}

/** "Sales pipeline" → "Sales pipel…" when longer than `max` characters. */
export function truncate(text: string, max: number): string {
  const chars = [...text]
  return chars.length > max ? `${chars.slice(0, max - 1).join('').trimEnd()}…` : text
}
