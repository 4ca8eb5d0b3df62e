/** Words and numbers for billing: money, cycles, statuses, usage and plan changes. */
import type {
  BillingCycle,
  BillingStatus,
  BillingType,
  ExceededUsage,
  Limits,
  Payment,
  Plan,
  Usage,
} from '../api/billing'

// ---- Money ----

/** "149.90" → 149.9; null for anything that is not a plain decimal. */
export function parseMoney(value: string | number | null | undefined): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null
  const text = (value ?? '').trim()
  if (!/^-?\d+(\.\d+)?$/.test(text)) return null
  return Number(text)
}

const moneyFormats = new Map<string, Intl.NumberFormat>()

/** "149.90" in BRL → "R$ 149,90" (Brazilian notation, whatever the browser's language). */
export function formatMoney(value: string | number | null | undefined, currency = 'BRL'): string {
  const amount = parseMoney(value)
  if (amount === null) return '—'
  const code = (currency || 'BRL').toUpperCase()
  let format = moneyFormats.get(code)
  if (!format) {
    try {
      format = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: code })
    } catch {
      // Not an ISO 4217 code: show the number and the code as they are.
      return `${code} ${amount.toFixed(2)}`
    }
    moneyFormats.set(code, format)
  }
  return format.format(amount)
}

/** A price as typed in the plan editor ("149,9", " 149.90 ") → "149.90"; null if not one. */
export function normalizePrice(value: string): string | null {
  const text = value.trim().replace(',', '.')
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null
  return Number(text).toFixed(2)
}

// ---- Cycles ----

export const CYCLES: BillingCycle[] = ['MONTHLY', 'QUARTERLY', 'SEMIANNUALLY', 'YEARLY']

const CYCLE_INFO: Record<string, { label: string; per: string; months: number }> = {
  MONTHLY: { label: 'Monthly', per: 'month', months: 1 },
  QUARTERLY: { label: 'Quarterly', per: '3 months', months: 3 },
  SEMIANNUALLY: { label: 'Every 6 months', per: '6 months', months: 6 },
  YEARLY: { label: 'Yearly', per: 'year', months: 12 },
}

/** "Monthly", "Quarterly", "Every 6 months", "Yearly"; another cycle as Asaas spells it. */
export function cycleLabel(cycle: BillingCycle | null | undefined): string {
  if (!cycle) return '—'
  return CYCLE_INFO[cycle]?.label ?? cycle.charAt(0) + cycle.slice(1).toLowerCase()
}

/** "month", "3 months", "6 months", "year"; null for a cycle this UI does not know. */
export function cyclePer(cycle: BillingCycle | null | undefined): string | null {
  return (cycle && CYCLE_INFO[cycle]?.per) || null
}

/** How many months a cycle lasts; null for one this UI does not know. */
export function cycleMonths(cycle: BillingCycle): number | null {
  return CYCLE_INFO[cycle]?.months ?? null
}

/** "R$ 149,90 / month", "R$ 1.490,00 / year". */
export function formatPlanPrice(plan: Pick<Plan, 'price' | 'currency' | 'cycle'>): string {
  const money = formatMoney(plan.price, plan.currency)
  const per = CYCLE_INFO[plan.cycle]?.per
  return per ? `${money} / ${per}` : `${money} (${cycleLabel(plan.cycle)})`
}

/** The plan's price per month, to compare plans of different cycles. */
export function monthlyPrice(plan: Pick<Plan, 'price' | 'cycle'>): number | null {
  const price = parseMoney(plan.price)
  const months = cycleMonths(plan.cycle)
  return price === null || months === null ? null : price / months
}

export type PlanChange = 'upgrade' | 'downgrade' | 'other_cycle'

/**
 * What switching from `current` to `target` is, as the hub decides it: only within the same
 * cycle (another cycle means cancelling and subscribing again); a plan dearer per month is
 * an upgrade, applied at once; any other a downgrade, which waits for the end of the paid
 * period (the subscription's `pending_plan`).
 */
export function planChange(current: Pick<Plan, 'price' | 'cycle'>, target: Pick<Plan, 'price' | 'cycle'>): PlanChange {
  if (current.cycle !== target.cycle) return 'other_cycle'
  const from = monthlyPrice(current)
  const to = monthlyPrice(target)
  return from !== null && to !== null && to - from > 0.005 ? 'upgrade' : 'downgrade'
}

// ---- Dates ----

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' })

/**
 * A calendar day ("2026-12-05", as Asaas dates are) in the browser's words ("Dec 5, 2026"),
 * read as that day wherever the browser is (not midnight UTC); an RFC 3339 time works too.
 */
export function formatDay(value: string | null | undefined, fallback = '—'): string {
  if (!value) return fallback
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  const date = day ? new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])) : new Date(value)
  return Number.isNaN(date.getTime()) ? fallback : dayFormat.format(date)
}

// ---- Statuses ----

export type Tone = 'teal' | 'amber' | 'ruby' | 'slate' | 'blue'

const STATUS: Record<string, { label: string; tone: Tone }> = {
  none: { label: 'No subscription', tone: 'slate' },
  pending: { label: 'Awaiting payment', tone: 'amber' },
  trialing: { label: 'Trial', tone: 'blue' },
  active: { label: 'Active', tone: 'teal' },
  past_due: { label: 'Past due', tone: 'amber' },
  suspended: { label: 'Suspended', tone: 'ruby' },
  canceled: { label: 'Canceled', tone: 'slate' },
}

function words(value: string): string {
  const text = value.replace(/_/g, ' ').toLowerCase()
  return text.charAt(0).toUpperCase() + text.slice(1)
}

export function statusBadge(status: BillingStatus | null | undefined): { label: string; tone: Tone } {
  return STATUS[status ?? 'none'] ?? { label: words(status ?? ''), tone: 'slate' }
}

/** A subscription that exists and has not ended: plans are switched, not subscribed to. */
export function isLive(status: BillingStatus | null | undefined): boolean {
  return ['pending', 'trialing', 'active', 'past_due', 'suspended'].includes(status ?? 'none')
}

const PAID = ['RECEIVED', 'CONFIRMED', 'RECEIVED_IN_CASH']
const OPEN = ['PENDING', 'OVERDUE', 'AWAITING_RISK_ANALYSIS', 'AUTHORIZED']

const PAYMENT_STATUS: Record<string, { label: string; tone: Tone }> = {
  PENDING: { label: 'Pending', tone: 'amber' },
  OVERDUE: { label: 'Overdue', tone: 'ruby' },
  RECEIVED: { label: 'Paid', tone: 'teal' },
  CONFIRMED: { label: 'Paid', tone: 'teal' },
  RECEIVED_IN_CASH: { label: 'Paid in cash', tone: 'teal' },
  REFUNDED: { label: 'Refunded', tone: 'slate' },
  REFUND_REQUESTED: { label: 'Refund requested', tone: 'slate' },
  REFUND_IN_PROGRESS: { label: 'Refund in progress', tone: 'slate' },
  CHARGEBACK_REQUESTED: { label: 'Chargeback', tone: 'ruby' },
  CHARGEBACK_DISPUTE: { label: 'Chargeback dispute', tone: 'ruby' },
  AWAITING_RISK_ANALYSIS: { label: 'In analysis', tone: 'amber' },
  DELETED: { label: 'Canceled', tone: 'slate' },
}

/** Asaas's payment status in words; an unknown one as it is, never an error. */
export function paymentBadge(status: string): { label: string; tone: Tone } {
  return PAYMENT_STATUS[status] ?? { label: words(status || 'unknown'), tone: 'slate' }
}

export function isPaid(payment: Pick<Payment, 'status'>): boolean {
  return PAID.includes(payment.status)
}

/** A charge still waiting for its money. */
export function isOpen(payment: Pick<Payment, 'status'>): boolean {
  return OPEN.includes(payment.status)
}

/** An open charge payable by PIX: the page can show its QR code. */
export function isOpenPix(payment: Pick<Payment, 'status' | 'billing_type'>): boolean {
  return payment.billing_type === 'PIX' && isOpen(payment)
}

const BILLING_TYPES: Record<string, string> = {
  PIX: 'PIX',
  BOLETO: 'Boleto',
  CREDIT_CARD: 'Credit card',
  UNDEFINED: 'Customer’s choice',
}

export function billingTypeLabel(type: BillingType | null | undefined): string {
  if (!type) return '—'
  return BILLING_TYPES[type] ?? words(type)
}

// ---- Limits and usage ----

export interface LimitInfo {
  key: keyof Limits
  /** The key of `usage.usage` it is counted by (messages: `messages_this_month`). */
  resource: string
  label: string
  one: string
  many: string
}

export const LIMITS: LimitInfo[] = [
  { key: 'max_agents', resource: 'agents', label: 'Agents', one: 'agent', many: 'agents' },
  { key: 'max_teams', resource: 'teams', label: 'Teams', one: 'team', many: 'teams' },
  { key: 'max_inboxes', resource: 'inboxes', label: 'Inboxes', one: 'inbox', many: 'inboxes' },
  { key: 'max_boards', resource: 'boards', label: 'Kanban boards', one: 'board', many: 'boards' },
  { key: 'max_providers', resource: 'providers', label: 'WhatsApp providers', one: 'provider', many: 'providers' },
  { key: 'max_instances', resource: 'instances', label: 'WhatsApp instances', one: 'instance', many: 'instances' },
  {
    key: 'max_monthly_messages',
    resource: 'messages_this_month',
    label: 'Messages this month',
    one: 'message',
    many: 'messages',
  },
]

export const FEATURES = [
  { key: 'kanban_enabled', label: 'Kanban CRM' },
  { key: 'internal_chat_enabled', label: 'Team chat' },
  { key: 'analytics_enabled', label: 'Analytics' },
] as const

export type UsageLevel = 'ok' | 'warning' | 'danger'

/** Warning from 80 % of the limit, danger from 100 %. A limit of 0 is full at once. */
export function usageLevel(current: number, limit: number): UsageLevel {
  if (limit <= 0) return current > 0 ? 'danger' : 'ok'
  const ratio = current / limit
  if (ratio >= 1) return 'danger'
  if (ratio >= 0.8) return 'warning'
  return 'ok'
}

/** How full, 0 to 100 (a bar's width). */
export function usagePercent(current: number, limit: number): number {
  if (limit <= 0) return current > 0 ? 100 : 0
  return Math.min(100, Math.max(0, Math.round((current / limit) * 100)))
}

export interface UsageRow extends LimitInfo {
  current: number
  limit: number
  level: UsageLevel
  percent: number
}

/** One row per limit the hub counts (a resource it does not report is left out). */
export function usageRows(usage: Usage): UsageRow[] {
  return LIMITS.flatMap((info) => {
    const limit = usage.limits?.[info.key]
    const current =
      info.resource === 'messages_this_month' ? usage.messages_this_month : usage.usage?.[info.resource]
    if (typeof limit !== 'number' || typeof current !== 'number') return []
    return [{ ...info, current, limit, level: usageLevel(current, limit), percent: usagePercent(current, limit) }]
  })
}

const numberFormat = new Intl.NumberFormat()

export function formatCount(n: number): string {
  return numberFormat.format(n)
}

function countOf(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`
}

/** "5 agents", "1 inbox", "1,000 messages a month". */
export function limitText(key: keyof Limits, value: number): string {
  const info = LIMITS.find((l) => l.key === key)
  if (!info) return `${key}: ${value}`
  if (key === 'max_monthly_messages') return `${countOf(value, 'message', 'messages')} a month`
  return countOf(value, info.one, info.many)
}

/**
 * What to remove before a downgrade the account's usage does not fit (409
 * `usage_exceeds_plan`): "Remove 3 boards (plan allows 2, you have 5)".
 */
export function exceededLine({ resource, limit, current }: ExceededUsage): string {
  const info = LIMITS.find((l) => l.resource === resource || l.key === resource || l.key === `max_${resource}`)
  if (info?.key === 'max_monthly_messages' || resource.includes('message')) {
    return `Messages this month: the plan allows ${formatCount(limit)}, you have sent ${formatCount(current)}`
  }
  const one = info?.one ?? resource.replace(/_/g, ' ')
  const many = info?.many ?? resource.replace(/_/g, ' ')
  const over = current - limit
  return `Remove ${countOf(over, one, many)} (plan allows ${formatCount(limit)}, you have ${formatCount(current)})`
}

/** The `exceeded` list of a problem, whatever its shape; malformed entries are dropped. */
export function exceededList(value: unknown): ExceededUsage[] {
  if (!Array.isArray(value)) return []
  return value.filter(
    (item): item is ExceededUsage =>
      typeof item === 'object' &&
      item !== null &&
      typeof item.resource === 'string' &&
      typeof item.limit === 'number' &&
      typeof item.current === 'number',
  )
}

/** "Kanban CRM" for `kanban_enabled` (or `kanban`); the name itself for an unknown one. */
export function featureLabel(feature: string): string {
  const key = feature.endsWith('_enabled') ? feature : `${feature}_enabled`
  return FEATURES.find((f) => f.key === key)?.label ?? words(feature.replace(/_enabled$/, ''))
}
