/** Formatting helpers for dates and names, in the browser's locale. */

import { nowMs } from './clock'

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' })

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? null : date
}

/** "Nov 28, 2026, 11:59 AM"; `fallback` for a missing or unreadable date. */
export function formatDateTime(iso: string | null | undefined, fallback = '—'): string {
  const date = parse(iso)
  return date ? dateTime.format(date) : fallback
}

/** "Nov 28, 2026". */
export function formatDate(iso: string | null | undefined, fallback = '—'): string {
  const date = parse(iso)
  return date ? dateOnly.format(date) : fallback
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
]

/** "just now", "5 minutes ago", "in 3 days". */
export function formatRelative(
  iso: string | null | undefined,
  now: number = nowMs(),
  fallback = '—',
): string {
  const date = parse(iso)
  if (!date) return fallback
  const seconds = Math.round((date.getTime() - now) / 1000)
  if (Math.abs(seconds) < 60) return 'just now'
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit)
  }
  return 'just now'
}

/** Up to two initials: "Ana Admin" → "AA", "ana@x.test" → "A". */
export function initials(name: string | null | undefined): string {
  let text = (name ?? '').trim()
  if (!/\s/.test(text) && text.includes('@')) text = text.slice(0, text.indexOf('@'))
  const words = text.split(/[\s._-]+/).filter(Boolean)
  if (words.length === 0) return '?'
  const letters = words.length === 1 ? [words[0]] : [words[0], words[words.length - 1]]
  return letters.map((w) => [...w][0]!.toUpperCase()).join('')
}
