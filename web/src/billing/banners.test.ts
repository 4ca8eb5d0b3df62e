import { describe, expect, it } from 'vitest'
import { bannersFor } from './banners'
import { formatDateTime } from '../utils/format'

const limits = { max_monthly_messages: 1000 } as never
const usage = (sent: number) => ({ limits, messages_this_month: sent })
const base = { status: 'active', graceUntil: null, usage: usage(10), canSeeBilling: true }

describe('billing banners', () => {
  it('none for an active, trialing, pending, canceled or unknown subscription', () => {
    for (const status of ['active', 'trialing', 'pending', 'canceled', 'none', null]) {
      expect(bannersFor({ ...base, status })).toEqual([])
    }
  })

  it('past due: a warning with the end of full access and "Pay now"', () => {
    const graceUntil = '2026-12-03T14:00:00Z'
    expect(bannersFor({ ...base, status: 'past_due', graceUntil })).toEqual([
      {
        kind: 'past_due',
        tone: 'warning',
        message: `Payment overdue — full access until ${formatDateTime(graceUntil)}.`,
        action: 'Pay now',
      },
    ])
    expect(bannersFor({ ...base, status: 'past_due' })[0]!.message).toBe('Payment overdue — pay now to keep full access.')
  })

  it('suspended: danger, read-only, "Go to billing"', () => {
    expect(bannersFor({ ...base, status: 'suspended' })).toEqual([
      {
        kind: 'suspended',
        tone: 'danger',
        message: 'Subscription suspended: the account is read-only until payment.',
        action: 'Go to billing',
      },
    ])
  })

  it('agents, who cannot open billing, are told to ask an administrator and get no link', () => {
    const [banner] = bannersFor({ ...base, status: 'suspended', canSeeBilling: false })
    expect(banner!.action).toBeNull()
    expect(banner!.message).toMatch(/read-only until payment\. Ask an administrator to pay it\.$/)
  })

  it('monthly messages: info from 80 %, warning when used up, nothing below', () => {
    expect(bannersFor({ ...base, usage: usage(799) })).toEqual([])
    expect(bannersFor({ ...base, usage: usage(800) })).toEqual([
      {
        kind: 'messages',
        tone: 'info',
        message: 'This account has used 80% of its 1,000 messages this month.',
        action: 'See plans',
      },
    ])
    expect(bannersFor({ ...base, usage: usage(1200) })).toEqual([
      {
        kind: 'messages',
        tone: 'warning',
        message: 'This account has used all 1,000 messages of its plan this month.',
        action: 'See plans',
      },
    ])
  })

  it('a suspended account over its messages gets both, suspension first', () => {
    expect(bannersFor({ ...base, status: 'suspended', usage: usage(1000) }).map((b) => b.kind)).toEqual([
      'suspended',
      'messages',
    ])
  })

  it('no messages banner without a usage answer or a limit', () => {
    expect(bannersFor({ ...base, usage: null })).toEqual([])
    expect(bannersFor({ ...base, usage: { limits: { max_monthly_messages: 0 } as never, messages_this_month: 5 } })).toEqual([])
  })
})
