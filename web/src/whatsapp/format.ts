/** Words for WhatsApp servers and numbers: types, credentials, statuses, phones, history. */
import type { InstanceStatus, Provider, ProviderStatus, StatusChange } from '../api/whatsapp'
import { credentialFields, providerTypeInfo } from './providerTypes'
import { formatDateTime } from '../utils/format'

export type Tone = 'teal' | 'amber' | 'ruby' | 'slate' | 'blue'

function words(value: string): string {
  const text = value.replace(/_/g, ' ').toLowerCase()
  return text.charAt(0).toUpperCase() + text.slice(1)
}

// ---- Provider types and their credentials (the definitions: providerTypes.ts) ----

export { PROVIDER_TYPES, credentialFields, providerTypeInfo, type CredentialField, type ProviderTypeInfo } from './providerTypes'

/** "Evolution API", "Z-API", …; another type as it is spelled. */
export function providerTypeLabel(type: string | null | undefined): string {
  if (!type) return '—'
  return providerTypeInfo(type)?.label ?? words(type)
}

/** "Key …ests", "Admin token …a1b2": which credential the server holds, told apart by its end. */
export function credentialsHintText(provider: Pick<Provider, 'type' | 'credentials_hint' | 'has_credentials'>): string {
  if (!provider.has_credentials) return 'None'
  const first = credentialFields(provider.type)[0]
  const name = !first || first.key === 'api_key' ? 'Key' : first.label
  return provider.credentials_hint ? `${name} ${provider.credentials_hint}` : name
}

// ---- Statuses ----

const PROVIDER_STATUS: Record<string, { label: string; tone: Tone; title: string }> = {
  ok: { label: 'OK', tone: 'teal', title: 'The server answered and took its credentials at the last check.' },
  unreachable: {
    label: 'Unreachable',
    tone: 'ruby',
    title: 'The server did not answer at the last check, or did not answer as a server of its type does.',
  },
  credentials_invalid: {
    label: 'Credentials invalid',
    tone: 'ruby',
    title: 'The server refused the stored credentials at the last check. Edit the server to give new ones.',
  },
}

export function providerStatusBadge(status: ProviderStatus | null | undefined): { label: string; tone: Tone; title: string } {
  return PROVIDER_STATUS[status ?? ''] ?? { label: words(status || 'unknown'), tone: 'slate', title: '' }
}

const INSTANCE_STATUS: Record<string, { label: string; tone: Tone; title: string }> = {
  disconnected: { label: 'Disconnected', tone: 'slate', title: 'No WhatsApp session: connect the number to use it.' },
  connecting: { label: 'Connecting', tone: 'blue', title: 'The session is starting on the provider server.' },
  qr_pending: { label: 'Waiting for scan', tone: 'amber', title: 'A QR code or pairing code waits for the phone.' },
  connected: { label: 'Connected', tone: 'teal', title: 'The WhatsApp session is open.' },
  stale: {
    label: 'Stale',
    tone: 'amber',
    title: 'The provider says it is connected, but nothing was heard from it for too long.',
  },
  failed: { label: 'Failed', tone: 'ruby', title: 'The provider could not open the session. Connect again.' },
}

/** "Waiting for scan" for `qr_pending`, and so on; an unknown status as it is. */
export function instanceStatusBadge(status: InstanceStatus | null | undefined): { label: string; tone: Tone; title: string } {
  return INSTANCE_STATUS[status ?? ''] ?? { label: words(status || 'unknown'), tone: 'slate', title: '' }
}

export function instanceStatusLabel(status: InstanceStatus | null | undefined): string {
  return instanceStatusBadge(status).label
}

/** A number whose session exists in some form (logging out means something). */
export function hasSession(status: InstanceStatus): boolean {
  return status !== 'disconnected'
}

/** A number the hub may send through or restart: connected, or stale (worth a try: that is how its line gets tested). */
export function isUsable(status: InstanceStatus): boolean {
  return status === 'connected' || status === 'stale'
}

// ---- Names and phones ----

/** An instance's name on the provider server: 1 to 64 letters, digits, - and _. */
export function instanceNameError(name: string): string | null {
  if (!name) return 'Give the number a name, e.g. sales or support-2.'
  if (name.length > 64) return 'Use at most 64 characters.'
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return 'Use only letters, digits, - and _ (no spaces or accents).'
  return null
}

/** The digits of a phone number as typed ("+55 (11) 91234-5678" → "5511912345678"). */
export function phoneDigits(value: string): string {
  return value.replace(/\D/g, '')
}

/** A number with its country code: 10 to 15 digits. */
export function phoneError(value: string): string | null {
  const digits = phoneDigits(value)
  if (!digits) return 'Enter the number of the phone, with its country code.'
  if (digits.length < 10 || digits.length > 15) {
    return 'Use the whole number with its country code, e.g. 55 11 91234-5678.'
  }
  return null
}

/** "+5511912345678" (a WhatsApp id's "@s.whatsapp.net" dropped); "—" without one. */
export function formatPhone(phone: string | null | undefined): string {
  if (!phone) return '—'
  const digits = phoneDigits(phone.split('@')[0] ?? '')
  return digits ? `+${digits}` : phone
}

/** A server's base URL as the hub keeps it: http(s), a host, nothing after the path. */
export function baseUrlError(value: string): string | null {
  const text = value.trim()
  if (!text) return "Enter the server's address, e.g. https://evolution.example.com."
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'This is not a URL. Start it with https:// or http://.'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Use an http:// or https:// address.'
  if (url.username || url.password) return 'Leave the user name and password out of the address.'
  if (url.search || url.hash) return 'Use the address without a query (?…) or fragment (#…).'
  return null
}

/** The URL as sent: trimmed, without a trailing slash. */
export function normalizeBaseUrl(value: string): string {
  return value.trim().replace(/\/+$/, '')
}

/**
 * The QR image as an <img> source: a `data:image/…` URL as the hub sends it, or bare base64
 * taken as a PNG. Anything else (another URL) is not shown: the page loads no outside images.
 */
export function qrImageSrc(image: string | null | undefined): string | null {
  const text = (image ?? '').trim()
  if (!text) return null
  if (/^data:image\/[a-z+.-]+;base64,[A-Za-z0-9+/=\s]+$/i.test(text)) return text
  if (/^[A-Za-z0-9+/=\s]+$/.test(text)) return `data:image/png;base64,${text.replace(/\s/g, '')}`
  return null
}

// ---- History ----

const REASONS: Record<string, string> = {
  created: 'Created',
  connect: 'Connect',
  check: 'Check',
  logout: 'Log out',
  webhook: 'Provider event',
  health: 'Health check',
}

export function historyReasonLabel(reason: string): string {
  return REASONS[reason] ?? words(reason || 'unknown')
}

const SOURCES: Record<string, string> = {
  user: 'by a person',
  check: 'by a check',
  webhook: "by the provider's webhook",
  system: 'by the hub',
}

export function historySourceLabel(source: string): string {
  return SOURCES[source] ?? `by ${source.replace(/_/g, ' ') || 'unknown'}`
}

/** "×3" for an entry that stands for several changes; empty for one. */
export function changesText(change: Pick<StatusChange, 'changes'>): string {
  return change.changes > 1 ? `×${change.changes}` : ''
}

/** "Nov 28, 2026, 1:55 PM – Nov 28, 2026, 1:58 PM", or one time when both are the same. */
export function timeRange(first: string, last: string): string {
  const from = formatDateTime(first)
  const to = formatDateTime(last)
  return from === to ? from : `${from} – ${to}`
}
