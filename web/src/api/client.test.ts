import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError } from './client'

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
  vi.unstubAllGlobals()
})

describe('api client', () => {
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
})
