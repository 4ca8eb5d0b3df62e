/**
 * What the whole app needs to know about the account's plan: its billing status (for the
 * banners), its feature flags (for the sidebar and the route guard) and its message usage.
 *
 * Read when a session starts (or changes account), every five minutes, and again at once
 * when any API call answers 402 `subscription_suspended` (the API client's `onProblem`);
 * that answer also raises a notice that links to Settings → Billing. A 403
 * `feature_disabled` re-reads the features, so the sidebar follows a plan that changed.
 *
 * These reads are best effort: a hub without billing (503 `billing_unavailable`), or one
 * that does not answer, shows no banner, and unknown features count as on (the hub still
 * refuses what the plan does not include).
 */
import { computed, effectScope, reactive, readonly, watch } from 'vue'
import { ApiError, onProblem, type ProblemEvent } from '../api/client'
import {
  billingApi,
  type BillingOverview,
  type BillingStatus,
  type FeatureName,
  type Features,
  type Usage,
} from '../api/billing'
import { useAuth, type Auth } from '../auth/store'
import { nowMs } from '../utils/clock'
import { bannersFor } from './banners'

/** How often the banners' data is read again. */
export const REFRESH_MS = 5 * 60_000
/** A burst of refused requests re-reads once. */
const REACT_MS = 5_000

export interface StatusNotice {
  kind: 'suspended'
  message: string
  /** Bumped for each new notice, so the same one shown twice restarts its timer. */
  id: number
}

export interface AccountStatusOptions {
  refreshMs?: number
  /** The calls used; by default the hub's (tests pass their own). */
  api?: (accountId: string) => Pick<ReturnType<typeof billingApi>, 'overview' | 'usage' | 'features'>
}

export function createAccountStatus(auth: Auth, options: AccountStatusOptions = {}) {
  const refreshMs = options.refreshMs ?? REFRESH_MS
  const apiFor = options.api ?? billingApi

  const state = reactive({
    /** The account these values belong to; null while signed out. */
    accountId: null as string | null,
    status: null as BillingStatus | null,
    graceUntil: null as string | null,
    /** The hub has no billing (503 `billing_unavailable`). */
    billingUnavailable: false,
    features: null as Features | null,
    usage: null as Usage | null,
    notice: null as StatusNotice | null,
  })

  let featuresFor: string | null = null
  let featuresLoading: Promise<void> | null = null
  let timer: ReturnType<typeof setInterval> | undefined
  let scope: ReturnType<typeof effectScope> | null = null
  let unsubscribe: (() => void) | null = null
  let lastReaction: Record<string, number> = {}
  let noticeId = 0

  const currentAccount = () => (auth.isSignedIn.value ? auth.state.accountId : null)

  function reset(accountId: string | null) {
    state.accountId = accountId
    state.status = null
    state.graceUntil = null
    state.billingUnavailable = false
    state.features = null
    state.usage = null
    state.notice = null
    featuresFor = null
    featuresLoading = null
  }

  /** Keeps an answer only if the session is still on the account it was asked for. */
  function stillOn(accountId: string) {
    return currentAccount() === accountId && state.accountId === accountId
  }

  async function loadFeatures(accountId: string) {
    try {
      const features = await apiFor(accountId).features()
      if (stillOn(accountId)) state.features = features
    } catch {
      // Unknown: every entry stays visible, and the hub refuses what the plan lacks.
    }
  }

  /**
   * Reads the features once per account (the route guard waits for it); later calls wait
   * for the same read.
   */
  function ensureFeatures(): Promise<void> {
    const accountId = currentAccount()
    if (!accountId) return Promise.resolve()
    if (state.accountId !== accountId) reset(accountId)
    if (featuresFor === accountId && featuresLoading) return featuresLoading
    featuresFor = accountId
    featuresLoading = loadFeatures(accountId)
    return featuresLoading
  }

  /** Takes a billing answer (also the billing page's, so both agree). */
  function applyBilling(overview: Pick<BillingOverview, 'status' | 'grace_until'>) {
    state.status = overview.status
    state.graceUntil = overview.grace_until ?? null
    state.billingUnavailable = false
  }

  async function loadBilling() {
    const accountId = currentAccount()
    if (!accountId) return
    try {
      const overview = await apiFor(accountId).overview()
      if (stillOn(accountId)) applyBilling(overview)
    } catch (error) {
      if (!stillOn(accountId)) return
      if (error instanceof ApiError && error.code === 'billing_unavailable') {
        state.billingUnavailable = true
        state.status = null
        state.graceUntil = null
      }
      // Otherwise keep what was known: a passing failure should not hide a warning.
    }
  }

  async function loadUsage() {
    const accountId = currentAccount()
    if (!accountId) return
    try {
      const usage = await apiFor(accountId).usage()
      if (stillOn(accountId)) state.usage = usage
    } catch {
      // No usage, no usage banner.
    }
  }

  /** Reads everything again. */
  async function refresh() {
    const accountId = currentAccount()
    if (!accountId) return
    if (state.accountId !== accountId) reset(accountId)
    featuresFor = accountId
    featuresLoading = loadFeatures(accountId)
    await Promise.all([featuresLoading, loadBilling(), loadUsage()])
  }

  /** At most once per REACT_MS for each reason. */
  function throttled(reason: string): boolean {
    const now = nowMs()
    if (now - (lastReaction[reason] ?? -Infinity) < REACT_MS) return true
    lastReaction[reason] = now
    return false
  }

  function onApiProblem({ problem, path }: ProblemEvent) {
    if (!currentAccount()) return
    if (problem.status === 402 || problem.code === 'subscription_suspended') {
      noticeId += 1
      state.notice = {
        kind: 'suspended',
        id: noticeId,
        message:
          'This change was not saved: the subscription is suspended and the account is read-only until it is paid.',
      }
      if (state.status !== 'suspended') state.status = 'suspended'
      if (!throttled('suspended')) void loadBilling()
    } else if (problem.code === 'feature_disabled' && !/\/(features|billing|usage)(\?|$)/.test(path)) {
      if (!throttled('features')) {
        featuresFor = currentAccount()
        featuresLoading = loadFeatures(featuresFor!)
      }
    }
  }

  /** Follows the session: reads on sign-in and account change, every `refreshMs`, on 402. */
  function start() {
    if (scope) return
    scope = effectScope(true)
    scope.run(() => {
      watch(
        currentAccount,
        (accountId) => {
          if (accountId !== state.accountId) reset(accountId)
          if (!accountId) return
          void ensureFeatures()
          void loadBilling()
          void loadUsage()
        },
        { immediate: true },
      )
    })
    unsubscribe = onProblem(onApiProblem)
    timer = setInterval(() => void refresh(), refreshMs)
  }

  function stop() {
    scope?.stop()
    scope = null
    unsubscribe?.()
    unsubscribe = null
    clearInterval(timer)
    timer = undefined
    lastReaction = {}
  }

  /** Whether the plan includes `feature`; true while unknown. */
  function hasFeature(feature: FeatureName): boolean {
    return state.features?.[feature] !== false
  }

  const banners = computed(() =>
    bannersFor({
      status: state.status,
      graceUntil: state.graceUntil,
      usage: state.usage,
      canSeeBilling: auth.canSupervise.value,
    }),
  )

  return {
    state: readonly(state),
    banners,
    hasFeature,
    ensureFeatures,
    refresh,
    loadBilling,
    applyBilling,
    dismissNotice() {
      state.notice = null
    },
    start,
    stop,
  }
}

export type AccountStatus = ReturnType<typeof createAccountStatus>

const byAuth = new WeakMap<Auth, AccountStatus>()

/** The one account status of a session store (the router and the shell share it). */
export function accountStatusFor(auth: Auth): AccountStatus {
  let status = byAuth.get(auth)
  if (!status) {
    status = createAccountStatus(auth)
    byAuth.set(auth, status)
  }
  return status
}

/** In components: the account status of the app's (or the test's) session. */
export function useAccountStatus(): AccountStatus {
  return accountStatusFor(useAuth())
}
