import { describe, expect, it } from 'vitest'
import {
  billingTypeLabel,
  cycleLabel,
  exceededLine,
  exceededList,
  featureLabel,
  formatDay,
  formatMoney,
  formatPlanPrice,
  isLive,
  isOpenPix,
  limitText,
  monthlyPrice,
  normalizePrice,
  parseMoney,
  paymentBadge,
  planChange,
  statusBadge,
  usageLevel,
  usagePercent,
  usageRows,
} from './format'

/** Intl puts a no-break space between R$ and the amount. */
const plain = (text: string) => text.replace(/\s/g, ' ')

describe('money', () => {
  it('reads decimal strings, never floats written by hand', () => {
    expect(parseMoney('149.90')).toBe(149.9)
    expect(parseMoney(' 0.5 ')).toBe(0.5)
    expect(parseMoney('149,90')).toBeNull()
    expect(parseMoney('')).toBeNull()
    expect(parseMoney(null)).toBeNull()
  })

  it('formats as Brazilian reais whatever the browser speaks', () => {
    expect(plain(formatMoney('149.90', 'BRL'))).toBe('R$ 149,90')
    expect(plain(formatMoney('1490.00'))).toBe('R$ 1.490,00')
    expect(plain(formatMoney('0'))).toBe('R$ 0,00')
    expect(plain(formatMoney('10', 'USD'))).toBe('US$ 10,00')
    expect(formatMoney('n/a')).toBe('—')
  })

  it('normalizes a typed price to two decimals', () => {
    expect(normalizePrice('149.9')).toBe('149.90')
    expect(normalizePrice(' 149,90 ')).toBe('149.90')
    expect(normalizePrice('149')).toBe('149.00')
    expect(normalizePrice('149.999')).toBeNull()
    expect(normalizePrice('-1')).toBeNull()
    expect(normalizePrice('abc')).toBeNull()
  })
})

describe('cycles', () => {
  it('labels every cycle, and an unknown one as it is', () => {
    expect(['MONTHLY', 'QUARTERLY', 'SEMIANNUALLY', 'YEARLY', 'WEEKLY'].map(cycleLabel)).toEqual([
      'Monthly',
      'Quarterly',
      'Every 6 months',
      'Yearly',
      'Weekly',
    ])
  })

  it('shows the price per cycle', () => {
    const plan = { price: '149.90', currency: 'BRL' }
    expect(plain(formatPlanPrice({ ...plan, cycle: 'MONTHLY' }))).toBe('R$ 149,90 / month')
    expect(plain(formatPlanPrice({ ...plan, cycle: 'QUARTERLY' }))).toBe('R$ 149,90 / 3 months')
    expect(plain(formatPlanPrice({ ...plan, cycle: 'SEMIANNUALLY' }))).toBe('R$ 149,90 / 6 months')
    expect(plain(formatPlanPrice({ price: '1490.00', currency: 'BRL', cycle: 'YEARLY' }))).toBe('R$ 1.490,00 / year')
  })

  it('compares plans as the hub does: dearer is an upgrade, the rest a downgrade, same cycle only', () => {
    const pro = { price: '149.90', cycle: 'MONTHLY' }
    expect(monthlyPrice({ price: '1200.00', cycle: 'YEARLY' })).toBe(100)
    expect(planChange(pro, { price: '299.00', cycle: 'MONTHLY' })).toBe('upgrade')
    expect(planChange(pro, { price: '49.90', cycle: 'MONTHLY' })).toBe('downgrade')
    // The same price waits for the period's end too.
    expect(planChange(pro, { price: '149.90', cycle: 'MONTHLY' })).toBe('downgrade')
    // Another cycle is not a switch: cancel and subscribe again.
    expect(planChange(pro, { price: '1490.00', cycle: 'YEARLY' })).toBe('other_cycle')
    const yearly = { price: '1200.00', cycle: 'YEARLY' }
    expect(planChange(yearly, { price: '1490.00', cycle: 'YEARLY' })).toBe('upgrade')
  })
})

describe('dates', () => {
  it('a calendar day stays that day in any time zone', () => {
    expect(formatDay('2026-12-01')).toBe(new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(new Date(2026, 11, 1)))
    expect(formatDay(null)).toBe('—')
    expect(formatDay('soon', 'never')).toBe('never')
  })
})

describe('statuses', () => {
  it('labels subscription statuses with a tone', () => {
    expect(
      ['none', 'pending', 'trialing', 'active', 'past_due', 'suspended', 'canceled', 'on_hold'].map((s) => {
        const { label, tone } = statusBadge(s)
        return `${label}:${tone}`
      }),
    ).toEqual([
      'No subscription:slate',
      'Awaiting payment:amber',
      'Trial:blue',
      'Active:teal',
      'Past due:amber',
      'Suspended:ruby',
      'Canceled:slate',
      'On hold:slate',
    ])
    expect(['pending', 'trialing', 'active', 'past_due', 'suspended'].every(isLive)).toBe(true)
    expect(['none', 'canceled', null].some(isLive)).toBe(false)
  })

  it('labels payment statuses, unknown ones included', () => {
    expect(paymentBadge('RECEIVED')).toEqual({ label: 'Paid', tone: 'teal' })
    expect(paymentBadge('CONFIRMED')).toEqual({ label: 'Paid', tone: 'teal' })
    expect(paymentBadge('OVERDUE')).toEqual({ label: 'Overdue', tone: 'ruby' })
    expect(paymentBadge('DUNNING_REQUESTED')).toEqual({ label: 'Dunning requested', tone: 'slate' })
    expect(isOpenPix({ billing_type: 'PIX', status: 'PENDING' })).toBe(true)
    expect(isOpenPix({ billing_type: 'PIX', status: 'OVERDUE' })).toBe(true)
    expect(isOpenPix({ billing_type: 'PIX', status: 'RECEIVED' })).toBe(false)
    expect(isOpenPix({ billing_type: 'BOLETO', status: 'PENDING' })).toBe(false)
    expect(['PIX', 'BOLETO', 'CREDIT_CARD', 'UNDEFINED', 'DEBIT_CARD'].map(billingTypeLabel)).toEqual([
      'PIX',
      'Boleto',
      'Credit card',
      'Customer’s choice',
      'Debit card',
    ])
  })

  it('names features', () => {
    expect(featureLabel('kanban_enabled')).toBe('Kanban CRM')
    expect(featureLabel('internal_chat')).toBe('Team chat')
    expect(featureLabel('voice_enabled')).toBe('Voice')
  })
})

describe('usage', () => {
  it('warns from 80 % and is in danger from 100 %', () => {
    expect([0, 79, 80, 99, 100, 150].map((n) => usageLevel(n, 100))).toEqual([
      'ok',
      'ok',
      'warning',
      'warning',
      'danger',
      'danger',
    ])
    expect(usageLevel(4, 5)).toBe('warning')
    expect(usageLevel(0, 0)).toBe('ok')
    expect(usageLevel(1, 0)).toBe('danger')
    expect([usagePercent(1, 3), usagePercent(7, 5), usagePercent(0, 0), usagePercent(2, 0)]).toEqual([33, 100, 0, 100])
  })

  it('lists each limit the hub counts, messages of the month included', () => {
    const rows = usageRows({
      limits: {
        max_agents: 5,
        max_teams: 2,
        max_inboxes: 2,
        max_boards: 2,
        max_providers: 1,
        max_instances: 1,
        max_monthly_messages: 1000,
      },
      features: { kanban_enabled: true, internal_chat_enabled: true, analytics_enabled: false },
      usage: { agents: 4, teams: 1, inboxes: 2, boards: 5 },
      messages_this_month: 850,
    })
    expect(rows.map((r) => [r.resource, r.current, r.limit, r.level, r.percent])).toEqual([
      ['agents', 4, 5, 'warning', 80],
      ['teams', 1, 2, 'ok', 50],
      ['inboxes', 2, 2, 'danger', 100],
      ['boards', 5, 2, 'danger', 100],
      ['messages_this_month', 850, 1000, 'warning', 85],
    ])
  })

  it('says limits in words', () => {
    expect(limitText('max_agents', 1)).toBe('1 agent')
    expect(limitText('max_inboxes', 3)).toBe('3 inboxes')
    expect(limitText('max_monthly_messages', 10000)).toBe('10,000 messages a month')
  })

  it('says what to remove before a downgrade', () => {
    expect(exceededLine({ resource: 'boards', limit: 2, current: 5 })).toBe('Remove 3 boards (plan allows 2, you have 5)')
    expect(exceededLine({ resource: 'max_agents', limit: 5, current: 6 })).toBe('Remove 1 agent (plan allows 5, you have 6)')
    expect(exceededLine({ resource: 'inboxes', limit: 1, current: 2 })).toBe('Remove 1 inbox (plan allows 1, you have 2)')
    expect(exceededLine({ resource: 'widgets', limit: 1, current: 4 })).toBe('Remove 3 widgets (plan allows 1, you have 4)')
    expect(exceededList([{ resource: 'boards', limit: 2, current: 5 }, { resource: 'x' }, null])).toEqual([
      { resource: 'boards', limit: 2, current: 5 },
    ])
    expect(exceededList('nope')).toEqual([])
  })
})
