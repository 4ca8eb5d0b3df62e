import { describe, expect, it } from 'vitest'
import { ApiError, type Problem } from '../api/client'
import {
  baseUrlError,
  changesText,
  credentialFields,
  credentialsHintText,
  formatPhone,
  instanceNameError,
  instanceStatusBadge,
  normalizeBaseUrl,
  phoneDigits,
  phoneError,
  providerStatusBadge,
  providerTypeLabel,
  qrImageSrc,
  timeRange,
} from './format'
import { quotaMessage, whatsappErrorMessage } from './messages'

function apiError(code: string, extra: Partial<Problem> = {}) {
  return new ApiError({ type: 'about:blank', title: 'Error', status: 400, detail: `detail of ${code}`, code, ...extra })
}

describe('WhatsApp words', () => {
  it('names the provider types, and an unknown one as it is', () => {
    expect(providerTypeLabel('evolution')).toBe('Evolution API')
    expect(providerTypeLabel('cloud_api')).toBe('WhatsApp Cloud API')
    expect(providerTypeLabel('zapi')).toBe('Z-API')
    expect(providerTypeLabel('new_thing')).toBe('New thing')
  })

  it("asks for each type's own credentials", () => {
    expect(credentialFields('evolution').map((f) => f.key)).toEqual(['api_key'])
    expect(credentialFields('waha').map((f) => f.key)).toEqual(['api_key'])
    expect(credentialFields('uazapi').map((f) => f.key)).toEqual(['admin_token'])
    expect(credentialFields('zapi').map((f) => f.key)).toEqual(['client_token'])
    expect(credentialFields('cloud_api').map((f) => f.key)).toEqual(['access_token', 'app_secret'])
    expect(credentialFields('other')).toEqual([])
  })

  it('tells which credential a server holds by its end', () => {
    const base = { has_credentials: true, credentials_hint: '…ests' }
    expect(credentialsHintText({ ...base, type: 'evolution' })).toBe('Key …ests')
    expect(credentialsHintText({ ...base, type: 'uazapi' })).toBe('Admin token …ests')
    expect(credentialsHintText({ ...base, type: 'cloud_api' })).toBe('Access token …ests')
    expect(credentialsHintText({ ...base, type: 'evolution', has_credentials: false })).toBe('None')
  })

  it('puts statuses in words with a tone', () => {
    expect(providerStatusBadge('ok')).toMatchObject({ label: 'OK', tone: 'teal' })
    expect(providerStatusBadge('credentials_invalid')).toMatchObject({ label: 'Credentials invalid', tone: 'ruby' })
    expect(instanceStatusBadge('qr_pending')).toMatchObject({ label: 'Waiting for scan', tone: 'amber' })
    expect(instanceStatusBadge('connected')).toMatchObject({ label: 'Connected', tone: 'teal' })
    expect(instanceStatusBadge('banned_forever')).toMatchObject({ label: 'Banned forever', tone: 'slate' })
  })

  it('checks a number name as the hub does', () => {
    expect(instanceNameError('sales-2_b')).toBeNull()
    expect(instanceNameError('')).toMatch(/Give the number a name/)
    expect(instanceNameError('sales team')).toMatch(/only letters, digits, - and _/)
    expect(instanceNameError('vendas-são-paulo')).toMatch(/only letters/)
    expect(instanceNameError('x'.repeat(65))).toBe('Use at most 64 characters.')
  })

  it('reads a phone number with its country code', () => {
    expect(phoneDigits('+55 (11) 91234-5678')).toBe('5511912345678')
    expect(phoneError('+55 (11) 91234-5678')).toBeNull()
    expect(phoneError('91234-5678')).toMatch(/country code/)
    expect(phoneError('')).toMatch(/country code/)
    expect(formatPhone('5511912345678@s.whatsapp.net')).toBe('+5511912345678')
    expect(formatPhone(null)).toBe('—')
  })

  it('takes only plain http(s) server addresses', () => {
    expect(baseUrlError('https://evolution.example.com')).toBeNull()
    expect(baseUrlError('http://10.0.0.5:8080/evo')).toBeNull()
    expect(baseUrlError('')).toMatch(/Enter the server's address/)
    expect(baseUrlError('evolution.example.com')).toMatch(/not a URL/)
    expect(baseUrlError('ftp://x.test')).toMatch(/http/)
    expect(baseUrlError('https://user:pw@x.test')).toMatch(/user name and password/)
    expect(baseUrlError('https://x.test/?a=1')).toMatch(/query/)
    expect(normalizeBaseUrl(' https://x.test/evo/ ')).toBe('https://x.test/evo')
  })

  it('shows a QR only from a data: image or bare base64', () => {
    expect(qrImageSrc('data:image/png;base64,iVBORw0K')).toBe('data:image/png;base64,iVBORw0K')
    expect(qrImageSrc('iVBORw0K')).toBe('data:image/png;base64,iVBORw0K')
    expect(qrImageSrc('https://evil.test/qr.png')).toBeNull()
    expect(qrImageSrc('javascript:alert(1)')).toBeNull()
    expect(qrImageSrc('')).toBeNull()
  })

  it('counts folded changes and gives a time range', () => {
    expect(changesText({ changes: 1 })).toBe('')
    expect(changesText({ changes: 4 })).toBe('×4')
    expect(timeRange('2026-11-28T13:00:00Z', '2026-11-28T13:00:00Z')).not.toContain('–')
    expect(timeRange('2026-11-28T13:00:00Z', '2026-11-28T13:30:00Z')).toContain(' – ')
  })
})

describe('WhatsApp messages', () => {
  it('says how many servers or numbers the plan allows', () => {
    const servers = apiError('quota_exceeded', { status: 403, resource: 'providers', limit: 3, current: 3 })
    expect(whatsappErrorMessage(servers)).toBe(
      'Your plan allows 3 servers. Delete one you no longer use, or upgrade the plan in Settings → Billing.',
    )
    const numbers = apiError('quota_exceeded', { status: 403, resource: 'instances', limit: 1, current: 1 })
    expect(whatsappErrorMessage(numbers)).toMatch(/^Your plan allows 1 number\. /)
    expect(quotaMessage(apiError('quota_exceeded').problem, 'providers')).toMatch(/^Your plan has no room for another server\./)
  })

  it.each([
    ['provider_credentials_invalid', 'The server refused these credentials.'],
    ['provider_has_instances', 'This server still has numbers. Delete its numbers first, then the server.'],
    ['provider_name_taken', 'Another server of this account already has this name.'],
  ])('%s has its own sentence', (code, expected) => {
    expect(whatsappErrorMessage(apiError(code))).toBe(expected)
  })

  it("passes the provider's own refusal on", () => {
    expect(whatsappErrorMessage(apiError('provider_rejected', { detail: 'This name "sales" is already in use.' }))).toBe(
      'The provider server refused: This name "sales" is already in use.',
    )
  })
})
