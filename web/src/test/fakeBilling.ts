/**
 * The fake hub (fakeHub.ts) plus plans, the account's subscription and payments, usage and
 * features, in the shapes of the hub's billing API, for unit tests of Settings → Billing,
 * Settings → Plans, the banners and the feature-gated navigation:
 *
 * - `/plans` (active ones; `?include_archived=true` and changes for super admins; DELETE
 *   archives a plan in `billing.usedPlans` and deletes any other);
 * - `/accounts/account-1/billing` (agents get only `status` and `grace_until`), subscribe
 *   (PIX makes a pending charge with a QR code; the CPF `11144477735` is refused by "Asaas"
 *   with 422 `invalid_cpf_cnpj`), switch within the cycle (dearer per month: now; otherwise
 *   `pending_plan`; the current plan withdraws it; `billing.exceeded` answers 409
 *   `usage_exceeds_plan`), cancel, payments (cursor pages),
 *   a payment's PIX (409 `payment_not_open` once paid);
 * - `/accounts/account-1/{usage,features}`;
 * - `POST /accounts/account-1/things`, a write that answers 402 `subscription_suspended`
 *   while the subscription is suspended.
 *
 * `billing.unavailable` makes every `/billing` call answer 503 `billing_unavailable`.
 */
import { vi } from 'vitest'
import type {
  BillingStatus,
  ExceededUsage,
  Features,
  Payment,
  Pix,
  Plan,
  Subscription,
} from '../api/billing'
import { FIXTURE_AT as AT, TEST_NOW } from './clock'
import { fakeHub } from './fakeHub'

const ACCOUNT = '/accounts/account-1'
const DAY = 24 * 3_600_000

function json(status: number, body: unknown) {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })
}

function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return json(status, { type: 'about:blank', title: 'Error', status, detail, code, ...extra })
}

/** YYYY-MM-DD, `days` after TEST_NOW. */
export function dayAfter(days: number): string {
  return new Date(TEST_NOW + days * DAY).toISOString().slice(0, 10)
}

export function isoAfter(days: number): string {
  return new Date(TEST_NOW + days * DAY).toISOString()
}

function plan(
  id: string,
  code: string,
  name: string,
  price: string,
  position: number,
  limits: Partial<Plan['entitlements']['limits']> = {},
  features: Partial<Features> = {},
  extra: Partial<Plan> = {},
): Plan {
  return {
    id,
    code,
    name,
    description: `${name} for growing teams.`,
    price,
    currency: 'BRL',
    cycle: 'MONTHLY',
    trial_days: 0,
    entitlements: {
      limits: {
        max_agents: 5,
        max_teams: 2,
        max_inboxes: 2,
        max_boards: 2,
        max_providers: 1,
        max_instances: 1,
        max_monthly_messages: 1000,
        ...limits,
      },
      features: { kanban_enabled: true, internal_chat_enabled: true, analytics_enabled: false, ...features },
    },
    active: true,
    position,
    created_at: AT,
    updated_at: AT,
    ...extra,
  }
}

/** Starter (R$ 49,90), Pro (R$ 149,90) and Business (R$ 1.490,00 a year), listed out of order. */
export function demoPlans(): Plan[] {
  return [
    plan('plan-pro', 'pro', 'Pro', '149.90', 2, { max_agents: 15, max_boards: 10, max_monthly_messages: 10000 }, { analytics_enabled: true }),
    plan('plan-starter', 'starter', 'Starter', '49.90', 1, { max_boards: 2 }, { internal_chat_enabled: false }),
    plan(
      'plan-business',
      'business',
      'Business',
      '1490.00',
      3,
      { max_agents: 50, max_boards: 50, max_monthly_messages: 100000 },
      { analytics_enabled: true },
      { cycle: 'YEARLY', trial_days: 14 },
    ),
    plan('plan-legacy', 'legacy', 'Legacy', '29.90', 0, {}, {}, { active: false }),
  ]
}

export const PIX: Pix = {
  payload: '00020101021226820014br.gov.bcb.pix2560pix.example/qr/v2/cobv/9d36b84f-demo5204000053039865406149.905802BR',
  encoded_image: 'fake-qr-image-bytes',
  expiration_date: `${dayAfter(1)} 23:59:59`,
}

export interface BillingOptions {
  role?: string
  superAdmin?: boolean
  /** Start with a subscription in this state (on Pro), or none. */
  status?: BillingStatus
  pageSize?: number
}

export function fakeBilling({ role = 'admin', superAdmin = false, status = 'none', pageSize = 20 }: BillingOptions = {}) {
  const hub = fakeHub({ role, superAdmin })
  const authFetch = hub.fetch.getMockImplementation()!
  const plans = demoPlans()
  const byId = (id: string) => plans.find((p) => p.id === id) ?? null
  let paymentSeq = 0

  function newPayment(value: string, billingType: string, paymentStatus = 'PENDING', due = dayAfter(1)): Payment & { pix: Pix | null } {
    paymentSeq += 1
    return {
      id: `payment-${paymentSeq}`,
      asaas_id: `pay_${paymentSeq}`,
      value,
      status: paymentStatus,
      billing_type: billingType,
      due_date: due,
      paid_at: paymentStatus === 'RECEIVED' ? AT : null,
      invoice_url: `https://asaas.test/i/${paymentSeq}`,
      pix: billingType === 'PIX' ? PIX : null,
    }
  }

  const billing = {
    plans,
    subscription: null as Subscription | null,
    /** Oldest first; listed newest first. */
    payments: [] as (Payment & { pix: Pix | null })[],
    usage: { agents: 3, teams: 1, inboxes: 2, boards: 5 } as Record<string, number>,
    messagesThisMonth: 420,
    /** The plan the account is on without a subscription (the free plan's values). */
    freeLimits: { ...demoPlans()[1]!.entitlements.limits, max_boards: 2, max_monthly_messages: 1000 },
    features: { kanban_enabled: true, internal_chat_enabled: true, analytics_enabled: false } as Features,
    /** The hub has no Asaas configured. */
    unavailable: false,
    /** The next switch answers 409 `usage_exceeds_plan` with this. */
    exceeded: null as ExceededUsage[] | null,
    graceUntil: null as string | null,
    /** Plans some subscription has had: DELETE archives them (the others it deletes). */
    usedPlans: new Set(['plan-starter', 'plan-pro', 'plan-business', 'plan-legacy']),
  }

  function subscribe(planId: string, billingType: string, subscriptionStatus: BillingStatus = 'pending') {
    const chosen = byId(planId)!
    billing.subscription = {
      id: 'subscription-1',
      status: subscriptionStatus,
      plan: chosen,
      pending_plan: null,
      billing_type: billingType,
      current_period_end: isoAfter(30),
      next_due_date: dayAfter(1),
      trial_ends_at: null,
      grace_until: null,
      cancel_at_period_end: false,
      created_at: AT,
    }
  }

  if (status !== 'none') {
    billing.payments.push(newPayment('149.90', 'PIX', 'RECEIVED', dayAfter(-30)))
    subscribe('plan-pro', 'PIX', status)
    if (status === 'past_due' || status === 'suspended') {
      billing.payments.push(newPayment('149.90', 'PIX', 'OVERDUE', dayAfter(-3)))
      billing.graceUntil = status === 'past_due' ? isoAfter(4) : null
    }
    if (status === 'canceled') billing.subscription!.current_period_end = isoAfter(-1)
  }

  function currentStatus(): BillingStatus {
    return billing.subscription?.status ?? 'none'
  }

  function live() {
    return ['pending', 'trialing', 'active', 'past_due', 'suspended'].includes(currentStatus())
  }

  function limits() {
    return live() ? billing.subscription!.plan.entitlements.limits : billing.freeLimits
  }

  function overview() {
    const sub = billing.subscription
    return {
      status: currentStatus(),
      grace_until: billing.graceUntil,
      subscription: sub ? { ...sub, grace_until: billing.graceUntil } : null,
      plan: sub?.plan ?? null,
      pending_plan: sub?.pending_plan ?? null,
      current_period_end: sub?.current_period_end ?? null,
      next_due_date: sub?.next_due_date ?? null,
      payments: [...billing.payments].reverse().slice(0, 5).map(strip),
      entitlements: { limits: limits(), features: billing.features },
    }
  }

  function strip(payment: Payment & { pix?: Pix | null }): Payment {
    const { pix: _pix, ...rest } = payment
    return rest
  }

  /** "Asaas" confirms the payment: the charge is received and the subscription active. */
  function pay(paymentId?: string) {
    const payment = paymentId
      ? billing.payments.find((p) => p.id === paymentId)!
      : [...billing.payments].reverse().find((p) => p.status === 'PENDING' || p.status === 'OVERDUE')!
    payment.status = 'RECEIVED'
    payment.paid_at = new Date(TEST_NOW).toISOString()
    if (billing.subscription) billing.subscription.status = 'active'
    billing.graceUntil = null
  }

  const MONTHS: Record<string, number> = { MONTHLY: 1, QUARTERLY: 3, SEMIANNUALLY: 6, YEARLY: 12 }
  const monthly = (p: Plan) => Number(p.price) / (MONTHS[p.cycle] ?? 1)

  function validatePlan(body: any): { field: string; message: string }[] {
    const errors: { field: string; message: string }[] = []
    if (!/^[a-z0-9][a-z0-9-]{1,39}$/.test(body?.code ?? '')) errors.push({ field: 'code', message: 'must be 2 to 40 of a-z, 0-9 and -' })
    if (plans.some((p) => p.code === body?.code && p.id !== body?.id)) errors.push({ field: 'code', message: 'is already taken' })
    if (!body?.name) errors.push({ field: 'name', message: 'must not be empty' })
    if (!/^\d+\.\d{2}$/.test(body?.price ?? '')) errors.push({ field: 'price', message: 'must be a decimal like 149.90' })
    if ((body?.entitlements?.limits?.max_agents ?? 0) > 1000) {
      errors.push({ field: 'entitlements.limits.max_agents', message: 'must be at most 1000' })
    }
    return errors
  }

  async function answer(method: string, path: string, url: URL, body: any): Promise<Response> {
    const isSuper = superAdmin
    if (path === '/plans') {
      if (method === 'GET') {
        const all = url.searchParams.get('include_archived') === 'true'
        if (all && !isSuper) return problem(403, 'forbidden', 'This needs a super admin.')
        return json(200, all ? plans : plans.filter((p) => p.active))
      }
      if (method === 'POST') {
        if (!isSuper) return problem(403, 'forbidden', 'This needs a super admin.')
        const errors = validatePlan(body)
        if (errors.length) return problem(422, 'validation_failed', 'The request has invalid fields.', { errors })
        const created: Plan = {
          ...plan(`plan-${plans.length + 1}`, body.code, body.name, body.price, body.position ?? 0),
          description: body.description ?? null,
          currency: body.currency ?? 'BRL',
          cycle: body.cycle,
          trial_days: body.trial_days ?? 0,
          entitlements: body.entitlements,
          active: body.active ?? true,
        }
        plans.push(created)
        return json(201, created)
      }
    }
    const planMatch = /^\/plans\/([^/]+)$/.exec(path)
    if (planMatch) {
      if (!isSuper) return problem(403, 'forbidden', 'This needs a super admin.')
      const target = byId(decodeURIComponent(planMatch[1]!))
      if (!target) return problem(404, 'not_found', 'The resource does not exist.')
      if (method === 'PUT') {
        const errors = validatePlan({ ...body, id: target.id })
        if (errors.length) return problem(422, 'validation_failed', 'The request has invalid fields.', { errors })
        Object.assign(target, body, { description: body.description ?? null, updated_at: AT })
        return json(200, target)
      }
      if (method === 'DELETE') {
        // Deleted when no subscription ever had it, archived otherwise.
        if (billing.usedPlans.has(target.id)) target.active = false
        else plans.splice(plans.indexOf(target), 1)
        return json(204, null)
      }
    }

    if (path === `${ACCOUNT}/usage`) {
      return json(200, {
        limits: limits(),
        features: billing.features,
        usage: billing.usage,
        messages_this_month: billing.messagesThisMonth,
        active_agents_this_month: 2,
      })
    }
    if (path === `${ACCOUNT}/features`) return json(200, billing.features)

    if (path === `${ACCOUNT}/things` && method === 'POST') {
      if (currentStatus() === 'suspended') {
        return problem(402, 'subscription_suspended', 'The subscription is suspended.', {
          billing_url: 'http://hub.test/settings/billing',
        })
      }
      return json(201, { ok: true })
    }

    if (path.startsWith(`${ACCOUNT}/billing`)) {
      if (billing.unavailable) return problem(503, 'billing_unavailable', 'Billing is not configured.')
      if (path === `${ACCOUNT}/billing` && method === 'GET') {
        if (role === 'agent') return json(200, { status: currentStatus(), grace_until: billing.graceUntil })
        return json(200, overview())
      }
      if (role === 'agent') return problem(403, 'forbidden', 'This needs a supervisor.')
      if (path === `${ACCOUNT}/billing/subscription`) {
        if (method !== 'GET' && role !== 'admin') return problem(403, 'forbidden', 'This needs an administrator.')
        if (method === 'POST') {
          if (live()) return problem(409, 'already_subscribed', 'The account already has a subscription.')
          if (body?.customer?.cpf_cnpj === '11144477735') {
            return problem(422, 'invalid_cpf_cnpj', 'Asaas did not accept this CPF.')
          }
          if (!body?.customer?.email) {
            return problem(422, 'validation_failed', 'The request has invalid fields.', {
              errors: [{ field: 'customer.email', message: 'must not be empty' }],
            })
          }
          const chosen = byId(body.plan_id)
          if (!chosen) return problem(404, 'not_found', 'The resource does not exist.')
          subscribe(chosen.id, body.billing_type)
          const payment = newPayment(chosen.price, body.billing_type)
          billing.payments.push(payment)
          return json(201, { subscription: billing.subscription, payment })
        }
        if (method === 'PUT') {
          if (!live()) return problem(409, 'no_subscription', 'The account has no subscription.')
          if (billing.exceeded) {
            const exceeded = billing.exceeded
            billing.exceeded = null
            return problem(409, 'usage_exceeds_plan', 'The account uses more than the plan allows.', { exceeded })
          }
          const target = byId(body?.plan_id)
          if (!target) return problem(404, 'not_found', 'The resource does not exist.')
          const sub = billing.subscription!
          // The current plan again withdraws a scheduled downgrade.
          if (target.id === sub.plan.id) sub.pending_plan = null
          else if (target.cycle !== sub.plan.cycle) {
            return problem(422, 'validation_failed', 'The request has invalid fields.', {
              errors: [{ field: 'plan_id', message: 'must be charged on the same cycle as the current plan' }],
            })
          } else if (monthly(target) <= monthly(sub.plan)) sub.pending_plan = target
          else Object.assign(sub, { plan: target, pending_plan: null })
          return json(200, sub)
        }
        if (method === 'DELETE') {
          if (!live()) return problem(409, 'no_subscription', 'The account has no subscription.')
          const sub = billing.subscription!
          // Nothing paid yet: no period to finish, so it ends at once.
          if (url.searchParams.get('immediately') === 'true' || sub.status === 'pending') sub.status = 'canceled'
          else sub.cancel_at_period_end = true
          return json(200, sub)
        }
      }
      if (path === `${ACCOUNT}/billing/payments` && method === 'GET') {
        const list = [...billing.payments].reverse().map(strip)
        const start = Number(url.searchParams.get('cursor') ?? 0)
        const limit = Math.min(Number(url.searchParams.get('limit') ?? pageSize), pageSize)
        const items = list.slice(start, start + limit)
        return json(200, { items, next_cursor: start + limit < list.length ? String(start + limit) : null })
      }
      const pix = new RegExp(`^${ACCOUNT}/billing/payments/([^/]+)/pix$`).exec(path)
      if (pix && method === 'GET') {
        const payment = billing.payments.find((p) => p.id === decodeURIComponent(pix[1]!))
        if (!payment) return problem(404, 'not_found', 'The resource does not exist.')
        if (payment.status !== 'PENDING' && payment.status !== 'OVERDUE') {
          return problem(409, 'payment_not_open', 'The payment is not open.')
        }
        return json(200, PIX)
      }
    }
    return problem(404, 'not_found', 'The resource does not exist.')
  }

  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://hub.test')
    const path = url.pathname.replace(/^\/api\/v1/, '')
    if (!path.startsWith(`${ACCOUNT}/`) && !path.startsWith('/plans')) return authFetch(input, init)

    const method = init.method ?? 'GET'
    const headers = (init.headers ?? {}) as Record<string, string>
    const authorization = headers.Authorization ?? null
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    hub.calls.push({ method, path: `${path}${url.search}`, body, authorization })
    const publicPlans = method === 'GET' && path === '/plans' && url.searchParams.get('include_archived') !== 'true'
    if (!publicPlans && (!hub.access || authorization !== `Bearer ${hub.access}`)) {
      return problem(401, 'invalid_token', 'The access token is not valid.')
    }
    return answer(method, path, url, body)
  })

  return Object.assign(hub, { fetch, billing, pay })
}

export type FakeBilling = ReturnType<typeof fakeBilling>
