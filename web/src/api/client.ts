/** The hub's JSON API under /api/v1. Failures are thrown as ApiError. */

/**
 * The API's path. When the hub is mounted under a prefix it writes `<base href="/prefix/">`
 * into the page, and the API is under that prefix too; without a <base> it is at the root
 * (document.baseURI would be the page's own URL, e.g. /embedded/kanban).
 */
export function apiBase(doc: Document | undefined = globalThis.document): string {
  if (!doc?.querySelector('base[href]')) return '/api/v1'
  return new URL('api/v1', doc.baseURI).pathname
}

export interface FieldError {
  field: string
  message: string
}

/** An RFC 9457 problem as the hub sends it (application/problem+json). */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  /** Stable machine-readable code to branch on, e.g. `not_found`. */
  code: string
  request_id?: string
  errors?: FieldError[]
  [extension: string]: unknown
}

export class ApiError extends Error {
  readonly problem: Problem

  constructor(problem: Problem) {
    super(problem.detail || problem.title)
    this.name = 'ApiError'
    this.problem = problem
  }

  get status(): number {
    return this.problem.status
  }

  get code(): string {
    return this.problem.code
  }

  /** Seconds to wait before trying again (from Retry-After), if the hub said. */
  get retryAfter(): number | undefined {
    const value = this.problem.retry_after
    return typeof value === 'number' ? value : undefined
  }

  /** Field errors of a 422, empty otherwise. */
  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? []
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback
}

function fieldErrors(value: unknown): FieldError[] | undefined {
  if (!Array.isArray(value)) return undefined
  return value.filter(
    (item): item is FieldError =>
      isObject(item) && typeof item.field === 'string' && typeof item.message === 'string',
  )
}

/** Builds a Problem from a failed response, whatever its body holds. */
export async function parseProblem(response: Response): Promise<Problem> {
  let body: unknown
  try {
    body = await response.json()
  } catch {
    body = undefined
  }
  const { type, title, status, detail, code, errors, ...extensions } = isObject(body) ? body : {}
  const problem: Problem = {
    ...extensions,
    type: text(type, 'about:blank'),
    title: text(title, response.statusText || 'Error'),
    status: typeof status === 'number' ? status : response.status,
    detail: text(detail, ''),
    code: text(code, `http_${response.status}`),
  }
  const fields = fieldErrors(errors)
  if (fields) problem.errors = fields
  // A 429 or 503 says when to come back in a header; keep it with the problem.
  const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10)
  if (Number.isFinite(retryAfter) && retryAfter >= 0 && problem.retry_after === undefined) {
    problem.retry_after = retryAfter
  }
  return problem
}

/**
 * How requests get their bearer token. The auth store (src/auth/store.ts) installs itself
 * here; the client never keeps a token of its own.
 */
export interface AuthHandler {
  /** The access token to send, refreshed first if it is about to expire; null if none. */
  accessToken(): Promise<string | null>
  /**
   * A request sent with `used` got 401 `token_expired`: get a fresh token (one refresh
   * shared by all requests). Resolves true when a retry is worth it.
   */
  refreshAfterExpiry(used: string): Promise<boolean>
  /** A request sent with `used` got any other 401: the session is gone. */
  rejected(problem: Problem, used: string): void
}

let authHandler: AuthHandler | null = null

/** A request the hub refused, as the listeners of `onProblem` see it. */
export interface ProblemEvent {
  problem: Problem
  method: string
  /** The path under /api/v1, with its query. */
  path: string
}

const problemListeners = new Set<(event: ProblemEvent) => void>()

/**
 * Calls `listener` for every problem the hub answers (before the request's promise rejects),
 * so state that spans the app can follow: a 402 `subscription_suspended` refreshes the
 * billing banner and shows a notice, a 403 `feature_disabled` re-reads the plan's features.
 * Returns an unsubscribe function.
 */
export function onProblem(listener: (event: ProblemEvent) => void): () => void {
  problemListeners.add(listener)
  return () => problemListeners.delete(listener)
}

function emitProblem(event: ProblemEvent) {
  for (const listener of [...problemListeners]) {
    try {
      listener(event)
    } catch {
      // A listener's failure is its own; the caller still gets the ApiError.
    }
  }
}

/** The account is suspended until its subscription is paid: any write answers this. */
export function isSubscriptionSuspended(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.status === 402 || error.code === 'subscription_suspended')
}

/** Installs (or removes, with null) the handler that authenticates requests. */
export function setAuthHandler(handler: AuthHandler | null) {
  authHandler = handler
}

export interface RequestOptions {
  signal?: AbortSignal
  /** Send the session's bearer token and handle its expiry (default true). */
  auth?: boolean
}

/** No answer from the hub (offline, or the connection dropped): status 0. */
function networkError(): ApiError {
  return new ApiError({
    type: 'about:blank',
    title: 'Network error',
    status: 0,
    detail: 'The hub could not be reached.',
    code: 'network_error',
  })
}

async function send(
  method: string,
  path: string,
  body: unknown,
  signal: AbortSignal | undefined,
  token: string | null,
): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  try {
    return await fetch(`${apiBase()}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'same-origin',
    })
  } catch (cause) {
    if (signal?.aborted) throw cause
    throw networkError()
  }
}

/**
 * Sends a request through `transport` with the session's bearer token: a 401
 * `token_expired` refreshes the token once and sends again; any other 401 ends the session;
 * a failure becomes an ApiError (its problem told to `onProblem` first).
 */
async function authorized<T>(
  method: string,
  path: string,
  auth: boolean,
  transport: (token: string | null) => Promise<Response>,
): Promise<T> {
  const handler = auth ? authHandler : null
  let token = handler ? await handler.accessToken() : null
  let response = await transport(token)

  if (response.status === 401 && handler && token) {
    let problem = await parseProblem(response)
    if (problem.code === 'token_expired' && (await handler.refreshAfterExpiry(token))) {
      token = await handler.accessToken()
      response = await transport(token)
      if (response.status === 401) problem = await parseProblem(response)
    }
    if (response.status === 401) {
      if (token && problem.code !== 'token_expired') handler.rejected(problem, token)
      emitProblem({ problem, method, path })
      throw new ApiError(problem)
    }
  }

  if (!response.ok) {
    const problem = await parseProblem(response)
    emitProblem({ problem, method, path })
    throw new ApiError(problem)
  }
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const { signal, auth = true } = options
  return authorized<T>(method, path, auth, (token) => send(method, path, body, signal, token))
}

export interface UploadOptions {
  signal?: AbortSignal
  /** Bytes sent so far out of the total, as the upload goes (only while it is sent). */
  onProgress?: (sent: number, total: number) => void
}

function headersOf(raw: string): Headers {
  const headers = new Headers()
  for (const line of raw.split(/\r?\n/)) {
    const at = line.indexOf(':')
    if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim())
  }
  return headers
}

/** A multipart POST by XMLHttpRequest (fetch reports no upload progress), as a Response. */
function sendForm(path: string, form: FormData, token: string | null, options: UploadOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new DOMException('The upload was cancelled.', 'AbortError'))
      return
    }
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `${apiBase()}${path}`)
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json')
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`)
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress?.(event.loaded, event.total)
    }
    xhr.onload = () => {
      const empty = xhr.status === 204 || xhr.status === 205 || xhr.status === 304
      resolve(new Response(empty ? null : xhr.responseText, { status: xhr.status, headers: headersOf(xhr.getAllResponseHeaders()) }))
    }
    xhr.onerror = () => reject(networkError())
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'))
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true })
    xhr.send(form)
  })
}

/** Uploads `form` (multipart) to `path` with the session's token, reporting its progress. */
export function upload<T>(path: string, form: FormData, options: UploadOptions = {}): Promise<T> {
  return authorized<T>('POST', path, true, (token) => sendForm(path, form, token, options))
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) =>
    request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('POST', path, body, options),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('PATCH', path, body, options),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('PUT', path, body, options),
  delete: <T = void>(path: string, options?: RequestOptions) =>
    request<T>('DELETE', path, undefined, options),
}
