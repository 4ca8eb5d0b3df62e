/** Words for Settings → Chatwoot: connection state, inbox states, what a connect did. */
import { ApiError } from '../../api/client'
import type {
  ConnectReport,
  ConnectionStatus,
  DisconnectReport,
  Inbox,
  SyncCounts,
  SyncReport,
} from '../../api/chatwoot'
import { problemMessage } from '../../auth/messages'

export type StatusTone = 'teal' | 'slate' | 'ruby' | 'amber'

/** The connection's pill: Connected, Not connected or Error. */
export function connectionLabel(status: ConnectionStatus['status'] | null | undefined): {
  label: string
  tone: StatusTone
} {
  switch (status) {
    case 'connected':
      return { label: 'Connected', tone: 'teal' }
    case 'error':
      return { label: 'Error', tone: 'ruby' }
    default:
      return { label: 'Not connected', tone: 'slate' }
  }
}

/** Whether Chatwoot answered the stored token just now; null when there is nothing to check. */
export function healthLabel(healthy: boolean | null | undefined): { label: string; tone: StatusTone } | null {
  if (healthy === true) return { label: 'Chatwoot answered', tone: 'teal' }
  if (healthy === false) return { label: 'Chatwoot did not answer', tone: 'amber' }
  return null
}

export function tokenSourceLabel(source: string | null | undefined): string {
  if (source === 'access_token') return "An administrator's access token"
  if (source === 'platform') return "The installation's platform token"
  return '—'
}

const CHANNELS: Record<string, string> = {
  'Channel::Whatsapp': 'WhatsApp',
  'Channel::WebWidget': 'Website',
  'Channel::Api': 'API',
  'Channel::Email': 'Email',
  'Channel::FacebookPage': 'Messenger',
  'Channel::Instagram': 'Instagram',
  'Channel::TwitterProfile': 'X (Twitter)',
  'Channel::TwilioSms': 'Twilio SMS',
  'Channel::Sms': 'SMS',
  'Channel::Telegram': 'Telegram',
  'Channel::Line': 'LINE',
  'Channel::Voice': 'Voice',
}

/** "Channel::Whatsapp" → "WhatsApp"; an unknown "Channel::FooBar" → "Foo Bar". */
export function channelLabel(channelType: string): string {
  const known = CHANNELS[channelType]
  if (known) return known
  const bare = channelType.replace(/^Channel::/, '')
  const words = bare.replace(/([a-z0-9])([A-Z])/g, '$1 $2').trim()
  return words || channelType
}

export type InboxState = 'enabled' | 'over_quota' | 'disabled_by_admin' | 'removed' | 'disabled'

export function inboxState(inbox: Inbox): InboxState {
  if (inbox.removed_at) return 'removed'
  if (inbox.enabled) return 'enabled'
  if (inbox.disabled_reason === 'over_quota') return 'over_quota'
  if (inbox.disabled_reason === 'disabled_by_admin') return 'disabled_by_admin'
  return 'disabled'
}

const INBOX_STATES: Record<InboxState, string> = {
  enabled: 'Enabled',
  over_quota: "Over your plan's inbox limit",
  disabled_by_admin: 'Disabled by an admin',
  removed: 'Removed in Chatwoot',
  disabled: 'Disabled',
}

export function inboxStateLabel(inbox: Inbox): string {
  return INBOX_STATES[inboxState(inbox)]
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/** "2 added, 1 removed", or null when nothing changed. */
export function countsText(counts: Partial<SyncCounts> | null | undefined): string | null {
  if (!counts) return null
  const parts = (['added', 'updated', 'removed', 'skipped'] as const)
    .filter((key) => (counts[key] ?? 0) > 0)
    .map((key) => `${counts[key]} ${key}`)
  return parts.length ? parts.join(', ') : null
}

/** One line per kind that changed, e.g. "Inboxes: 2 added"; empty when nothing changed. */
export function syncLines(report: Partial<SyncReport> | null | undefined): string[] {
  if (!report) return []
  const kinds = [
    ['Inboxes', report.inboxes],
    ['Agents', report.agents],
    ['Teams', report.teams],
  ] as const
  return kinds.flatMap(([label, counts]) => {
    const text = countsText(counts)
    return text ? [`${label}: ${text}`] : []
  })
}

/** The sync as one sentence. */
export function syncSummary(report: Partial<SyncReport> | null | undefined): string {
  const lines = syncLines(report)
  return lines.length ? lines.join(' · ') : 'Everything was already up to date.'
}

/** What a connect did, one line each: the webhook, the Dashboard App, the sync. */
export function connectLines(report: ConnectReport): string[] {
  const webhook = {
    created: 'Registered the hub’s webhook in Chatwoot.',
    updated: 'Updated the events of the hub’s webhook in Chatwoot.',
    unchanged: 'The hub’s webhook was already registered in Chatwoot.',
  }[report.webhook.action as 'created' | 'updated' | 'unchanged'] ?? 'Checked the hub’s webhook in Chatwoot.'
  const signed = report.webhook.signed
    ? 'Chatwoot signs its deliveries, and the hub checks each signature.'
    : 'Chatwoot does not sign its deliveries to this webhook (Chatwoot 4.11.2 and later do).'
  const app =
    report.dashboard_app.action === 'created'
      ? 'Added the Whatpro Hub Dashboard App to Chatwoot’s conversations.'
      : 'The Whatpro Hub Dashboard App was already in Chatwoot.'
  const changes = syncLines(report.sync)
  const sync = changes.length
    ? `Synced from Chatwoot — ${changes.join(' · ')}.`
    : 'Synced from Chatwoot: inboxes, agents and teams were already up to date.'
  return [webhook, signed, app, sync]
}

/** What a disconnect did. */
export function disconnectMessage(report: DisconnectReport): string {
  const removed = [
    report.webhook.action === 'removed' ? 'webhook' : null,
    report.dashboard_app.action === 'removed' ? 'Dashboard App' : null,
  ].filter(Boolean)
  if (removed.length === 0) return 'This account was not connected to Chatwoot.'
  return `Disconnected. Removed the hub’s ${removed.join(' and ')} from Chatwoot; Chatwoot no longer sends events to the hub.`
}

/** "Inbox limit reached" with the plan's numbers when the problem carries them. */
function quotaMessage(error: ApiError): string {
  const { limit, current } = error.problem
  if (typeof limit === 'number') {
    const enabled = typeof current === 'number' ? current : limit
    return (
      `Your plan allows ${plural(limit, 'enabled inbox', 'enabled inboxes')} and ` +
      `${enabled === 1 ? '1 is' : `${enabled} are`} enabled already. ` +
      'Disable another inbox first, or ask to upgrade the plan.'
    )
  }
  return "Your plan's inbox limit is reached. Disable another inbox first, or ask to upgrade the plan."
}

/** Codes whose generic sentence (auth/messages) fits here too. */
const GENERIC = new Set([
  'validation_failed',
  'rate_limited',
  'network_error',
  'forbidden',
  'internal_error',
  'not_found',
  'token_expired',
  'invalid_token',
  'unauthenticated',
  'session_revoked',
  'session_expired',
  'subscription_suspended',
  'feature_disabled',
])

/** A sentence for a failed Chatwoot call: the problem's own detail for Chatwoot's answers. */
export function chatwootErrorMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return problemMessage(error)
  if (error.code === 'quota_exceeded') return quotaMessage(error)
  if (error.code === 'chatwoot_not_connected') {
    return 'This account is not connected to Chatwoot. Connect it first, then sync.'
  }
  if (GENERIC.has(error.code)) return problemMessage(error)
  return error.problem.detail || problemMessage(error)
}
