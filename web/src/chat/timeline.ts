/**
 * The message list's rows, from a room's messages in `seq` order: a separator at each new
 * day, a "new messages" divider before the first unread message, and consecutive messages
 * of one author (the same day, a few minutes apart) grouped under one name and avatar.
 */

export interface TimelineMessage {
  id: string
  seq: number
  author_id: string | null
  created_at: string
  deleted?: boolean
}

export type TimelineRow<M extends TimelineMessage> =
  | { kind: 'day'; key: string; day: string; label: string }
  | { kind: 'unread'; key: string }
  | { kind: 'message'; key: string; message: M; grouped: boolean }

/** Messages of one author closer than this share a header. */
export const GROUP_MS = 5 * 60_000

/** The local calendar day of `iso`, `YYYY-MM-DD`. */
export function dayOf(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' })
const dayYearFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' })

/** "Today", "Yesterday", "Monday, November 23" (this year) or "November 23, 2025". */
export function dayLabel(iso: string, now: number): string {
  const day = dayOf(iso)
  const today = new Date(now)
  if (day === dayOf(today.toISOString())) return 'Today'
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1, 12)
  if (day === dayOf(yesterday.toISOString())) return 'Yesterday'
  const date = new Date(iso)
  return date.getFullYear() === today.getFullYear() ? dayFormat.format(date) : dayYearFormat.format(date)
}

export interface TimelineOptions {
  /** Now, for "Today" and "Yesterday". */
  now: number
  /** The divider goes before the first message with a seq above this (null: none). */
  lastReadSeq?: number | null
  /** No divider before one's own messages: the sender has read them. */
  me?: string | null
}

export function buildTimeline<M extends TimelineMessage>(
  messages: readonly M[],
  options: TimelineOptions,
): TimelineRow<M>[] {
  const rows: TimelineRow<M>[] = []
  let previous: M | null = null
  let dividerPlaced = options.lastReadSeq == null
  for (const message of messages) {
    const day = dayOf(message.created_at)
    const newDay = !previous || dayOf(previous.created_at) !== day
    if (newDay) rows.push({ kind: 'day', key: `day-${day}`, day, label: dayLabel(message.created_at, options.now) })
    let divider = false
    if (!dividerPlaced && message.seq > (options.lastReadSeq ?? 0) && message.author_id !== options.me) {
      rows.push({ kind: 'unread', key: 'unread' })
      dividerPlaced = true
      divider = true
    }
    const grouped =
      !newDay &&
      !divider &&
      previous !== null &&
      !previous.deleted &&
      !message.deleted &&
      previous.author_id !== null &&
      previous.author_id === message.author_id &&
      Date.parse(message.created_at) - Date.parse(previous.created_at) < GROUP_MS
    rows.push({ kind: 'message', key: message.id, message, grouped })
    previous = message
  }
  return rows
}

/** Messages merged by id (a later copy replaces an earlier one), in `seq` order. */
export function mergeMessages<M extends { id: string; seq: number }>(current: readonly M[], incoming: readonly M[]): M[] {
  const byId = new Map(current.map((m) => [m.id, m]))
  for (const message of incoming) byId.set(message.id, message)
  return [...byId.values()].sort((a, b) => a.seq - b.seq)
}
