/**
 * The fake hub (fakeHub.ts) plus the account's Chatwoot connection and inbox mirror, for
 * unit tests of Settings → Chatwoot: status, connect (`cw-admin` is an administrator's
 * token, `cw-agent` an agent's; anything else is rejected), disconnect, inboxes (cursor
 * pages), enabling within the plan's `maxInboxes`, and sync. Requests go through the fake
 * hub's session (a bearer token it issued) like every protected endpoint.
 */
import { vi } from 'vitest'
import type { ConnectionStatus, Inbox, SyncReport } from '../api/chatwoot'
import { FIXTURE_AT as AT } from './clock'
import { fakeHub } from './fakeHub'

const ACCOUNT = '/accounts/account-1'
const WEBHOOK_URL = 'http://hub.test/api/v1/webhooks/chatwoot/account-1'

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })
}

function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return json(status, { type: 'about:blank', title: 'Error', status, detail, code, ...extra })
}

const zero = () => ({ added: 0, updated: 0, removed: 0, skipped: 0 })

export function demoInboxes(): Inbox[] {
  return [
    {
      id: 'inbox-1',
      chatwoot_inbox_id: 6,
      name: 'WhatsApp Vendas',
      channel_type: 'Channel::Whatsapp',
      phone_number: '+5511999990000',
      enabled: true,
      disabled_reason: null,
      removed_at: null,
      synced_at: AT,
    },
    {
      id: 'inbox-2',
      chatwoot_inbox_id: 8,
      name: 'Website chat',
      channel_type: 'Channel::WebWidget',
      phone_number: null,
      enabled: true,
      disabled_reason: null,
      removed_at: null,
      synced_at: AT,
    },
  ]
}

export function fakeChatwoot({ role = 'admin', connected = true, maxInboxes = 2, pageSize = 100 } = {}) {
  const hub = fakeHub({ role })
  const authFetch = hub.fetch.getMockImplementation()!
  const chatwoot = {
    connected,
    /** Chatwoot does not answer the stored token (revoked, or down). */
    unhealthy: false,
    /** Chatwoot cannot be reached: connect and sync answer 503 `unavailable`. */
    down: false,
    /** The installation has a platform-app token. */
    platformToken: false,
    webhookId: connected ? 27 : null as number | null,
    dashboardAppId: connected ? 28 : null as number | null,
    lastSyncAt: connected ? AT : null as string | null,
    lastSync: connected
      ? ({ inboxes: { ...zero(), added: 2 }, agents: { ...zero(), added: 2 }, teams: { ...zero(), added: 1 }, synced_at: AT } as SyncReport)
      : null,
    inboxes: connected ? demoInboxes() : ([] as Inbox[]),
    /** What the next sync finds in Chatwoot (by default, what is already there). */
    remote: null as Inbox[] | null,
  }

  function status(): ConnectionStatus {
    return {
      status: chatwoot.connected ? 'connected' : 'disconnected',
      installation_id: 'installation-1',
      chatwoot_account_id: 1,
      token_source: 'access_token',
      webhook_id: chatwoot.connected ? chatwoot.webhookId : null,
      webhook_url: WEBHOOK_URL,
      webhook_signed: chatwoot.connected,
      dashboard_app_id: chatwoot.connected ? chatwoot.dashboardAppId : null,
      healthy: chatwoot.connected ? !chatwoot.unhealthy : null,
      last_error: null,
      connected_at: chatwoot.connected ? AT : null,
      last_sync_at: chatwoot.lastSyncAt,
      last_sync: chatwoot.lastSync,
    }
  }

  function sync(): SyncReport {
    const report: SyncReport = { inboxes: zero(), agents: zero(), teams: zero(), synced_at: AT }
    const remote = chatwoot.remote ?? chatwoot.inboxes.filter((i) => !i.removed_at)
    for (const local of chatwoot.inboxes) {
      if (!local.removed_at && !remote.some((r) => r.chatwoot_inbox_id === local.chatwoot_inbox_id)) {
        local.removed_at = AT
        local.enabled = false
        report.inboxes.removed += 1
      }
    }
    for (const r of remote) {
      if (chatwoot.inboxes.some((l) => l.chatwoot_inbox_id === r.chatwoot_inbox_id)) continue
      const enabled = chatwoot.inboxes.filter((i) => i.enabled && !i.removed_at).length
      const room = enabled < maxInboxes
      chatwoot.inboxes.push({ ...r, enabled: room, disabled_reason: room ? null : 'over_quota' })
      report.inboxes.added += 1
    }
    chatwoot.lastSync = report
    chatwoot.lastSyncAt = AT
    return report
  }

  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://hub.test')
    const path = url.pathname.replace(/^\/api\/v1/, '')
    if (!path.startsWith(`${ACCOUNT}/`)) return authFetch(input, init)

    const method = init.method ?? 'GET'
    const headers = (init.headers ?? {}) as Record<string, string>
    const authorization = headers.Authorization ?? null
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    hub.calls.push({ method, path, body, authorization })
    if (!hub.access || authorization !== `Bearer ${hub.access}`) {
      return problem(401, 'invalid_token', 'The access token is not valid.')
    }
    if (role !== 'admin' && !(method === 'GET' && path === `${ACCOUNT}/inboxes`)) {
      return problem(403, 'forbidden', 'This needs an administrator.')
    }

    if (method === 'GET' && path === `${ACCOUNT}/chatwoot/status`) return json(200, status())
    if (method === 'POST' && path === `${ACCOUNT}/chatwoot/connect`) {
      if (chatwoot.down) return problem(503, 'unavailable', 'Chatwoot cannot be reached; try again.')
      const token = body?.chatwoot_api_token
      if (token === undefined) {
        if (!chatwoot.platformToken) {
          return problem(400, 'platform_token_missing', 'This installation has no platform-app token.')
        }
      } else if (token === 'cw-agent') {
        return problem(403, 'chatwoot_admin_required', 'Chatwoot refused: the token must belong to an administrator.')
      } else if (token !== 'cw-admin') {
        return problem(400, 'chatwoot_token_rejected', 'Chatwoot did not accept this token.')
      }
      const action = chatwoot.connected ? 'unchanged' : 'created'
      if (!chatwoot.connected) {
        chatwoot.webhookId = (chatwoot.webhookId ?? 29) + 1
        chatwoot.dashboardAppId = (chatwoot.dashboardAppId ?? 30) + 1
      }
      chatwoot.connected = true
      const report = sync()
      return json(200, {
        webhook: { id: chatwoot.webhookId, action, url: WEBHOOK_URL, signed: true },
        dashboard_app: { id: chatwoot.dashboardAppId, action },
        sync: report,
      })
    }
    if (method === 'POST' && path === `${ACCOUNT}/chatwoot/disconnect`) {
      const was = chatwoot.connected
      chatwoot.connected = false
      const action = was ? 'removed' : 'unchanged'
      return json(200, {
        webhook: { id: was ? chatwoot.webhookId : null, action },
        dashboard_app: { id: was ? chatwoot.dashboardAppId : null, action },
      })
    }
    if (method === 'GET' && path === `${ACCOUNT}/inboxes`) {
      const start = Number(url.searchParams.get('cursor') ?? 0)
      const limit = Math.min(Number(url.searchParams.get('limit') ?? pageSize), pageSize)
      const items = chatwoot.inboxes.slice(start, start + limit)
      const next = start + limit < chatwoot.inboxes.length ? String(start + limit) : null
      return json(200, { items, next_cursor: next })
    }
    if (method === 'POST' && path === `${ACCOUNT}/inboxes/sync`) {
      if (!chatwoot.connected) {
        return problem(409, 'chatwoot_not_connected', 'Connect this account to Chatwoot first.')
      }
      if (chatwoot.down) return problem(503, 'unavailable', 'Chatwoot cannot be reached; try again.')
      return json(200, sync())
    }
    const patch = new RegExp(`^${ACCOUNT}/inboxes/([^/]+)$`).exec(path)
    if (method === 'PATCH' && patch) {
      const inbox = chatwoot.inboxes.find((i) => i.id === decodeURIComponent(patch[1]!))
      if (!inbox) return problem(404, 'not_found', 'The resource does not exist.')
      if (inbox.enabled !== body.enabled) {
        if (body.enabled) {
          if (inbox.removed_at) return problem(409, 'inbox_removed', 'This inbox no longer exists in Chatwoot.')
          const current = chatwoot.inboxes.filter((i) => i.enabled && !i.removed_at).length
          if (current >= maxInboxes) {
            return problem(403, 'quota_exceeded', `The plan allows ${maxInboxes} inboxes; the account has ${current}.`, {
              resource: 'inboxes',
              limit: maxInboxes,
              current,
            })
          }
        }
        inbox.enabled = body.enabled
        inbox.disabled_reason = body.enabled ? null : 'disabled_by_admin'
      }
      return json(200, inbox)
    }
    return problem(404, 'not_found', 'The resource does not exist.')
  })

  return Object.assign(hub, { fetch, chatwoot })
}

export type FakeChatwoot = ReturnType<typeof fakeChatwoot>
