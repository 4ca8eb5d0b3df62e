import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, setAuthHandler } from '../api/client'
import { createAuth, type Auth, type ChannelLike } from './store'
import { fakeHub, type FakeHub } from '../test/fakeHub'

let hub: FakeHub
let auth: Auth
let ended: string[]

function makeAuth(options: Parameters<typeof createAuth>[0] = {}) {
  const instance = createAuth({ channel: null, locks: null, device: 'Chrome on Linux', random: () => 0, ...options })
  setAuthHandler(instance.handler)
  instance.onSignedOut((reason) => ended.push(reason))
  return instance
}

function bearerOf(path: string) {
  return hub.callsTo(path).map((c) => c.authorization)
}

beforeEach(() => {
  hub = fakeHub()
  vi.stubGlobal('fetch', hub.fetch)
  localStorage.clear()
  sessionStorage.clear()
  ended = []
  auth = makeAuth()
})

afterEach(() => {
  auth.dispose()
  setAuthHandler(null)
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('signing in', () => {
  it('keeps the tokens in memory only and sends the access token as a bearer', async () => {
    await auth.signIn('  good-token  ')

    expect(hub.callsTo('/auth/sso')[0].body).toEqual({
      chatwoot_api_token: 'good-token',
      device: 'Chrome on Linux',
    })
    expect(hub.callsTo('/auth/sso')[0].authorization).toBeNull()
    expect(auth.state.status).toBe('signed-in')
    expect(auth.state.user?.name).toBe('Ana Admin')
    expect(auth.state.accountName).toBe('Demo Co')
    expect(auth.role.value).toBe('admin')
    expect(auth.isAdmin.value).toBe(true)

    await api.get('/things')
    expect(bearerOf('/things')).toEqual(['Bearer access-1'])

    // Nowhere a script could read it back later.
    expect(localStorage.length).toBe(0)
    expect(sessionStorage.length).toBe(0)
    expect(document.cookie).toBe('')
    expect(JSON.stringify(auth.state)).not.toContain('access-1')
    expect(JSON.stringify(auth.state)).not.toContain('refresh-1')
  })

  it('an agent is not an admin', async () => {
    hub = fakeHub({ role: 'agent' })
    vi.stubGlobal('fetch', hub.fetch)
    await auth.signIn('good-token')
    expect(auth.role.value).toBe('agent')
    expect(auth.isAdmin.value).toBe(false)
  })

  it('a refused token leaves the state signed out and throws the problem', async () => {
    const error = await auth.signIn('bad-token').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).code).toBe('chatwoot_credential_rejected')
    expect(auth.isSignedIn.value).toBe(false)
    expect(ended).toEqual([])
  })
})

describe('refreshing', () => {
  it('concurrent requests that meet token_expired share one refresh, then retry', async () => {
    await auth.signIn('good-token')
    hub.expireAccessToken()
    let open!: () => void
    hub.refreshGate = new Promise((resolve) => (open = resolve))

    const requests = Promise.all([api.get('/things'), api.get('/things'), api.get('/things')])
    await vi.waitFor(() => expect(hub.callsTo('/auth/refresh')).toHaveLength(1))
    open()
    const results = await requests

    expect(hub.callsTo('/auth/refresh')).toHaveLength(1)
    expect(hub.callsTo('/auth/refresh')[0].body).toEqual({ refresh_token: 'refresh-1' })
    expect(results).toHaveLength(3)
    expect(bearerOf('/things')).toEqual([
      'Bearer access-1',
      'Bearer access-1',
      'Bearer access-1',
      'Bearer access-2',
      'Bearer access-2',
      'Bearer access-2',
    ])
    expect(auth.isSignedIn.value).toBe(true)
  })

  it('a request that gets token_expired after another already refreshed just retries', async () => {
    await auth.signIn('good-token')
    hub.expireAccessToken()
    await api.get('/things') // refreshes to access-2
    expect(hub.callsTo('/auth/refresh')).toHaveLength(1)
    expect(await auth.handler.refreshAfterExpiry('access-1')).toBe(true)
    expect(hub.callsTo('/auth/refresh')).toHaveLength(1)
  })

  it('renews shortly before the access token expires', async () => {
    vi.useFakeTimers()
    hub = fakeHub({ expiresIn: 900 })
    vi.stubGlobal('fetch', hub.fetch)
    await auth.signIn('good-token')

    await vi.advanceTimersByTimeAsync(830_000)
    expect(hub.callsTo('/auth/refresh')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(15_000) // 60 s before expiry
    expect(hub.callsTo('/auth/refresh')).toHaveLength(1)

    await api.get('/things')
    expect(bearerOf('/things')).toEqual(['Bearer access-2'])
  })

  it('refreshes before a request when the token is about to expire', async () => {
    let now = 1_000_000
    auth.dispose()
    auth = makeAuth({ now: () => now })
    await auth.signIn('good-token')

    now += 890_000 // 10 s left
    await api.get('/things')
    expect(hub.callsTo('/auth/refresh')).toHaveLength(1)
    expect(bearerOf('/things')).toEqual(['Bearer access-2'])
  })

  it('a failed refresh clears the state and reports why', async () => {
    await auth.signIn('good-token')
    hub.expireAccessToken()
    hub.failRefresh = { status: 401, code: 'refresh_token_reused' }

    const error = await api.get('/things').catch((e: unknown) => e)
    expect((error as ApiError).code).toBe('token_expired')
    expect(ended).toEqual(['refresh_token_reused'])
    expect(auth.state.status).toBe('signed-out')
    expect(auth.state.user).toBeNull()
    expect(auth.state.endedReason).toBe('refresh_token_reused')

    // Later requests carry no token at all.
    await api.get('/things').catch(() => undefined)
    expect(bearerOf('/things').at(-1)).toBeNull()
  })

  it('a refresh that fails for a passing reason keeps the session', async () => {
    await auth.signIn('good-token')
    hub.expireAccessToken()
    hub.failRefresh = { status: 503, code: 'unavailable' }

    await expect(api.get('/things')).rejects.toBeInstanceOf(ApiError)
    expect(auth.isSignedIn.value).toBe(true)
    expect(ended).toEqual([])

    // The next expiry-triggered refresh works again.
    await api.get('/things')
    expect(auth.isSignedIn.value).toBe(true)
  })

  it('any other 401 ends the session', async () => {
    await auth.signIn('good-token')
    hub.revoked = true

    const error = await api.get('/things').catch((e: unknown) => e)
    expect((error as ApiError).code).toBe('session_revoked')
    expect(ended).toEqual(['session_revoked'])
    expect(auth.isSignedIn.value).toBe(false)
    expect(hub.callsTo('/auth/refresh')).toHaveLength(0)
  })
})

describe('restoring and signing out', () => {
  it('restores a session from the refresh cookie with an empty body', async () => {
    hub.cookie = 'refresh-0'
    hub.refresh = 'refresh-0'
    await auth.start()

    const [call] = hub.callsTo('/auth/refresh')
    expect(call.body).toBeUndefined()
    expect(auth.state.status).toBe('signed-in')
    expect(auth.state.user?.email).toBe('ana@demo.test')
    expect(auth.state.accountName).toBe('Demo Co')

    await auth.start()
    expect(hub.callsTo('/auth/refresh')).toHaveLength(1)
  })

  it('without a cookie it ends signed out, quietly', async () => {
    await auth.start()
    expect(auth.state.status).toBe('signed-out')
    expect(auth.state.endedReason).toBeNull()
    expect(ended).toEqual([])
  })

  it('signing out ends the session on the hub and here', async () => {
    await auth.signIn('good-token')
    await auth.signOut()

    expect(hub.callsTo('/auth/logout').map((c) => c.authorization)).toEqual(['Bearer access-1'])
    expect(ended).toEqual(['signed_out'])
    expect(auth.state.status).toBe('signed-out')
    expect(auth.state.endedReason).toBe('signed_out')
  })

  it('signs out locally even when the hub cannot be reached', async () => {
    await auth.signIn('good-token')
    hub.fetch.mockRejectedValueOnce(new TypeError('Failed to fetch'))
    await auth.signOut()
    expect(auth.isSignedIn.value).toBe(false)
    expect(ended).toEqual(['signed_out'])
  })
})

describe('several tabs', () => {
  /** Two in-memory channels wired to each other, like one BroadcastChannel in two tabs. */
  function channelPair(): [ChannelLike, ChannelLike] {
    const make = (): ChannelLike & { peer?: ChannelLike } => ({
      onmessage: null,
      postMessage(message) {
        queueMicrotask(() => this.peer?.onmessage?.({ data: message } as MessageEvent))
      },
      close() {},
    })
    const a = make()
    const b = make()
    a.peer = b
    b.peer = a
    return [a, b]
  }

  it('a tab adopts the tokens another tab refreshed, so it never reuses a spent one', async () => {
    const [one, two] = channelPair()
    auth.dispose()
    auth = makeAuth({ channel: one })
    const other = createAuth({ channel: two, locks: null, device: null })

    await auth.signIn('good-token') // cookie now holds refresh-1
    // The second tab loads and restores from the cookie, spending refresh-1.
    setAuthHandler(other.handler)
    await other.start()
    expect(other.isSignedIn.value).toBe(true)
    await vi.waitFor(() => expect(hub.used.has('refresh-1')).toBe(true))
    await new Promise((done) => setTimeout(done, 0))

    // The first tab refreshes with what the second shared, not with refresh-1.
    setAuthHandler(auth.handler)
    expect(await auth.refresh()).toBe(true)
    expect(hub.callsTo('/auth/refresh').at(-1)?.body).toEqual({ refresh_token: 'refresh-2' })
    expect(auth.isSignedIn.value).toBe(true)
    other.dispose()
  })

  it('signing out in one tab signs out the other', async () => {
    const [one, two] = channelPair()
    auth.dispose()
    auth = makeAuth({ channel: one })
    const other = createAuth({ channel: two, locks: null })
    const otherEnded: string[] = []
    other.onSignedOut((reason) => otherEnded.push(reason))

    await auth.signIn('good-token')
    setAuthHandler(other.handler)
    await other.start()
    await new Promise((done) => setTimeout(done, 0))

    setAuthHandler(auth.handler)
    await auth.signOut()
    await vi.waitFor(() => expect(otherEnded).toEqual(['signed_out']))
    expect(other.isSignedIn.value).toBe(false)
    other.dispose()
  })
})
