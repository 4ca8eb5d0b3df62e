/** The banners above every page, from the account's billing status and message usage. */
import type { BillingStatus, Usage } from '../api/billing'
import { formatDateTime } from '../utils/format'
import { formatCount, usageLevel } from './format'

export type BannerKind = 'past_due' | 'suspended' | 'messages'
export type BannerTone = 'info' | 'warning' | 'danger'

export interface Banner {
  kind: BannerKind
  tone: BannerTone
  message: string
  /** A link to Settings → Billing, for those who may open it. */
  action: string | null
}

export interface BannerInput {
  status: BillingStatus | null | undefined
  graceUntil: string | null | undefined
  usage: Pick<Usage, 'limits' | 'messages_this_month'> | null | undefined
  /** Supervisors and admins, who can open Settings → Billing. */
  canSeeBilling: boolean
}

/** Past due and suspended exclude each other; the messages banner may come with either. */
export function bannersFor({ status, graceUntil, usage, canSeeBilling }: BannerInput): Banner[] {
  const banners: Banner[] = []
  const ask = canSeeBilling ? '' : ' Ask an administrator to pay it.'
  if (status === 'past_due') {
    const until = graceUntil ? formatDateTime(graceUntil, '') : ''
    banners.push({
      kind: 'past_due',
      tone: 'warning',
      message: until
        ? `Payment overdue — full access until ${until}.${ask}`
        : `Payment overdue — pay now to keep full access.${ask}`,
      action: canSeeBilling ? 'Pay now' : null,
    })
  } else if (status === 'suspended') {
    banners.push({
      kind: 'suspended',
      tone: 'danger',
      message: `Subscription suspended: the account is read-only until payment.${ask}`,
      action: canSeeBilling ? 'Go to billing' : null,
    })
  }

  const limit = usage?.limits?.max_monthly_messages
  const sent = usage?.messages_this_month
  if (typeof limit === 'number' && typeof sent === 'number' && limit > 0) {
    const level = usageLevel(sent, limit)
    const upgrade = canSeeBilling ? '' : ' Ask an administrator about a larger plan.'
    if (level === 'danger') {
      banners.push({
        kind: 'messages',
        tone: 'warning',
        message: `This account has used all ${formatCount(limit)} messages of its plan this month.${upgrade}`,
        action: canSeeBilling ? 'See plans' : null,
      })
    } else if (level === 'warning') {
      const percent = Math.floor((sent / limit) * 100)
      banners.push({
        kind: 'messages',
        tone: 'info',
        message: `This account has used ${percent}% of its ${formatCount(limit)} messages this month.${upgrade}`,
        action: canSeeBilling ? 'See plans' : null,
      })
    }
  }
  return banners
}
