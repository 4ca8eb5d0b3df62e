/** Sentences for failed billing calls, by the problem's `code`. */
import { ApiError } from '../api/client'
import { problemMessage } from '../auth/messages'
import { exceededLine, exceededList } from './format'

const MESSAGES: Record<string, string> = {
  billing_unavailable: 'Billing is not configured on this hub.',
  already_subscribed: 'This account already has a subscription. Switch its plan instead.',
  invalid_cpf_cnpj: 'This CPF or CNPJ is not valid. Check its digits.',
  asaas_unreachable: 'The payment provider (Asaas) could not be reached. Nothing was charged; try again in a moment.',
  payment_not_open: 'This charge is no longer open: it was paid or canceled.',
  not_subscribed: 'This account has no subscription any more. Reload the page.',
  subscription_in_progress: 'A subscription is already being set up for this account. Wait a moment and reload the page.',
  plan_not_found: 'This plan no longer exists. Reload the page to see the current plans.',
  plan_archived: 'This plan is no longer offered. Pick another one.',
  same_plan: 'The account is already on this plan.',
}

/** A sentence for a failed billing call; generic codes as everywhere else (auth/messages). */
export function billingErrorMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return problemMessage(error)
  const { code, problem } = error
  if (code === 'usage_exceeds_plan') {
    const lines = exceededList(problem.exceeded).map(exceededLine)
    return lines.length
      ? `The account uses more than this plan allows. ${lines.join('; ')}.`
      : problem.detail || 'The account uses more than this plan allows.'
  }
  if (code === 'asaas_rejected') {
    return problem.detail
      ? `The payment provider (Asaas) refused: ${problem.detail}`
      : 'The payment provider (Asaas) refused the request. Check the details and try again.'
  }
  return MESSAGES[code] ?? problemMessage(error)
}

