import { ApiError } from '../api/client'

/** What to tell a person for a problem `code`; `detail` of the problem otherwise. */
const MESSAGES: Record<string, string> = {
  chatwoot_credential_rejected:
    'Chatwoot did not accept this access token. Copy it again from your Chatwoot profile settings.',
  not_a_member: 'This Chatwoot user is not a member of the Chatwoot account connected to this hub.',
  membership_deactivated:
    'Your access to this account was deactivated. Ask an administrator to reactivate it.',
  quota_exceeded:
    'Your plan has no free agent seats left. Ask an administrator to free a seat or upgrade the plan.',
  unavailable:
    'Chatwoot cannot be reached to check your sign-in, or single sign-on is not set up on this hub. Try again in a moment.',
  network_error: 'The hub could not be reached. Check your connection and try again.',
  token_expired: 'Your session could not be renewed. Sign in again.',
  invalid_token: 'Your session is no longer valid. Sign in again.',
  unauthenticated: 'Sign in to continue.',
  session_revoked: 'Your session was ended, for example from another device. Sign in again.',
  session_expired: 'Your session expired. Sign in again.',
  refresh_token_reused:
    'Your session was ended for your protection because its sign-in was used twice. Sign in again.',
  invalid_refresh_token: 'Your session expired. Sign in again.',
  forbidden: 'Your role does not allow this. Ask an administrator.',
  user_token_required: 'This needs a signed-in person, not an API key.',
  not_found: 'It no longer exists. It may have been removed already.',
  subscription_suspended:
    'The subscription is suspended, so the account is read-only until it is paid. An administrator can pay in Settings → Billing.',
  feature_disabled: 'Not available on your plan. Ask an administrator to upgrade it.',
  internal_error: 'Something went wrong on the hub. Try again; if it keeps happening, tell your administrator.',
}

function seconds(n: number): string {
  return n === 1 ? '1 second' : `${n} seconds`
}

/** A sentence for any failure: an ApiError's code, or a generic one. */
export function problemMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Try again.'
  const { code } = error
  if (code === 'rate_limited') {
    const wait = error.retryAfter
    return wait
      ? `Too many attempts. Try again in ${seconds(wait)}.`
      : 'Too many attempts. Wait a moment and try again.'
  }
  if (code === 'validation_failed') {
    const first = error.fieldErrors[0]
    return first ? `${fieldLabel(first.field)} ${first.message}.` : 'Some fields are not valid.'
  }
  return MESSAGES[code] ?? (error.problem.detail || error.problem.title || 'Something went wrong.')
}

/** The sign-in form's message, which knows the only field is the token. */
export function signInErrorMessage(error: unknown): string {
  if (error instanceof ApiError && error.code === 'validation_failed') {
    const field = error.fieldErrors[0]?.field
    if (!field || field === 'chatwoot_api_token') return 'Enter your Chatwoot access token.'
  }
  return problemMessage(error)
}

/** Why a session ended, for the sign-in page; null when the person signed out themselves. */
export function sessionEndedMessage(code: string | null): string | null {
  if (!code || code === 'signed_out') return null
  return MESSAGES[code] ?? 'Your session ended. Sign in again.'
}

function fieldLabel(field: string): string {
  const label = field.replace(/_/g, ' ')
  return label.charAt(0).toUpperCase() + label.slice(1)
}
