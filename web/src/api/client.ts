/** The hub's JSON API under /api/v1. Failures are thrown as ApiError. */

const BASE = '/api/v1'

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
  return problem
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' }
  if (body !== undefined) headers['Content-Type'] = 'application/json'

  let response: Response
  try {
    response = await fetch(`${BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'same-origin',
    })
  } catch (cause) {
    if (signal?.aborted) throw cause
    throw new ApiError({
      type: 'about:blank',
      title: 'Network error',
      status: 0,
      detail: 'The hub could not be reached.',
      code: 'network_error',
    })
  }

  if (!response.ok) throw new ApiError(await parseProblem(response))
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal),
  post: <T>(path: string, body?: unknown, signal?: AbortSignal) =>
    request<T>('POST', path, body, signal),
  patch: <T>(path: string, body?: unknown, signal?: AbortSignal) =>
    request<T>('PATCH', path, body, signal),
  put: <T>(path: string, body?: unknown, signal?: AbortSignal) =>
    request<T>('PUT', path, body, signal),
  delete: <T = void>(path: string, signal?: AbortSignal) =>
    request<T>('DELETE', path, undefined, signal),
}
