/**
 * The Kanban board's pure logic: columns from cards, their totals, money, due-date and
 * duration formatting, a card's SLA state, where a drop lands in the API's dense
 * positions, and applying a move locally (optimistically) the way the hub will.
 */
import type { Card, CardEvent, Stage, StageKind } from '../api/kanban'
import { nowIso, nowMs } from '../utils/clock'

// ---- Columns ----

/** The cards of each stage, in position order (stages without cards get an empty list). */
export function groupByStage(stages: readonly Stage[], cards: readonly Card[]): Map<string, Card[]> {
  const columns = new Map<string, Card[]>(stages.map((s) => [s.id, []]))
  for (const card of cards) columns.get(card.stage_id)?.push(card)
  for (const list of columns.values()) list.sort((a, b) => a.position - b.position)
  return columns
}

export interface MoneyTotal {
  currency: string
  minor: number
}

/** The sum of the cards' values, per currency (a card without one uses the board's). */
export function sumValues(cards: readonly Card[], boardCurrency: string): MoneyTotal[] {
  const sums = new Map<string, number>()
  for (const card of cards) {
    if (card.value_minor === null || card.value_minor === undefined) continue
    const currency = card.currency ?? boardCurrency
    sums.set(currency, (sums.get(currency) ?? 0) + card.value_minor)
  }
  return [...sums].map(([currency, minor]) => ({ currency, minor }))
}

// ---- Money ----

const formatters = new Map<string, Intl.NumberFormat>()

function moneyFormat(currency: string, locale?: string): Intl.NumberFormat {
  const key = `${locale ?? ''}|${currency}`
  let format = formatters.get(key)
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale, { style: 'currency', currency })
    } catch {
      format = new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD' })
    }
    formatters.set(key, format)
  }
  return format
}

/** Digits after the decimal point of `currency` (2 for BRL, 0 for JPY). */
export function minorDigits(currency: string): number {
  return moneyFormat(currency, 'en').resolvedOptions().maximumFractionDigits ?? 2
}

/** "R$ 1.234,50" for 123450 BRL minor units, in the browser's locale (or `locale`). */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  return moneyFormat(currency, locale).format(minor / 10 ** minorDigits(currency))
}

/** Totals in several currencies, joined: "R$ 10,00 + US$ 5.00"; '' for none. */
export function formatTotals(totals: readonly MoneyTotal[], locale?: string): string {
  return totals.map((t) => formatMoney(t.minor, t.currency, locale)).join(' + ')
}

/** A typed amount ("1234.5", "1234,50") in minor units; null when empty, NaN when not a number. */
export function parseMoney(text: string, currency: string): number | null {
  const trimmed = text.trim().replace(/\s/g, '')
  if (trimmed === '') return null
  // A comma is the decimal separator when it comes last ("1.234,50"); otherwise a grouping one.
  const lastComma = trimmed.lastIndexOf(',')
  const lastDot = trimmed.lastIndexOf('.')
  const normalized =
    lastComma > lastDot
      ? trimmed.replace(/\./g, '').replace(',', '.')
      : trimmed.replace(/,/g, '')
  if (!/^\d+(\.\d*)?$/.test(normalized)) return Number.NaN
  return Math.round(Number(normalized) * 10 ** minorDigits(currency))
}

/** Minor units as an editable amount: 123450 → "1234.50". */
export function moneyInput(minor: number | null, currency: string): string {
  if (minor === null) return ''
  const digits = minorDigits(currency)
  return (minor / 10 ** digits).toFixed(digits)
}

// ---- Due dates ----

/** Past due and still open. */
export function isOverdue(card: Pick<Card, 'due_at' | 'status'>, now: number = nowMs()): boolean {
  if (!card.due_at || card.status !== 'open') return false
  const due = Date.parse(card.due_at)
  return Number.isFinite(due) && due < now
}

function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' })
const shortDateYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', year: 'numeric' })

/** "Today", "Tomorrow", "Yesterday", "Dec 3" (or "Dec 3, 2027" in another year). */
export function formatDue(iso: string | null, now: number = nowMs()): string {
  if (!iso) return ''
  const due = new Date(iso)
  if (Number.isNaN(due.getTime())) return ''
  const today = new Date(now)
  const day = localDay(due)
  const offset = (days: number) => localDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() + days))
  if (day === offset(0)) return 'Today'
  if (day === offset(1)) return 'Tomorrow'
  if (day === offset(-1)) return 'Yesterday'
  return (due.getFullYear() === today.getFullYear() ? shortDate : shortDateYear).format(due)
}

/** A due date for `<input type="date">` (the local day), '' for none. */
export function dateInput(iso: string | null): string {
  if (!iso) return ''
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '' : localDay(date)
}

/**
 * A picked day as the card's due instant: noon, local time, so that the day is the same
 * in UTC for every time zone from UTC−11 to UTC+11 (the hub's "today" is a UTC day).
 */
export function dueFromDateInput(value: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  if (!match) return null
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 12, 0, 0)
  return date.toISOString()
}

// ---- Durations ----

const UNITS: [string, number][] = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
]

/**
 * A duration in seconds as its largest unit and, with `parts` 2, the next one when not
 * zero: "2d 4h", "3h", "12m 5s", "45s" (rounded down); '—' for null.
 */
export function formatDuration(seconds: number | null | undefined, parts: 1 | 2 = 2): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  let rest = Math.max(0, Math.floor(seconds))
  const out: string[] = []
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (out.length === 0 && n === 0 && size > 1) continue
    if (out.length > 0 && n === 0) break
    out.push(`${n}${unit}`)
    if (out.length === parts) break
  }
  return out.join(' ')
}

// ---- SLA ----

/** The last share of a stage's SLA in which a card is warned about (amber). */
export const SLA_WARNING_SHARE = 0.2

export interface SlaState {
  /** `breached`: longer in the stage than its SLA; `warning`: in the SLA's last 20%. */
  level: 'breached' | 'warning'
  /** Seconds over the SLA (breached) or left of it (warning). */
  seconds: number
  slaHours: number
}

/**
 * How a card stands against its stage's SLA (`sla_hours`, counted from
 * `stage_entered_at`): only open cards in open stages with an SLA; null when within it
 * (or when the hub did not say when the card entered).
 */
export function slaState(
  card: Pick<Card, 'stage_entered_at' | 'status'>,
  stage: Pick<Stage, 'kind' | 'sla_hours'> | null | undefined,
  now: number = nowMs(),
): SlaState | null {
  if (!stage || stage.kind !== 'open' || card.status !== 'open') return null
  const hours = stage.sla_hours
  if (!hours || hours <= 0) return null
  const entered = Date.parse(card.stage_entered_at ?? '')
  if (!Number.isFinite(entered)) return null
  const limit = hours * 3600
  const elapsed = (now - entered) / 1000
  if (elapsed > limit) return { level: 'breached', seconds: elapsed - limit, slaHours: hours }
  if (elapsed >= limit * (1 - SLA_WARNING_SHARE)) return { level: 'warning', seconds: limit - elapsed, slaHours: hours }
  return null
}

/** The badge: "SLA +3h" when over, "SLA 2h left" when close. */
export function slaLabel(sla: SlaState): string {
  const time = formatDuration(sla.seconds, 1)
  return sla.level === 'breached' ? `SLA +${time}` : `SLA ${time} left`
}

/** The badge's longer text: "Over the 24h SLA by 3h 20m". */
export function slaDescription(sla: SlaState): string {
  const limit = formatDuration(sla.slaHours * 3600)
  const time = formatDuration(sla.seconds)
  return sla.level === 'breached' ? `Over the ${limit} SLA by ${time}` : `${time} left of the ${limit} SLA`
}

// ---- Labels ----

/** A label as the hub stores it (like Chatwoot's): lower case, no spaces. */
export function normalizeLabel(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, '-').slice(0, 60)
}

// ---- Moves ----

/**
 * Where a card dropped before `index` of the column as shown lands, as the API's position
 * (the place in the target stage once the card is taken out of its own). The column as
 * shown may be filtered, so positions come from the neighbours' real positions; without
 * filters this is just the index among the other cards. `undefined` means "the bottom".
 */
export function dropPosition(
  shown: readonly Card[],
  card: Pick<Card, 'id' | 'stage_id' | 'position'>,
  targetStageId: string,
  index: number,
): number | undefined {
  const others = shown.filter((c) => c.id !== card.id)
  // The index counted the dragged card when it sat above the drop point in this column.
  const shownIndex = shown.findIndex((c) => c.id === card.id)
  const at = shownIndex >= 0 && shownIndex < index ? index - 1 : index
  const sameStage = card.stage_id === targetStageId
  const adjust = (position: number) => (sameStage && card.position < position ? position - 1 : position)
  const next = others[at]
  if (next) return Math.max(0, adjust(next.position))
  const last = others[others.length - 1]
  if (!last) return sameStage ? card.position : undefined
  return adjust(last.position) + 1
}

/**
 * The cards after moving `cardId` to `position` of `stage` (the bottom when undefined),
 * as the hub does it: its place in the old stage closes up, the cards at and below the
 * new place move down one, and the card takes the stage's kind as its status (and, in
 * another stage, `enteredAt` as when it entered it). The other cards keep their objects;
 * the list is new.
 */
export function applyMove(
  cards: readonly Card[],
  cardId: string,
  stage: Pick<Stage, 'id' | 'kind'>,
  position: number | undefined,
  lostReason: string | null = null,
  enteredAt: string = nowIso(),
): Card[] {
  const moving = cards.find((c) => c.id === cardId)
  if (!moving) return [...cards]
  const remaining = cards.filter((c) => c.stage_id === stage.id && c.id !== cardId)
  const count =
    remaining.length === 0 ? 0 : Math.max(remaining.length, Math.max(...remaining.map((c) => c.position)) + 1)
  const to = position === undefined ? count : Math.min(Math.max(position, 0), count)
  return cards.map((c) => {
    if (c.id === cardId) {
      return {
        ...c,
        stage_id: stage.id,
        position: to,
        stage_entered_at: c.stage_id === stage.id ? c.stage_entered_at : enteredAt,
        status: stage.kind,
        lost_reason: stage.kind === 'lost' ? lostReason : null,
      }
    }
    let position = c.position
    if (c.stage_id === moving.stage_id && c.position > moving.position) position -= 1
    if (c.stage_id === stage.id && position >= to) position += 1
    return position === c.position ? c : { ...c, position }
  })
}

/** `list` with the item at `from` moved to `to` (a dragged column). */
export function reorder<T>(list: readonly T[], from: number, to: number): T[] {
  const result = [...list]
  const [item] = result.splice(from, 1)
  if (item === undefined) return result
  result.splice(Math.min(Math.max(to, 0), result.length), 0, item)
  return result
}

// ---- History ----

const FIELD_NAMES: Record<string, string> = {
  title: 'title',
  value_minor: 'value',
  currency: 'currency',
  priority: 'priority',
  due_at: 'due date',
  labels: 'labels',
  contact_name: 'contact',
  assignee_id: 'assignee',
  chatwoot_conversation_id: 'conversation',
  custom_fields: 'custom fields',
}

/** One line for a history event: "Moved from New to In progress". */
export function describeEvent(event: CardEvent, stageName: (id: string | null) => string): string {
  const from = stageName(event.from_stage_id)
  const to = stageName(event.to_stage_id)
  switch (event.kind) {
    case 'created':
      return to ? `Created in ${to}` : 'Created'
    case 'moved':
      return `Moved from ${from} to ${to}`
    case 'won':
      return `Won: moved to ${to}`
    case 'lost':
      return `Lost: moved to ${to}`
    case 'reopened':
      return `Reopened: moved from ${from} to ${to}`
    case 'archived':
      return 'Archived'
    case 'updated': {
      const fields = Object.keys(event.changes ?? {}).map((k) => FIELD_NAMES[k] ?? k.replace(/_/g, ' '))
      return fields.length ? `Changed ${fields.join(', ')}` : 'Updated'
    }
    default:
      return event.kind
  }
}

/** Who did it, as far as the history says. */
export function describeActor(event: CardEvent, currentUserId: string | null): string {
  if (event.actor_type === 'api_key') return 'an API key'
  if (event.actor_type === 'chatwoot') return 'Chatwoot'
  if (event.actor_user_id && event.actor_user_id === currentUserId) return 'you'
  return 'a teammate'
}

export const KIND_LABELS: Record<StageKind, string> = { open: 'Open', won: 'Won', lost: 'Lost' }

/**
 * `cards` with `card` (new, changed or moved elsewhere) at its place: the others keep
 * their order, and every stage's positions are 0..n-1 again, as they are on the hub.
 */
export function placeCard(cards: readonly Card[], card: Card): Card[] {
  const byStage = new Map<string, Card[]>()
  const others = cards.filter((c) => c.id !== card.id).sort((a, b) => a.position - b.position)
  for (const c of others) byStage.set(c.stage_id, [...(byStage.get(c.stage_id) ?? []), c])
  const column = byStage.get(card.stage_id) ?? []
  column.splice(Math.max(0, Math.min(card.position, column.length)), 0, card)
  byStage.set(card.stage_id, column)
  return [...byStage.values()].flatMap((list) => list.map((c, i) => (c.position === i ? c : { ...c, position: i })))
}

/** `cards` without `cardId`, its stage closed up. */
export function removeCard(cards: readonly Card[], cardId: string): Card[] {
  const gone = cards.find((c) => c.id === cardId)
  if (!gone) return [...cards]
  return cards
    .filter((c) => c.id !== cardId)
    .map((c) => (c.stage_id === gone.stage_id && c.position > gone.position ? { ...c, position: c.position - 1 } : c))
}
