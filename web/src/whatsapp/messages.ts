/** Sentences for failed WhatsApp calls, by the problem's `code`. */
import { ApiError, type Problem } from '../api/client'
import { problemMessage } from '../auth/messages'
import { formatCount } from '../billing/format'
import { providerTypeLabel } from './format'

const MESSAGES: Record<string, string> = {
  provider_credentials_invalid: 'The server refused these credentials.',
  provider_unreachable: 'The provider server could not be reached, or did not answer as expected. Try again in a moment.',
  provider_name_taken: 'Another server of this account already has this name.',
  provider_has_instances: "This server still has numbers. Delete its numbers first, then the server.",
  instance_name_taken: 'Another number already has this name on this server.',
  not_found: 'It no longer exists. Reload the page to see the current list.',
  forbidden: 'Your role does not allow this. Ask an administrator.',
}

const RESOURCES: Record<string, [string, string]> = {
  providers: ['server', 'servers'],
  instances: ['number', 'numbers'],
  inboxes: ['inbox', 'inboxes'],
}

/** "Your plan allows 3 servers." (403 `quota_exceeded`, whose `resource` says of what). */
export function quotaMessage(problem: Problem, fallback: keyof typeof RESOURCES = 'instances'): string {
  const resource = typeof problem.resource === 'string' && RESOURCES[problem.resource] ? problem.resource : fallback
  const [one, many] = RESOURCES[resource]!
  const limit = typeof problem.limit === 'number' ? problem.limit : null
  const head =
    limit === null
      ? `Your plan has no room for another ${one}.`
      : `Your plan allows ${formatCount(limit)} ${limit === 1 ? one : many}.`
  return `${head} Delete one you no longer use, or upgrade the plan in Settings → Billing.`
}

/** "This hub cannot drive WAHA servers yet." */
export function unsupportedTypeMessage(type: string): string {
  return `This hub cannot drive ${providerTypeLabel(type)} servers yet.`
}

/** A sentence for a failed WhatsApp call; generic codes as everywhere else (auth/messages). */
export function whatsappErrorMessage(error: unknown, quotaOf: keyof typeof RESOURCES = 'instances'): string {
  if (!(error instanceof ApiError)) return problemMessage(error)
  const { code, problem } = error
  if (code === 'quota_exceeded') return quotaMessage(problem, quotaOf)
  if (code === 'provider_rejected') {
    return problem.detail ? `The provider server refused: ${problem.detail}` : 'The provider server refused the request.'
  }
  if (code === 'provider_type_unsupported') {
    return problem.detail || 'This hub cannot drive servers of this type yet.'
  }
  return MESSAGES[code] ?? problemMessage(error)
}
