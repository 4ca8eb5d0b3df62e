import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, setAuthHandler } from '../api/client'
import { createAuth, type Auth } from '../auth/store'
import { fakeBilling, type FakeBilling } from '../test/fakeBilling'
import { createAccountStatus, REFRESH_MS, type AccountStatus } from './accountStatus'

let hub: FakeBilling
let auth: Auth
let status: AccountStatus

/** A session restored by the refresh cookie, and the account status following it. */
async function signedIn(options: Parameters<typeof fakeBilling>[0] = {}, prepare: (h: FakeBilling) => void = () => {}) {
  hub = fakeBilling(options)
  prepare(hub)
  vi.stubGlobal('fetch', hub.fetch)
  hub.refresh = 'refresh-0'
  hub.cookie = 'refresh-0'
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  await auth.start()
  status = createAccountStatus(auth)
  status.start()
}

const reads = (what: string) => hub.calls.filter((c) => c.method === 'GET' && c.path === `/accounts/account-1/${what}`).length

afterEach(() => {
  status?.stop()
  auth?.dispose()
  setAuthHandler(null)
  vi.unstubAllGlobals()
})

describe('account status', () => {
  it('reads features, billing and usage once signed in', async () => {
    await signedIn({ status: 'past_due' }, (h) => {
      h.billing.features.internal_chat_enabled = false
      h.billing.messagesThisMonth = 9000 // of Pro's 10,000
    })
    await vi.waitFor(() => expect(status.state.usage).not.toBeNull())
    await vi.waitFor(() => expect(status.state.status).toBe('past_due'))
    expect(status.state.graceUntil).toBe(hub.billing.graceUntil)
    expect(status.hasFeature('kanban_enabled')).toBe(true)
    expect(status.hasFeature('internal_chat_enabled')).toBe(false)
    expect(status.banners.value.map((b) => [b.kind, b.tone, b.action])).toEqual([
      ['past_due', 'warning', 'Pay now'],
      ['messages', 'info', 'See plans'],
    ])
    expect([reads('features'), reads('billing'), reads('usage')]).toEqual([1, 1, 1])
  })

  it('agents read the short billing answer and get no link', async () => {
    await signedIn({ role: 'agent', status: 'suspended' })
    await vi.waitFor(() => expect(status.state.status).toBe('suspended'))
    expect(status.banners.value).toMatchObject([{ kind: 'suspended', action: null }])
  })

  it('a 402 from any write raises a notice and reads billing again, once for a burst', async () => {
    await signedIn({ status: 'active' })
    await vi.waitFor(() => expect(status.state.status).toBe('active'))
    expect(status.banners.value).toEqual([])
    hub.billing.subscription!.status = 'suspended'

    await expect(api.post('/accounts/account-1/things', {})).rejects.toMatchObject({ status: 402 })
    await expect(api.post('/accounts/account-1/things', {})).rejects.toMatchObject({ status: 402 })
    expect(status.state.notice).toMatchObject({ kind: 'suspended' })
    expect(status.state.notice!.message).toMatch(/not saved: the subscription is suspended/)
    expect(status.state.status).toBe('suspended')
    expect(status.banners.value.map((b) => b.kind)).toEqual(['suspended'])
    await vi.waitFor(() => expect(reads('billing')).toBe(2))
    status.dismissNotice()
    expect(status.state.notice).toBeNull()
  })

  it('reads everything again every five minutes, and stops when stopped', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    await signedIn({ status: 'active' })
    await vi.waitFor(() => expect(reads('usage')).toBe(1))
    hub.billing.subscription!.status = 'past_due'
    hub.billing.graceUntil = '2026-12-02T14:00:00Z'

    vi.advanceTimersByTime(REFRESH_MS - 1)
    expect(reads('billing')).toBe(1)
    vi.advanceTimersByTime(1)
    await vi.waitFor(() => expect(status.state.status).toBe('past_due'))
    expect([reads('features'), reads('billing'), reads('usage')]).toEqual([2, 2, 2])

    status.stop()
    vi.advanceTimersByTime(REFRESH_MS * 3)
    expect(reads('billing')).toBe(2)
  })

  it('a hub without billing shows no banner; unreadable features count as on', async () => {
    await signedIn({}, (h) => {
      h.billing.unavailable = true
      h.fetch.mockImplementation(
        ((original) => async (input: RequestInfo | URL, init?: RequestInit) =>
          String(input).endsWith('/features') ? new Response('oops', { status: 500 }) : original(input, init))(
          h.fetch.getMockImplementation()!,
        ),
      )
    })
    await vi.waitFor(() => expect(status.state.billingUnavailable).toBe(true))
    expect(status.state.status).toBeNull()
    expect(status.banners.value).toEqual([])
    expect(status.state.features).toBeNull()
    expect(status.hasFeature('kanban_enabled')).toBe(true)
  })

  it('a 403 feature_disabled elsewhere reads the features again', async () => {
    await signedIn()
    await vi.waitFor(() => expect(status.state.features).not.toBeNull())
    hub.billing.features.kanban_enabled = false
    const original = hub.fetch.getMockImplementation()!
    hub.fetch.mockImplementation(async (input, init) =>
      String(input).includes('/boards')
        ? new Response(JSON.stringify({ status: 403, code: 'feature_disabled', title: 'Forbidden', detail: 'x' }), { status: 403 })
        : original(input, init),
    )
    await expect(api.get('/accounts/account-1/boards')).rejects.toMatchObject({ code: 'feature_disabled' })
    await vi.waitFor(() => expect(status.hasFeature('kanban_enabled')).toBe(false))
  })

  it('forgets everything when the session ends', async () => {
    await signedIn({ status: 'suspended' })
    await vi.waitFor(() => expect(status.state.status).toBe('suspended'))
    await auth.signOut()
    await vi.waitFor(() => expect(status.state.accountId).toBeNull())
    expect(status.state.status).toBeNull()
    expect(status.banners.value).toEqual([])
  })
})
