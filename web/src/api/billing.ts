/**
 * Plans, the account's subscription and payments (Asaas), usage and feature flags:
 * `/plans`, `/accounts/{accountId}/{billing,usage,features}` (see the OpenAPI document at
 * /api/openapi.json). Money travels as decimal strings ("149.90"), never as floats.
 */
import { api } from './client'
import type { Page } from './types'

export type BillingCycle = 'MONTHLY' | 'QUARTERLY' | 'SEMIANNUALLY' | 'YEARLY' | (string & {})
export type BillingType = 'PIX' | 'BOLETO' | 'CREDIT_CARD' | 'UNDEFINED' | (string & {})

/** The account's subscription, as the banners and the billing page see it. */
export type BillingStatus =
  | 'none'
  | 'pending'
  | 'trialing'
  | 'active'
  | 'past_due'
  | 'suspended'
  | 'canceled'
  | (string & {})

export interface Limits {
  max_agents: number
  max_teams: number
  max_inboxes: number
  max_boards: number
  max_providers: number
  max_instances: number
  max_monthly_messages: number
}

export interface Features {
  kanban_enabled: boolean
  internal_chat_enabled: boolean
  analytics_enabled: boolean
}

export type FeatureName = keyof Features

export interface Entitlements {
  limits: Limits
  features: Features
}

export interface Plan {
  id: string
  code: string
  name: string
  description: string | null
  /** Decimal string, e.g. "149.90". */
  price: string
  currency: string
  cycle: BillingCycle
  trial_days: number
  entitlements: Entitlements
  active: boolean
  position: number
  created_at: string
  updated_at: string
}

/** What POST and PUT /plans take. */
export interface PlanInput {
  code: string
  name: string
  description?: string
  price: string
  currency?: string
  cycle: BillingCycle
  trial_days?: number
  entitlements: Entitlements
  active?: boolean
  position?: number
}

/** Asaas's payment status: PENDING, RECEIVED, CONFIRMED, OVERDUE, REFUNDED, … (any string). */
export type PaymentStatus = string

export interface Payment {
  id: string
  asaas_id: string
  value: string
  status: PaymentStatus
  billing_type: BillingType
  /** YYYY-MM-DD. */
  due_date: string
  paid_at: string | null
  invoice_url: string | null
}

export interface Pix {
  /** The copy-and-paste code ("PIX copia e cola"). */
  payload: string
  /** A PNG of the QR code, base64. */
  encoded_image: string
  expiration_date: string | null
}

export interface Subscription {
  id: string
  status: BillingStatus
  plan: Plan
  pending_plan: Plan | null
  billing_type: BillingType
  current_period_end: string | null
  /** YYYY-MM-DD. */
  next_due_date: string | null
  trial_ends_at: string | null
  grace_until: string | null
  cancel_at_period_end: boolean
  created_at: string
}

/**
 * GET …/billing. Supervisors and admins get everything; agents only `status` and
 * `grace_until` (what the banners need).
 */
export interface BillingOverview {
  status: BillingStatus
  grace_until: string | null
  subscription?: Subscription | null
  plan?: Plan | null
  pending_plan?: Plan | null
  current_period_end?: string | null
  next_due_date?: string | null
  /** The latest five. */
  payments?: Payment[]
  entitlements?: Entitlements
}

export interface Customer {
  name: string
  cpf_cnpj: string
  email: string
  mobile_phone?: string
}

export interface SubscribeBody {
  plan_id: string
  billing_type: BillingType
  customer: Customer
}

export type PaymentWithPix = Payment & { pix: Pix | null }

export interface SubscribeResult {
  subscription: Subscription
  /** The first charge, when Asaas made one at once. */
  payment: PaymentWithPix | null
}

/** One line of a 409 `usage_exceeds_plan`. */
export interface ExceededUsage {
  resource: string
  limit: number
  current: number
}

export interface Usage {
  limits: Limits
  features: Features
  /** Live resources counted against the limits: agents, teams, inboxes, boards, … */
  usage: Record<string, number>
  messages_this_month?: number
  active_agents_this_month?: number
}

function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== false) search.set(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}

/** The plan catalogue: active plans for anyone; every plan and changes for super admins. */
export const plansApi = {
  list: (includeArchived = false) =>
    api.get<Plan[]>(`/plans${query({ include_archived: includeArchived })}`),
  create: (body: PlanInput) => api.post<Plan>('/plans', body),
  update: (planId: string, body: PlanInput) =>
    api.put<Plan>(`/plans/${encodeURIComponent(planId)}`, body),
  /** Archives the plan (it stays on the subscriptions that have it). */
  archive: (planId: string) => api.delete(`/plans/${encodeURIComponent(planId)}`),
}

/** The calls of one account. */
export function billingApi(accountId: string) {
  const account = `/accounts/${encodeURIComponent(accountId)}`
  const billing = `${account}/billing`
  return {
    overview: () => api.get<BillingOverview>(billing),
    subscribe: (body: SubscribeBody) => api.post<SubscribeResult>(`${billing}/subscription`, body),
    /** Upgrades now, or schedules a downgrade for the end of the period (`pending_plan`). */
    changePlan: (planId: string) => api.put<Subscription>(`${billing}/subscription`, { plan_id: planId }),
    cancel: (immediately = false) =>
      api.delete<Subscription>(`${billing}/subscription${query({ immediately })}`),
    payments: (cursor: string | null, limit = 20) =>
      api.get<Page<Payment>>(`${billing}/payments${query({ limit, cursor })}`),
    pix: (paymentId: string) =>
      api.get<Pix>(`${billing}/payments/${encodeURIComponent(paymentId)}/pix`),
    usage: () => api.get<Usage>(`${account}/usage`),
    features: () => api.get<Features>(`${account}/features`),
  }
}

export type BillingApi = ReturnType<typeof billingApi>
