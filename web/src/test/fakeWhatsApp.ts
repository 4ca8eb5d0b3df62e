/**
 * The fake billing hub (fakeBilling.ts, with its auth and usage) plus the account's WhatsApp
 * provider servers and numbers, in the shapes of the hub's API, for unit tests of
 * Settings → WhatsApp:
 *
 * - `/accounts/account-1/providers`: list (each with its type's `capabilities`, as the hub's
 *   adapters say them), create (checked like the hub: fields, the type's credential keys, a
 *   type in `whatsapp.unsupportedTypes` 422 `provider_type_unsupported`,
 *   a base URL containing "unreachable" answers 502 `provider_unreachable`, the credential
 *   `wrong-key` 422 `provider_credentials_invalid`, a name in use 409 `provider_name_taken`,
 *   over `whatsapp.maxProviders` 403 `quota_exceeded`), read, change, delete (409
 *   `provider_has_instances` while it has numbers), check (`whatsapp.checkOutcome`);
 * - `/accounts/account-1/instances`: list, create (name checked, `whatsapp.maxInstances`, the
 *   type's instance credentials: exactly its keys, a Z-API `instance_token` of `wrong-token`
 *   422 `provider_credentials_invalid`), read, change settings (the whole set; 409
 *   `not_supported_by_provider` for one the type lacks), delete, connect (QR: each call a
 *   new QR `qr-N`; pairing code `WZYEH1YY`; only the methods the type has), check
 *   (supervisors and admins), restart and send a text (a connected or stale number, else 409
 *   `instance_not_connected`; `whatsapp.failSend` answers a failure instead; a sent text is
 *   `wamid-N`, in `whatsapp.sent`), logout, history (newest first; `whatsapp.history[id]`
 *   to set one up); connect answers `expires_at` (the type's `qr_seconds` on) and
 *   `GET …/qr` the current QR (409 `no_qr_shown` unless waiting for a scan); link to a
 *   Chatwoot inbox (`whatsapp.inboxes` by name; the hub's 409s, 422 for Cloud API's
 *   `business_account_id`, `whatsapp.maxInboxes` 403 `quota_exceeded`,
 *   `whatsapp.chatwootLinked` false 409 `chatwoot_not_linked`);
 * - `/accounts/account-1/usage` counts them (`usage.providers`, `usage.instances`) against
 *   `limits.max_providers` and `limits.max_instances`.
 *
 * - `/accounts/account-1/realtime/tickets` gives one-use tickets `wpht_N` for the live stream
 *   (the stream itself is a fake EventSource in the tests).
 *
 * `scan(name, phone)` plays the phone: the next check (or connect) finds it connected.
 * Agents and supervisors are refused every change with 403 `forbidden`, as the hub does.
 */
import { vi } from 'vitest'
import type { Capabilities, Instance, Provider, StatusChange } from '../api/whatsapp'
import { FIXTURE_AT as AT, minutesBefore, TEST_NOW } from './clock'
import { nowMs } from '../utils/clock'
import { fakeBilling, type BillingOptions } from './fakeBilling'

const ACCOUNT = '/accounts/account-1'

function json(status: number, body: unknown) {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })
}

function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return json(status, { type: 'about:blank', title: 'Error', status, detail, code, ...extra })
}

const CREDENTIAL_KEYS: Record<string, string[]> = {
  evolution: ['api_key'],
  waha: ['api_key'],
  uazapi: ['admin_token'],
  zapi: ['client_token'],
  cloud_api: ['access_token', 'app_secret'],
}

const ALL_SETTINGS = ['reject_calls', 'call_message', 'ignore_groups', 'always_online', 'read_messages', 'read_status']

/** What each type can do, as the hub's adapters say it. */
export const CAPABILITIES: Record<string, Capabilities> = {
  evolution: {
    creates_instances: true,
    instance_credentials: [],
    qr_seconds: 45,
    qr: true,
    pairing_code: true,
    pairing_seconds: 60,
    restart: true,
    logout: true,
    settings: ALL_SETTINGS,
    send_text: true,
    chatwoot_inbox: true,
  },
  waha: {
    creates_instances: true,
    instance_credentials: [],
    qr_seconds: 20,
    qr: true,
    pairing_code: true,
    pairing_seconds: 60,
    restart: true,
    logout: true,
    settings: ['ignore_groups'],
    send_text: true,
    chatwoot_inbox: false,
  },
  uazapi: {
    creates_instances: true,
    instance_credentials: [],
    qr_seconds: 120,
    qr: true,
    pairing_code: true,
    pairing_seconds: 300,
    restart: false,
    logout: true,
    settings: [],
    send_text: true,
    chatwoot_inbox: false,
  },
  zapi: {
    creates_instances: false,
    instance_credentials: ['instance_id', 'instance_token'],
    qr_seconds: 20,
    qr: true,
    pairing_code: true,
    pairing_seconds: 60,
    restart: true,
    logout: true,
    settings: [],
    send_text: true,
    chatwoot_inbox: false,
  },
  cloud_api: {
    creates_instances: false,
    instance_credentials: ['phone_number_id'],
    qr_seconds: 0,
    qr: false,
    pairing_code: false,
    pairing_seconds: 0,
    restart: false,
    logout: false,
    settings: [],
    send_text: true,
    chatwoot_inbox: true,
  },
}

const NO_SETTINGS = {
  reject_calls: false,
  ignore_groups: false,
  always_online: false,
  read_messages: false,
  read_status: false,
}

/** The image of the fake's N-th QR (each connect shows a new one). */
export function qrImage(n: number) {
  return `data:image/png;base64,UVItQ09ERS0${n}`
}

export const PAIRING_CODE = 'WZYEH1YY'

export function demoProvider(extra: Partial<Provider> = {}): Provider {
  const type = extra.type ?? 'evolution'
  return {
    id: 'provider-1',
    type,
    capabilities: CAPABILITIES[type]!,
    name: 'Demo Evolution',
    base_url: 'http://evolution.test',
    status: 'ok',
    last_checked_at: minutesBefore(5),
    has_credentials: true,
    credentials_hint: '…ests',
    created_at: AT,
    updated_at: AT,
    ...extra,
  }
}

export function demoInstance(extra: Partial<Instance> = {}): Instance {
  return {
    id: 'instance-1',
    provider_id: 'provider-1',
    name: 'demo-sales',
    phone: null,
    status: 'disconnected',
    provider_status: 'close',
    settings: { ...NO_SETTINGS },
    chatwoot_inbox_id: null,
    last_event_at: minutesBefore(30),
    created_at: AT,
    updated_at: AT,
    ...extra,
  }
}

export interface WhatsAppOptions extends BillingOptions {
  /** Start with no server and no number. */
  empty?: boolean
}

export function fakeWhatsApp({ empty = false, ...options }: WhatsAppOptions = {}) {
  const hub = fakeBilling(options)
  const role = options.role ?? 'admin'
  const billingFetch = hub.fetch.getMockImplementation()!
  let seq = 1
  let qrCount = 0

  const whatsapp = {
    providers: empty ? [] : [demoProvider()],
    instances: empty ? [] : [demoInstance()],
    maxProviders: 3,
    maxInstances: 3,
    /** What the next provider checks find. */
    checkOutcome: 'ok' as Provider['status'],
    /** Numbers the phone has scanned (by name), with the phone's number. */
    scanned: new Map<string, string>(),
    /** Status changes by instance id, newest first (the fake adds one per change). */
    history: {} as Record<string, StatusChange[]>,
    /** The next check of a number answers this failure instead. */
    failCheck: null as null | { status: number; code: string },
    /** Types the hub answers 422 `provider_type_unsupported` for. */
    unsupportedTypes: [] as string[],
    /** The next text sent answers this failure instead. */
    failSend: null as null | { status: number; code: string; detail: string },
    /** The account is connected to Chatwoot (else linking an inbox answers 409 `chatwoot_not_linked`). */
    chatwootLinked: true,
    /** Inboxes the plan allows (403 `quota_exceeded`, resource `inboxes`, past it). */
    maxInboxes: 5,
    /** The account's Chatwoot inboxes, name → id (a number linked to one feeds it). */
    inboxes: new Map<string, number>([['Support', 3]]),
    /** The texts sent, oldest first. */
    sent: [] as { instance: string; to: string; text: string; message_id: string }[],
  }

  const nowIso = () => new Date(TEST_NOW + seq * 1000).toISOString()

  function record(instance: Instance, to: string, raw: string, reason: string, source: string) {
    const from = instance.status
    if (from === to) return
    seq += 1
    const at = nowIso()
    const list = (whatsapp.history[instance.id] ??= [])
    list.unshift({
      id: `change-${seq}`,
      from_status: from,
      to_status: to,
      raw,
      reason,
      source,
      changes: 1,
      first_at: at,
      last_at: at,
    })
    Object.assign(instance, { status: to, provider_status: raw, last_event_at: at, updated_at: at })
  }

  const isAdmin = () => role === 'admin'
  const forbidden = () => problem(403, 'forbidden', 'This needs an administrator.')

  function checkProviderBody(body: any, partial: boolean): Response | null {
    const errors: { field: string; message: string }[] = []
    if (!partial && !CREDENTIAL_KEYS[body?.type]) {
      errors.push({ field: 'type', message: 'must be evolution, waha, uazapi, zapi or cloud_api' })
    }
    if ((!partial || body?.name !== undefined) && !String(body?.name ?? '').trim()) {
      errors.push({ field: 'name', message: 'must not be empty' })
    }
    if ((!partial || body?.base_url !== undefined) && !/^https?:\/\/[^/?#@]+/.test(body?.base_url ?? '')) {
      errors.push({ field: 'base_url', message: 'must be an http(s) URL without credentials, query or fragment' })
    }
    return errors.length ? problem(422, 'validation_failed', 'The request has invalid fields.', { errors }) : null
  }

  function checkCredentials(type: string, credentials: any): Response | null {
    const keys = CREDENTIAL_KEYS[type] ?? []
    const errors = keys
      .filter((key) => typeof credentials?.[key] !== 'string' || !credentials[key].trim())
      .map((key) => ({ field: `credentials.${key}`, message: 'must be given, as text' }))
    for (const key of Object.keys(credentials ?? {})) {
      if (!keys.includes(key)) errors.push({ field: `credentials.${key}`, message: 'is not a credential of this provider type' })
    }
    return errors.length ? problem(422, 'validation_failed', 'The request has invalid fields.', { errors }) : null
  }

  /** What the "server" says of an address and credentials. */
  function verify(type: string, baseUrl: string, credentials: any): Response | null {
    if (whatsapp.unsupportedTypes.includes(type)) {
      return problem(422, 'provider_type_unsupported', `The hub cannot drive ${type} servers yet.`)
    }
    if (baseUrl.includes('unreachable')) {
      return problem(502, 'provider_unreachable', 'The provider server did not answer as expected (connection failed).')
    }
    if (credentials && Object.values(credentials).includes('wrong-key')) {
      return problem(422, 'provider_credentials_invalid', 'The provider server refused these credentials.')
    }
    return null
  }

  const hint = (credentials: any, type: string) => `…${String(credentials[CREDENTIAL_KEYS[type]![0]!]).slice(-4)}`

  /** What connect (and reading the QR, `reason` "qr") answers: the QR lives the type's `qr_seconds`. */
  function connecting(instance: Instance, can: Capabilities, method: string, phone?: string, reason = 'connect') {
    const scannedWith = whatsapp.scanned.get(instance.name)
    if (scannedWith) {
      record(instance, 'connected', 'open', reason, 'user')
      instance.phone = scannedWith
      return { instance, status: instance.status, qr_code: null, qr: null, pairing_code: null, expires_at: null }
    }
    qrCount += 1
    const qr = { code: `qr-${qrCount}`, image: qrImage(qrCount) }
    record(instance, 'qr_pending', 'connecting', reason, 'user')
    const pairing_code = method === 'pairing_code' && phone ? PAIRING_CODE : null
    const life = pairing_code ? can.pairing_seconds : can.qr_seconds
    return {
      instance,
      status: instance.status,
      qr_code: qr.image,
      qr,
      pairing_code,
      expires_at: new Date(nowMs() + life * 1000).toISOString(),
    }
  }

  let tickets = 0

  async function answer(method: string, path: string, body: any): Promise<Response | null> {
    if (path === `${ACCOUNT}/realtime/tickets` && method === 'POST') {
      tickets += 1
      return json(201, { ticket: `wpht_${tickets}`, expires_in: 30 })
    }
    if (path === `${ACCOUNT}/providers`) {
      if (method === 'GET') return json(200, whatsapp.providers)
      if (method === 'POST') {
        if (!isAdmin()) return forbidden()
        const refused =
          checkProviderBody(body, false) ??
          checkCredentials(body.type, body.credentials) ??
          verify(body.type, body.base_url, body.credentials)
        if (refused) return refused
        if (whatsapp.providers.some((p) => p.name === body.name.trim())) {
          return problem(409, 'provider_name_taken', 'Another provider of this account has this name.')
        }
        if (whatsapp.providers.length >= whatsapp.maxProviders) {
          return problem(403, 'quota_exceeded', `The plan allows ${whatsapp.maxProviders} providers; the account has ${whatsapp.providers.length}.`, {
            resource: 'providers',
            limit: whatsapp.maxProviders,
            current: whatsapp.providers.length,
          })
        }
        seq += 1
        const created = demoProvider({
          id: `provider-${seq}`,
          type: body.type,
          name: body.name.trim(),
          base_url: body.base_url,
          credentials_hint: hint(body.credentials, body.type),
          last_checked_at: nowIso(),
          created_at: nowIso(),
          updated_at: nowIso(),
        })
        whatsapp.providers.push(created)
        return json(201, created)
      }
    }
    const providerMatch = new RegExp(`^${ACCOUNT}/providers/([^/]+)(/check)?$`).exec(path)
    if (providerMatch) {
      const provider = whatsapp.providers.find((p) => p.id === decodeURIComponent(providerMatch[1]!))
      if (!provider) return problem(404, 'not_found', 'The resource does not exist.')
      if (providerMatch[2]) {
        if (method !== 'POST') return null
        if (!isAdmin()) return forbidden()
        Object.assign(provider, { status: whatsapp.checkOutcome, last_checked_at: nowIso() })
        return json(200, provider)
      }
      if (method === 'GET') return json(200, provider)
      if (!isAdmin()) return forbidden()
      if (method === 'PATCH') {
        const refused =
          checkProviderBody(body, true) ??
          (body.credentials ? checkCredentials(provider.type, body.credentials) : null) ??
          (body.base_url || body.credentials ? verify(provider.type, body.base_url ?? provider.base_url, body.credentials) : null)
        if (refused) return refused
        if (body.name && whatsapp.providers.some((p) => p.id !== provider.id && p.name === body.name.trim())) {
          return problem(409, 'provider_name_taken', 'Another provider of this account has this name.')
        }
        if (body.name) provider.name = body.name.trim()
        if (body.base_url) provider.base_url = body.base_url
        if (body.credentials) provider.credentials_hint = hint(body.credentials, provider.type)
        if (body.base_url || body.credentials) provider.status = 'ok'
        provider.updated_at = nowIso()
        return json(200, provider)
      }
      if (method === 'DELETE') {
        if (whatsapp.instances.some((i) => i.provider_id === provider.id)) {
          return problem(409, 'provider_has_instances', "Delete the provider's WhatsApp numbers first.")
        }
        whatsapp.providers.splice(whatsapp.providers.indexOf(provider), 1)
        return json(204, null)
      }
    }

    if (path === `${ACCOUNT}/instances`) {
      if (method === 'GET') return json(200, whatsapp.instances)
      if (method === 'POST') {
        if (!isAdmin()) return forbidden()
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(body?.name ?? '')) {
          return problem(422, 'validation_failed', 'The request has invalid fields.', {
            errors: [{ field: 'name', message: 'must be 1 to 64 of letters, digits, - and _' }],
          })
        }
        const provider = whatsapp.providers.find((p) => p.id === body.provider_id)
        if (!provider) return problem(404, 'not_found', 'The resource does not exist.')
        const keys = provider.capabilities.instance_credentials
        const given = body.credentials
        if (keys.length || given !== undefined) {
          const errors = keys
            .filter((key) => typeof given?.[key] !== 'string' || !given[key].trim())
            .map((key) => ({ field: `credentials.${key}`, message: 'must be given, as text' }))
          for (const key of Object.keys(given ?? {})) {
            if (!keys.includes(key)) errors.push({ field: `credentials.${key}`, message: 'is not a credential of this provider type' })
          }
          if (!keys.length) errors.push({ field: 'credentials', message: 'must be left out: this provider type takes none' })
          if (errors.length) return problem(422, 'validation_failed', 'The request has invalid fields.', { errors })
          if (given.instance_token === 'wrong-token') {
            return problem(422, 'provider_credentials_invalid', 'The provider server refused these credentials.')
          }
        }
        if (whatsapp.instances.length >= whatsapp.maxInstances) {
          return problem(403, 'quota_exceeded', `The plan allows ${whatsapp.maxInstances} instances; the account has ${whatsapp.instances.length}.`, {
            resource: 'instances',
            limit: whatsapp.maxInstances,
            current: whatsapp.instances.length,
          })
        }
        seq += 1
        const created = demoInstance({
          id: `instance-${seq}`,
          provider_id: provider.id,
          name: body.name,
          provider_status: null,
          last_event_at: null,
          created_at: nowIso(),
          updated_at: nowIso(),
        })
        whatsapp.instances.push(created)
        return json(201, created)
      }
    }
    const instanceMatch = new RegExp(`^${ACCOUNT}/instances/([^/]+)(?:/(connect|qr|check|restart|logout|messages|history|chatwoot-inbox))?$`).exec(path)
    if (instanceMatch) {
      const instance = whatsapp.instances.find((i) => i.id === decodeURIComponent(instanceMatch[1]!))
      if (!instance) return problem(404, 'not_found', 'The resource does not exist.')
      const action = instanceMatch[2]
      const can = whatsapp.providers.find((p) => p.id === instance.provider_id)?.capabilities ?? CAPABILITIES.evolution!
      const unsupported = (what: string) => problem(409, 'not_supported_by_provider', `This provider type does not support ${what}.`)
      const notConnected = () =>
        instance.status === 'connected' || instance.status === 'stale'
          ? null
          : problem(409, 'instance_not_connected', 'Connect the number first.')
      if (!action) {
        if (method === 'GET') return json(200, instance)
        if (method === 'PATCH') {
          if (!isAdmin()) return forbidden()
          const settings = { ...NO_SETTINGS, ...(body?.settings ?? {}) }
          const asked = Object.entries(settings)
            .filter(([key, value]) => (key === 'call_message' ? value != null : value === true))
            .map(([key]) => key)
          const missing = asked.filter((key) => !can.settings.includes(key))
          if (missing.length) return problem(409, 'not_supported_by_provider', `This provider type cannot apply ${missing.join(', ')}.`)
          if (settings.call_message != null && !settings.reject_calls) {
            return problem(422, 'validation_failed', 'The request has invalid fields.', {
              errors: [{ field: 'settings.call_message', message: 'is sent only when reject_calls is on' }],
            })
          }
          instance.settings = settings
          instance.updated_at = nowIso()
          return json(200, instance)
        }
        if (method === 'DELETE') {
          if (!isAdmin()) return forbidden()
          whatsapp.instances.splice(whatsapp.instances.indexOf(instance), 1)
          return json(204, null)
        }
        return null
      }
      if (action === 'history' && method === 'GET') return json(200, whatsapp.history[instance.id] ?? [])
      if (action === 'qr' && method === 'GET') {
        if (!isAdmin()) return forbidden()
        if (!can.qr) return unsupported('QR codes')
        if (instance.status !== 'qr_pending' && instance.status !== 'connecting') {
          return problem(409, 'no_qr_shown', 'The number is not waiting for a scan: connect it first.')
        }
        return json(200, connecting(instance, can, 'qr', undefined, 'qr'))
      }
      if (method !== 'POST') return null
      if (action === 'check') {
        if (role === 'agent') return problem(403, 'forbidden', 'This needs a supervisor.')
        if (whatsapp.failCheck) {
          const { status, code } = whatsapp.failCheck
          whatsapp.failCheck = null
          return problem(status, code, 'The provider server did not answer as expected (timed out).')
        }
        const scannedWith = whatsapp.scanned.get(instance.name)
        if (scannedWith && instance.status !== 'connected' && instance.status !== 'disconnected') {
          record(instance, 'connected', 'open', 'check', 'check')
          instance.phone = scannedWith
        }
        return json(200, instance)
      }
      if (!isAdmin()) return forbidden()
      if (action === 'restart') {
        if (!can.restart) return unsupported('restarts')
        return notConnected() ?? json(200, instance)
      }
      if (action === 'messages') {
        const to = String(body?.to ?? '').replace(/\D/g, '')
        const errors = []
        if (to.length < 10 || to.length > 15) errors.push({ field: 'to', message: 'must be a number with country code' })
        if (!String(body?.text ?? '').trim()) errors.push({ field: 'text', message: 'must be 1 to 4,096 characters' })
        if (errors.length) return problem(422, 'validation_failed', 'The request has invalid fields.', { errors })
        if (!can.send_text) return unsupported('sending messages')
        const refused = notConnected()
        if (refused) return refused
        if (whatsapp.failSend) {
          const { status, code, detail } = whatsapp.failSend
          whatsapp.failSend = null
          return problem(status, code, detail)
        }
        seq += 1
        const message_id = `wamid-${seq}`
        whatsapp.sent.push({ instance: instance.id, to, text: body.text, message_id })
        return json(201, { message_id, status: 'accepted' })
      }
      if (action === 'connect') {
        if (body?.method !== 'qr' && body?.method !== 'pairing_code') {
          return problem(422, 'validation_failed', 'The request has invalid fields.', {
            errors: [{ field: 'method', message: 'must be qr or pairing_code' }],
          })
        }
        if (!can[body.method as 'qr' | 'pairing_code']) return unsupported(body.method === 'qr' ? 'QR codes' : 'pairing codes')
        const phone = String(body.phone ?? '').replace(/\D/g, '')
        if (body.method === 'pairing_code' && (phone.length < 10 || phone.length > 15)) {
          return problem(422, 'validation_failed', 'The request has invalid fields.', {
            errors: [{ field: 'phone', message: 'must be the number with country code' }],
          })
        }
        return json(200, connecting(instance, can, body.method, phone))
      }
      if (action === 'chatwoot-inbox') {
        const cloud = whatsapp.providers.find((p) => p.id === instance.provider_id)?.type === 'cloud_api'
        const name = String(body?.name ?? instance.name).trim()
        const errors = []
        if (name.length < 1 || name.length > 100) errors.push({ field: 'name', message: 'must be 1 to 100 characters' })
        if (cloud && !/^\d{1,32}$/.test(String(body?.business_account_id ?? ''))) {
          errors.push({ field: 'business_account_id', message: 'must be the WhatsApp Business Account id (digits)' })
        }
        if (errors.length) return problem(422, 'validation_failed', 'The request has invalid fields.', { errors })
        if (!can.chatwoot_inbox) return unsupported('Chatwoot inboxes')
        if (instance.chatwoot_inbox_id != null) {
          return problem(409, 'instance_already_linked', 'This number already feeds a Chatwoot inbox.')
        }
        if (!whatsapp.chatwootLinked) {
          return problem(409, 'chatwoot_not_linked', 'Connect this account to Chatwoot first (Settings → Chatwoot).')
        }
        const linked = whatsapp.instances.filter((i) => i.chatwoot_inbox_id != null).length
        if (linked >= whatsapp.maxInboxes) {
          return problem(403, 'quota_exceeded', `The plan allows ${whatsapp.maxInboxes} inboxes; the account has ${linked}.`, {
            resource: 'inboxes',
            limit: whatsapp.maxInboxes,
            current: linked,
          })
        }
        const existing = whatsapp.inboxes.get(name)
        if (existing != null && whatsapp.instances.some((i) => i.chatwoot_inbox_id === existing)) {
          return problem(409, 'inbox_already_linked', 'Another number already feeds this inbox.')
        }
        if (cloud && !instance.phone) {
          return problem(409, 'instance_not_connected', 'Check the number first: its phone number is not known yet.')
        }
        const inboxId = existing ?? 10 + whatsapp.inboxes.size
        whatsapp.inboxes.set(name, inboxId)
        instance.chatwoot_inbox_id = inboxId
        instance.updated_at = nowIso()
        return json(200, instance)
      }
      if (action === 'logout') {
        if (!can.logout) return unsupported('logging out')
        whatsapp.scanned.delete(instance.name)
        record(instance, 'disconnected', 'close', 'logout', 'user')
        instance.phone = null
        return json(200, instance)
      }
    }
    return null
  }

  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://hub.test')
    const path = url.pathname.replace(/^\/api\/v1/, '')
    const method = init.method ?? 'GET'
    const mine = /^\/accounts\/account-1\/(providers|instances|realtime\/tickets)(\/|$)/.test(path)
    if (path === `${ACCOUNT}/usage`) {
      // The billing fake's usage, with the servers and numbers counted here.
      const response = await billingFetch(input, init)
      if (!response.ok) return response
      const usage = await response.json()
      usage.limits = { ...usage.limits, max_providers: whatsapp.maxProviders, max_instances: whatsapp.maxInstances }
      usage.usage = { ...usage.usage, providers: whatsapp.providers.length, instances: whatsapp.instances.length }
      return json(200, usage)
    }
    if (!mine) return billingFetch(input, init)

    const headers = (init.headers ?? {}) as Record<string, string>
    const authorization = headers.Authorization ?? null
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    hub.calls.push({ method, path: `${path}${url.search}`, body, authorization })
    if (!hub.access || authorization !== `Bearer ${hub.access}`) {
      return problem(401, 'invalid_token', 'The access token is not valid.')
    }
    return (await answer(method, path, body)) ?? problem(404, 'not_found', 'The resource does not exist.')
  })

  return Object.assign(hub, {
    fetch,
    whatsapp,
    /** The phone scans the QR (or types the pairing code) of number `name`. */
    scan(name: string, phone = '5511912345678') {
      whatsapp.scanned.set(name, phone)
    },
    /** The calls made to the WhatsApp API, as "METHOD path". */
    whatsappCalls() {
      return hub.calls
        .filter((c) => /\/(providers|instances)(\/|$|\?)/.test(c.path))
        .map((c) => `${c.method} ${c.path.replace(ACCOUNT, '')}`)
    },
  })
}

export type FakeWhatsApp = ReturnType<typeof fakeWhatsApp>
