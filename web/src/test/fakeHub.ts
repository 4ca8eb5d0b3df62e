/**
 * A stand-in for the hub's auth API in unit tests: `fetch` answers SSO, instance-token
 * exchange (`wphi_good`, once), refresh (body or "cookie"), me, logout, an empty list of
 * Kanban boards, and one protected endpoint, `/things`, the way the hub does.
 */
import { vi } from 'vitest'

export interface Call {
  method: string
  path: string
  body: unknown
  authorization: string | null
}

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: {
      'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json',
      ...headers,
    },
  })
}

function problem(status: number, code: string, detail = code) {
  return json(status, { type: 'about:blank', title: 'Error', status, detail, code })
}

export function fakeHub({ expiresIn = 900, role = 'admin', superAdmin = false } = {}) {
  let issued = 0
  const hub = {
    access: null as string | null,
    refresh: null as string | null,
    cookie: null as string | null,
    used: new Set<string>(),
    expired: new Set<string>(),
    revoked: false,
    calls: [] as Call[],
    /** Held refresh answers: when set, /auth/refresh waits for this promise. */
    refreshGate: null as Promise<void> | null,
    /** Next /auth/refresh answers with this failure instead. */
    failRefresh: null as null | { status: number; code: string },
    /** The instance token `wphi_good` was exchanged (each works once). */
    exchanged: false,
  }

  function issue() {
    issued += 1
    hub.access = `access-${issued}`
    hub.refresh = `refresh-${issued}`
    hub.cookie = hub.refresh
    return {
      access_token: hub.access,
      token_type: 'Bearer',
      expires_in: expiresIn,
      refresh_token: hub.refresh,
      session_id: 'session-1',
    }
  }

  function authorize(header: string | null): Response | null {
    const token = header?.replace(/^Bearer /, '') ?? null
    if (!token) return problem(401, 'unauthenticated')
    if (hub.expired.has(token)) return problem(401, 'token_expired')
    if (hub.revoked) return problem(401, 'session_revoked')
    if (token !== hub.access) return problem(401, 'invalid_token')
    return null
  }

  const user = {
    id: 'user-1',
    email: 'ana@demo.test',
    name: 'Ana Admin',
    avatar_url: null,
    is_super_admin: superAdmin,
  }

  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://hub.test')
    const path = url.pathname.replace(/^\/api\/v1/, '')
    const method = init.method ?? 'GET'
    const headers = (init.headers ?? {}) as Record<string, string>
    const authorization = headers.Authorization ?? null
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    hub.calls.push({ method, path, body, authorization })

    if (method === 'POST' && path === '/auth/sso') {
      if (body?.chatwoot_api_token !== 'good-token') {
        return problem(401, 'chatwoot_credential_rejected')
      }
      hub.revoked = false
      return json(200, { ...issue(), user, account: { id: 'account-1', name: 'Demo Co' } })
    }
    if (method === 'POST' && path === '/auth/exchange') {
      if (body?.instance_token !== 'wphi_good' || hub.exchanged) {
        return problem(401, hub.exchanged ? 'instance_token_used' : 'instance_token_invalid')
      }
      hub.exchanged = true
      hub.revoked = false
      return json(200, { ...issue(), user, account: { id: 'account-1', name: 'Demo Co' } })
    }
    if (method === 'POST' && path === '/auth/refresh') {
      if (hub.refreshGate) await hub.refreshGate
      if (hub.failRefresh) {
        const { status, code } = hub.failRefresh
        hub.failRefresh = null
        return problem(status, code)
      }
      const presented = body?.refresh_token ?? hub.cookie
      if (!presented) return problem(401, 'invalid_refresh_token')
      if (hub.used.has(presented)) {
        hub.revoked = true
        return problem(401, 'refresh_token_reused')
      }
      if (presented !== hub.refresh || hub.revoked) return problem(401, 'invalid_refresh_token')
      hub.used.add(presented)
      return json(200, issue())
    }
    if (method === 'GET' && path === '/auth/me') {
      return (
        authorize(authorization) ??
        json(200, {
          user,
          session_id: 'session-1',
          account_id: 'account-1',
          memberships: [{ account_id: 'account-1', account_name: 'Demo Co', role }],
        })
      )
    }
    if (method === 'POST' && path === '/auth/logout') {
      const refused = authorize(authorization)
      if (refused) return refused
      hub.revoked = true
      hub.cookie = null
      return json(204, null)
    }
    // An account without Kanban boards (fakeKanban.ts has a whole board API).
    if (method === 'GET' && /^\/accounts\/[^/]+\/boards$/.test(path)) {
      return authorize(authorization) ?? json(200, { items: [], next_cursor: null })
    }
    if (path === '/things') {
      return authorize(authorization) ?? json(200, { ok: true, token: authorization })
    }
    return problem(404, 'not_found')
  })

  return Object.assign(hub, {
    fetch,
    /** The access token now in use stops working with `token_expired`. */
    expireAccessToken() {
      if (hub.access) hub.expired.add(hub.access)
    },
    callsTo(path: string) {
      return hub.calls.filter((c) => c.path === path)
    },
  })
}

export type FakeHub = ReturnType<typeof fakeHub>
