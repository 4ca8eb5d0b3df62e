import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, isSubscriptionSuspended, onProblem, setAuthHandler, type AuthHandler, type ProblemEvent } from './client'

function respond(body: BodyInit | null, init: ResponseInit) {
  const fetchMock = vi.fn().mockResolvedValue(new Response(body, init))
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ApiError)
  return error as ApiError
}

afterEach(() => {
  setAuthHandler(null)
  vi.unstubAllGlobals()
})

function problemResponse(status: number, code: string, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify({ title: 'Error', status, detail: code, code }), {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
  })
}

function authorizationOf(call: unknown[]) {
  return ((call[1] as RequestInit).headers as Record<string, string>).Authorization
}

/** A handler whose token is `token-N`; refreshing bumps N. */
function stubHandler(): AuthHandler & { n: number } {
  const handler = {
    n: 1,
    accessToken: vi.fn(async () => `token-${handler.n}`),
    refreshAfterExpiry: vi.fn(async () => {
      handler.n += 1
      return true
    }),
    rejected: vi.fn(),
  }
  return handler
}

describe('api client', () => {
  it('sends to the path prefix of <base href> when the hub is mounted under one', async () => {
    const base = document.createElement('base')
    base.href = '/whatpro/'
    document.head.append(base)
    try {
      const fetchMock = respond(JSON.stringify({}), { status: 200 })
      await api.get('/boards')
      expect(fetchMock.mock.calls[0][0]).toBe('/whatpro/api/v1/boards')
    } finally {
      base.remove()
    }
  })

  it('sends JSON to /api/v1 and returns the parsed body', async () => {
    const fetchMock = respond(JSON.stringify({ id: 7 }), {
      status: 201,
      headers: { 'Content-Type': 'application/json' },
    })

    await expect(api.post('/boards', { name: 'Sales' })).resolves.toEqual({ id: 7 })

    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit]
    expect(url).toBe('/api/v1/boards')
    expect(init.method).toBe('POST')
    expect(init.body).toBe('{"name":"Sales"}')
    expect(init.headers).toMatchObject({ 'Content-Type': 'application/json' })
  })

  it('returns undefined for 204 No Content', async () => {
    respond(null, { status: 204 })
    await expect(api.delete('/boards/1')).resolves.toBeUndefined()
  })

  it('turns a problem+json body into an ApiError', async () => {
    respond(
      JSON.stringify({
        type: 'https://whatpro.dev/problems/validation',
        title: 'Unprocessable Entity',
        status: 422,
        detail: 'The request has invalid fields.',
        code: 'validation',
        request_id: 'req-1',
        errors: [{ field: 'name', message: 'must not be empty' }, { bogus: true }],
      }),
      { status: 422, headers: { 'Content-Type': 'application/problem+json' } },
    )

    const error = await failure(api.post('/boards', { name: '' }))
    expect(error.status).toBe(422)
    expect(error.code).toBe('validation')
    expect(error.message).toBe('The request has invalid fields.')
    expect(error.problem.request_id).toBe('req-1')
    expect(error.fieldErrors).toEqual([{ field: 'name', message: 'must not be empty' }])
  })

  it('keeps extension members such as quota limits', async () => {
    respond(
      JSON.stringify({
        type: 'https://whatpro.dev/problems/quota-exceeded',
        title: 'Forbidden',
        status: 403,
        detail: 'quota exceeded for boards',
        code: 'quota_exceeded',
        resource: 'boards',
        limit: 3,
        current: 3,
      }),
      { status: 403, headers: { 'Content-Type': 'application/problem+json' } },
    )

    const error = await failure(api.get('/boards'))
    expect(error.problem).toMatchObject({ resource: 'boards', limit: 3, current: 3 })
    expect(error.fieldErrors).toEqual([])
  })

  it('falls back to the HTTP status when the body is not a problem', async () => {
    respond('<h1>Bad gateway</h1>', {
      status: 502,
      statusText: 'Bad Gateway',
      headers: { 'Content-Type': 'text/html' },
    })

    const error = await failure(api.get('/boards'))
    expect(error.problem).toEqual({
      type: 'about:blank',
      title: 'Bad Gateway',
      status: 502,
      detail: '',
      code: 'http_502',
    })
    expect(error.message).toBe('Bad Gateway')
  })

  it('reports an unreachable hub as a network_error', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')))
    const error = await failure(api.get('/boards'))
    expect(error.status).toBe(0)
    expect(error.code).toBe('network_error')
  })

  it('keeps Retry-After with the problem', async () => {
    respond(JSON.stringify({ status: 429, code: 'rate_limited', detail: 'slow down' }), {
      status: 429,
      headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '17' },
    })
    const error = await failure(api.post('/auth/sso', {}))
    expect(error.retryAfter).toBe(17)
  })
})

describe('api client with an auth handler', () => {
  it('sends the bearer token, except with auth: false', async () => {
    const handler = stubHandler()
    setAuthHandler(handler)
    const fetchMock = vi.fn(async () => new Response('{}', { status: 200 }))
    vi.stubGlobal('fetch', fetchMock)

    await api.get('/things')
    await api.post('/auth/refresh', undefined, { auth: false })
    expect(authorizationOf(fetchMock.mock.calls[0])).toBe('Bearer token-1')
    expect(authorizationOf(fetchMock.mock.calls[1])).toBeUndefined()
    expect(handler.accessToken).toHaveBeenCalledTimes(1)
  })

  it('on token_expired, refreshes once and retries with the new token', async () => {
    const handler = stubHandler()
    setAuthHandler(handler)
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(problemResponse(401, 'token_expired'))
      .mockResolvedValueOnce(new Response('{"ok":true}', { status: 200 }))
    vi.stubGlobal('fetch', fetchMock)

    await expect(api.get('/things')).resolves.toEqual({ ok: true })
    expect(handler.refreshAfterExpiry).toHaveBeenCalledWith('token-1')
    expect(authorizationOf(fetchMock.mock.calls[1])).toBe('Bearer token-2')
    expect(handler.rejected).not.toHaveBeenCalled()
  })

  it('does not retry twice when the retry is refused too', async () => {
    const handler = stubHandler()
    setAuthHandler(handler)
    const fetchMock = vi.fn(async () => problemResponse(401, 'token_expired'))
    vi.stubGlobal('fetch', fetchMock)

    const error = await failure(api.get('/things'))
    expect(error.code).toBe('token_expired')
    expect(fetchMock).toHaveBeenCalledTimes(2)
    expect(handler.refreshAfterExpiry).toHaveBeenCalledTimes(1)
  })

  it('reports any other 401 as a rejected session', async () => {
    const handler = stubHandler()
    setAuthHandler(handler)
    vi.stubGlobal('fetch', vi.fn(async () => problemResponse(401, 'session_revoked')))

    const error = await failure(api.get('/things'))
    expect(error.code).toBe('session_revoked')
    expect(handler.refreshAfterExpiry).not.toHaveBeenCalled()
    expect(handler.rejected).toHaveBeenCalledWith(
      expect.objectContaining({ code: 'session_revoked' }),
      'token-1',
    )
  })

  it('leaves 403 and other failures to the caller', async () => {
    const handler = stubHandler()
    setAuthHandler(handler)
    vi.stubGlobal('fetch', vi.fn(async () => problemResponse(403, 'forbidden')))
    const error = await failure(api.get('/things'))
    expect(error.status).toBe(403)
    expect(handler.rejected).not.toHaveBeenCalled()
  })

  it('tells problem listeners about a 402 before the caller gets it, then stops when asked', async () => {
    const seen: ProblemEvent[] = []
    const order: string[] = []
    const stop = onProblem((event) => {
      seen.push(event)
      order.push('listener')
    })
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        new Response(
          JSON.stringify({
            title: 'Payment Required',
            status: 402,
            detail: 'The subscription is suspended.',
            code: 'subscription_suspended',
            billing_url: 'https://hub.test/settings/billing',
          }),
          { status: 402, headers: { 'Content-Type': 'application/problem+json' } },
        ),
      ),
    )

    const error = await failure(api.post('/accounts/a1/boards', { name: 'Sales' }).finally(() => order.push('caller')))
    expect(order).toEqual(['listener', 'caller'])
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/accounts/a1/boards' })
    expect(seen[0]!.problem).toMatchObject({ status: 402, code: 'subscription_suspended', billing_url: 'https://hub.test/settings/billing' })
    expect(isSubscriptionSuspended(error)).toBe(true)

    stop()
    await failure(api.post('/accounts/a1/boards', { name: 'Sales' }))
    expect(seen).toHaveLength(1)
  })

  it('a listener that throws does not change what the caller gets', async () => {
    const stop = onProblem(() => {
      throw new Error('broken listener')
    })
    try {
      respond(JSON.stringify({ status: 403, code: 'feature_disabled', title: 'Forbidden', detail: 'No kanban.' }), { status: 403 })
      const error = await failure(api.get('/accounts/a1/boards'))
      expect(error.code).toBe('feature_disabled')
      expect(isSubscriptionSuspended(error)).toBe(false)
    } finally {
      stop()
    }
  })
})
