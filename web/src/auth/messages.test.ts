import { describe, expect, it } from 'vitest'
import { ApiError, type Problem } from '../api/client'
import { problemMessage, sessionEndedMessage, signInErrorMessage } from './messages'

function apiError(code: string, extra: Partial<Problem> = {}) {
  return new ApiError({
    type: 'about:blank',
    title: 'Error',
    status: 400,
    detail: `detail of ${code}`,
    code,
    ...extra,
  })
}

describe('sign-in messages', () => {
  it.each([
    ['chatwoot_credential_rejected', /Chatwoot did not accept this access token/],
    ['not_a_member', /not a member of the Chatwoot account/],
    ['membership_deactivated', /deactivated.*administrator/],
    ['quota_exceeded', /no free agent seats/],
    ['unavailable', /Chatwoot cannot be reached/],
    ['network_error', /hub could not be reached/],
  ])('%s has its own sentence', (code, expected) => {
    const message = signInErrorMessage(apiError(code))
    expect(message).toMatch(expected)
    expect(message).not.toContain('detail of')
  })

  it('says how long to wait when rate limited', () => {
    expect(signInErrorMessage(apiError('rate_limited', { status: 429, retry_after: 42 }))).toBe(
      'Too many attempts. Try again in 42 seconds.',
    )
    expect(signInErrorMessage(apiError('rate_limited', { status: 429, retry_after: 1 }))).toBe(
      'Too many attempts. Try again in 1 second.',
    )
    expect(signInErrorMessage(apiError('rate_limited', { status: 429 }))).toMatch(/Wait a moment/)
  })

  it('a 422 on the token asks for the token', () => {
    const error = apiError('validation_failed', {
      status: 422,
      errors: [{ field: 'chatwoot_api_token', message: 'send exactly one of …' }],
    })
    expect(signInErrorMessage(error)).toBe('Enter your Chatwoot access token.')
  })

  it('a 422 on another field names it', () => {
    const error = apiError('validation_failed', {
      status: 422,
      errors: [{ field: 'device', message: 'must be at most 120 characters' }],
    })
    expect(signInErrorMessage(error)).toBe('Device must be at most 120 characters.')
  })
})

describe('problemMessage', () => {
  it("falls back to the problem's detail for unknown codes", () => {
    expect(problemMessage(apiError('something_new'))).toBe('detail of something_new')
  })

  it('has a sentence for errors that are not problems', () => {
    expect(problemMessage(new Error('boom'))).toBe('Something went wrong. Try again.')
  })

  it('explains a refused role', () => {
    expect(problemMessage(apiError('forbidden', { status: 403 }))).toMatch(/role does not allow/)
  })
})

describe('sessionEndedMessage', () => {
  it('is silent when the person signed out', () => {
    expect(sessionEndedMessage(null)).toBeNull()
    expect(sessionEndedMessage('signed_out')).toBeNull()
  })

  it('explains an ended, expired or reused session', () => {
    expect(sessionEndedMessage('session_revoked')).toMatch(/session was ended/)
    expect(sessionEndedMessage('session_expired')).toMatch(/expired/)
    expect(sessionEndedMessage('refresh_token_reused')).toMatch(/used twice/)
    expect(sessionEndedMessage('whatever')).toBe('Your session ended. Sign in again.')
  })
})
