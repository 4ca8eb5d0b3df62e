import { describe, expect, it } from 'vitest'
import { ApiError, type Problem } from '../api/client'
import { problemMessage } from '../auth/messages'
import { chatwootErrorMessage } from '../pages/settings/chatwoot'
import { kanbanMessage } from '../kanban/useBoard'
import { billingErrorMessage } from './messages'

function apiError(code: string, extra: Partial<Problem> = {}) {
  return new ApiError({ type: 'about:blank', title: 'Error', status: 400, detail: `detail of ${code}`, code, ...extra })
}

describe('billing messages', () => {
  it.each([
    ['billing_unavailable', 'Billing is not configured on this hub.'],
    ['already_subscribed', 'This account already has a subscription. Switch its plan instead.'],
    ['invalid_cpf_cnpj', 'This CPF or CNPJ is not valid. Check its digits.'],
    ['payment_not_open', 'This charge is no longer open: it was paid or canceled.'],
  ])('%s has its own sentence', (code, expected) => {
    expect(billingErrorMessage(apiError(code))).toBe(expected)
  })

  it('a downgrade that does not fit lists what to remove', () => {
    const error = apiError('usage_exceeds_plan', {
      status: 409,
      exceeded: [
        { resource: 'boards', limit: 2, current: 5 },
        { resource: 'teams', limit: 1, current: 2 },
      ],
    })
    expect(billingErrorMessage(error)).toBe(
      'The account uses more than this plan allows. Remove 3 boards (plan allows 2, you have 5); Remove 1 team (plan allows 1, you have 2).',
    )
    expect(billingErrorMessage(apiError('usage_exceeds_plan', { status: 409 }))).toBe('detail of usage_exceeds_plan')
  })

  it("Asaas's refusal carries its reason", () => {
    expect(billingErrorMessage(apiError('asaas_rejected', { status: 422, detail: 'O CEP informado é inválido.' }))).toBe(
      'The payment provider (Asaas) refused: O CEP informado é inválido.',
    )
  })

  it('falls back to the generic sentences', () => {
    expect(billingErrorMessage(apiError('forbidden', { status: 403 }))).toBe(problemMessage(apiError('forbidden')))
    expect(billingErrorMessage(new Error('boom'))).toBe('Something went wrong. Try again.')
  })
})

describe('plan refusals anywhere in the app', () => {
  const suspended = apiError('subscription_suspended', { status: 402, detail: 'The subscription is suspended.' })
  const disabled = apiError('feature_disabled', { status: 403, detail: 'The plan does not include kanban.' })

  it('a 402 says the account is read-only until paid, and where to pay', () => {
    for (const message of [problemMessage(suspended), chatwootErrorMessage(suspended), kanbanMessage(suspended)]) {
      expect(message).toBe(
        'The subscription is suspended, so the account is read-only until it is paid. An administrator can pay in Settings → Billing.',
      )
    }
  })

  it('a 403 feature_disabled says it is not available on the plan', () => {
    expect(problemMessage(disabled)).toBe('Not available on your plan. Ask an administrator to upgrade it.')
    expect(chatwootErrorMessage(disabled)).toBe('Not available on your plan. Ask an administrator to upgrade it.')
  })
})
