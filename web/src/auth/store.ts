/**
 * The signed-in session. Tokens live in this module's memory only: never in
 * localStorage, sessionStorage or a cookie written by script. A reload therefore starts
 * signed out, unless the hub's HttpOnly refresh cookie can restore the session (tried once
 * at start).
 *
 * Access tokens are renewed shortly before they expire and once on a 401 `token_expired`;
 * concurrent requests share one refresh. When renewal fails for good, or a request is
 * refused with any other 401, the state is cleared and `onSignedOut` listeners run (the
 * router sends the person to /sign-in).
 *
 * Tabs of the same browser pass renewed tokens to each other over a BroadcastChannel (in
 * memory, same origin), because a refresh token works once: a tab that kept an old one
 * would end the session for everyone on its next refresh.
 */
import { computed, getCurrentInstance, inject, reactive, readonly, type InjectionKey } from 'vue'
import { api, ApiError, setAuthHandler, type AuthHandler, type Problem } from '../api/client'
import type { Me, Membership, SignInResponse, TokenPair, User } from '../api/types'
import { nowMs } from '../utils/clock'
import { describeDevice } from './device'

export type AuthStatus = 'unknown' | 'signed-in' | 'signed-out'

/** Why the session ended: a problem code, or `signed_out` when the person chose to. */
export type EndReason = string

/** What the BroadcastChannel API offers that this module uses. */
export interface ChannelLike {
  postMessage(message: unknown): void
  onmessage: ((event: MessageEvent) => void) | null
  close(): void
}

/** What the Web Locks API offers that this module uses. */
export interface LocksLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>
}

export interface AuthOptions {
  now?: () => number
  /** The label sent as `device` at sign-in; by default derived from the user agent. */
  device?: string | null
  /** Tab-to-tab channel; `null` turns sharing off. */
  channel?: ChannelLike | null
  /** Cross-tab lock around refreshes; `null` turns it off. */
  locks?: LocksLike | null
  /** 0 ≤ x < 1, for spreading scheduled refreshes of several tabs apart. */
  random?: () => number
}

type ChannelMessage =
  | { kind: 'tokens'; pair: TokenPair }
  | { kind: 'ended'; session_id: string; reason: EndReason }

/** Refresh on demand when less than this is left of the access token. */
const LAZY_MARGIN_MS = 15_000
/** Scheduled refresh: this long before expiry, plus up to SPREAD_MS more. */
const SCHEDULE_MARGIN_MS = 60_000
const SPREAD_MS = 30_000
/** After a refresh failed for a passing reason (network, 5xx, 429), try again after this. */
const RETRY_MS = 15_000
/** How long a tab keeps the refresh lock after sharing new tokens, so the others get them. */
const SETTLE_MS = 50
const CHANNEL_NAME = 'whatpro-hub-auth'
const LOCK_NAME = 'whatpro-hub-refresh'

function defaultChannel(): ChannelLike | null {
  return typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL_NAME)
}

function defaultLocks(): LocksLike | null {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  return locks ? (locks as unknown as LocksLike) : null
}

/** A failure that says nothing about the session: the request may well work later. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true
  return error.status === 0 || error.status === 429 || error.status >= 500
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

export function createAuth(options: AuthOptions = {}) {
  const now = options.now ?? nowMs
  const random = options.random ?? Math.random
  const channel = options.channel === undefined ? defaultChannel() : options.channel
  const locks = options.locks === undefined ? defaultLocks() : options.locks

  const state = reactive({
    status: 'unknown' as AuthStatus,
    user: null as User | null,
    accountId: null as string | null,
    accountName: '',
    memberships: [] as Membership[],
    sessionId: null as string | null,
    /** Why the last session ended (for the sign-in page), null while signed in. */
    endedReason: null as EndReason | null,
  })

  // The secrets: plain variables, not reactive, never written anywhere.
  let accessToken: string | null = null
  let refreshToken: string | null = null
  let expiresAt = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let inflight: Promise<boolean> | null = null
  let started: Promise<void> | null = null
  const listeners = new Set<(reason: EndReason) => void>()

  const membership = computed(
    () => state.memberships.find((m) => m.account_id === state.accountId) ?? null,
  )
  const role = computed(() => membership.value?.role ?? null)
  const isSignedIn = computed(() => state.status === 'signed-in')
  const isSuperAdmin = computed(() => isSignedIn.value && state.user?.is_super_admin === true)
  const isAdmin = computed(() => isSuperAdmin.value || (isSignedIn.value && role.value === 'admin'))
  /** Supervisors, admins and super admins: who may see the account's billing. */
  const canSupervise = computed(
    () => isAdmin.value || (isSignedIn.value && role.value === 'supervisor'),
  )

  function schedule(delayMs: number) {
    clearTimeout(timer)
    timer = setTimeout(() => void refresh(), Math.max(0, delayMs))
  }

  function applyTokens(pair: TokenPair) {
    accessToken = pair.access_token
    refreshToken = pair.refresh_token
    state.sessionId = pair.session_id
    const lifetimeMs = Math.max(0, pair.expires_in * 1000)
    expiresAt = now() + lifetimeMs
    const margin = Math.min(SCHEDULE_MARGIN_MS + random() * SPREAD_MS, lifetimeMs / 2)
    schedule(lifetimeMs - margin)
  }

  function clearTokens() {
    clearTimeout(timer)
    timer = undefined
    accessToken = null
    refreshToken = null
    expiresAt = 0
  }

  function resetProfile() {
    state.user = null
    state.accountId = null
    state.accountName = ''
    state.memberships = []
    state.sessionId = null
  }

  function post(message: ChannelMessage) {
    try {
      channel?.postMessage(message)
    } catch {
      // A closed channel only loses the courtesy to other tabs.
    }
  }

  /** Ends the session here (idempotent), tells other tabs, and runs the listeners once. */
  function end(reason: EndReason, { broadcast = true } = {}) {
    const sessionId = state.sessionId
    const hadSession = accessToken !== null || state.status === 'signed-in'
    clearTokens()
    resetProfile()
    state.status = 'signed-out'
    if (!hadSession) return
    state.endedReason = reason
    if (broadcast && sessionId) post({ kind: 'ended', session_id: sessionId, reason })
    for (const listener of [...listeners]) listener(reason)
  }

  if (channel) {
    channel.onmessage = (event: MessageEvent) => {
      const message = event.data as ChannelMessage | null
      if (!message || !state.sessionId) return
      if (message.kind === 'tokens' && message.pair?.session_id === state.sessionId) {
        applyTokens(message.pair)
      } else if (message.kind === 'ended' && message.session_id === state.sessionId) {
        end(message.reason, { broadcast: false })
      }
    }
  }

  async function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
    return locks ? locks.request(LOCK_NAME, work) : work()
  }

  /** Shares new tokens with other tabs and, holding the lock, gives them time to arrive. */
  async function share(pair: TokenPair) {
    if (!channel) return
    post({ kind: 'tokens', pair })
    if (locks) await sleep(SETTLE_MS)
  }

  async function loadMe() {
    const me = await api.get<Me>('/auth/me')
    state.user = me.user
    state.memberships = me.memberships
    if (me.account_id) state.accountId = me.account_id
    const current = me.memberships.find((m) => m.account_id === state.accountId)
    if (current) state.accountName = current.account_name
  }

  async function doRefresh(): Promise<boolean> {
    const presented = refreshToken
    if (!presented) return false
    return withRefreshLock(async () => {
      // Another tab refreshed while this one waited for the lock, and shared the result.
      if (refreshToken !== presented) return refreshToken !== null
      try {
        const pair = await api.post<TokenPair>(
          '/auth/refresh',
          { refresh_token: presented },
          { auth: false },
        )
        if (refreshToken !== presented) return refreshToken !== null
        applyTokens(pair)
        await share(pair)
        return true
      } catch (error) {
        if (refreshToken !== presented) return refreshToken !== null
        if (isTransient(error)) {
          schedule(RETRY_MS)
          return false
        }
        end(error instanceof ApiError ? error.code : 'session_expired')
        return false
      }
    })
  }

  /** Renews the access token; concurrent calls share one request. */
  function refresh(): Promise<boolean> {
    inflight ??= doRefresh().finally(() => {
      inflight = null
    })
    return inflight
  }

  const handler: AuthHandler = {
    async accessToken() {
      if (inflight) await inflight
      if (accessToken && expiresAt - now() < LAZY_MARGIN_MS) await refresh()
      return accessToken
    },
    async refreshAfterExpiry(used) {
      // A newer token arrived since that request left: just retry with it.
      if (accessToken && accessToken !== used) return true
      return refresh()
    },
    rejected(problem: Problem, used) {
      if (used === accessToken) end(problem.code)
    },
  }

  /** Signs in with a Chatwoot user's access token. Throws the hub's ApiError on refusal. */
  async function signIn(chatwootToken: string) {
    const device =
      options.device === undefined
        ? describeDevice(typeof navigator === 'undefined' ? null : navigator.userAgent)
        : options.device
    const response = await api.post<SignInResponse>(
      '/auth/sso',
      { chatwoot_api_token: chatwootToken.trim(), device: device ?? undefined },
      { auth: false },
    )
    await begin(response)
  }

  /**
   * Signs in with an instance token the dashboard script got for the Chatwoot user whose
   * page frames this one (docs/embedding.md). The answer is the same as SSO's; the refresh
   * token stays in memory and later refreshes send it in the body, so the session lives on
   * where the browser keeps no third-party cookie.
   */
  async function signInWithInstanceToken(instanceToken: string) {
    const response = await api.post<SignInResponse>(
      '/auth/exchange',
      { instance_token: instanceToken },
      { auth: false },
    )
    await begin(response)
  }

  /** Takes on the session a sign-in answered with. */
  async function begin(response: SignInResponse) {
    if (state.sessionId && state.sessionId !== response.session_id) {
      // Another session was open in this tab; it stays valid on the hub until it idles out.
      clearTokens()
    }
    applyTokens(response)
    state.user = response.user
    state.accountId = response.account.id
    state.accountName = response.account.name
    state.memberships = []
    try {
      await loadMe()
    } catch (error) {
      // Half signed in is no state to be in; the form shows the error.
      clearTokens()
      resetProfile()
      state.status = 'signed-out'
      throw error
    }
    state.status = 'signed-in'
    state.endedReason = null
  }

  /** Tries the refresh cookie once; resolves whether a session was restored. */
  async function restore(): Promise<boolean> {
    try {
      const pair = await withRefreshLock(async () => {
        const pair = await api.post<TokenPair>('/auth/refresh', undefined, { auth: false })
        applyTokens(pair)
        // Other tabs on this session held the token the cookie just used up.
        await share(pair)
        return pair
      })
      await loadMe()
      if (state.sessionId !== pair.session_id) return false
      state.status = 'signed-in'
      return true
    } catch {
      if (state.status !== 'signed-in') {
        clearTokens()
        resetProfile()
        state.status = 'signed-out'
      }
      return false
    }
  }

  /** Ends the session on the hub (best effort) and here. */
  async function signOut() {
    if (accessToken) {
      try {
        await api.post('/auth/logout')
      } catch {
        // The hub refused or was unreachable; the tokens are dropped here regardless.
      }
    }
    end('signed_out')
  }

  return {
    state: readonly(state),
    role,
    isSignedIn,
    isAdmin,
    isSuperAdmin,
    canSupervise,
    handler,
    /** Runs the start-up restore once; later calls return the same promise. */
    start(): Promise<void> {
      started ??= restore().then(() => undefined)
      return started
    },
    /**
     * Instead of `start`, for framed pages: the session comes from the parent page, and the
     * refresh cookie is not tried (a third-party frame often cannot see it).
     */
    startWithoutRestore(): Promise<void> {
      if (!started) {
        if (state.status === 'unknown') state.status = 'signed-out'
        started = Promise.resolve()
      }
      return started
    },
    signIn,
    signInWithInstanceToken,
    signOut,
    refresh,
    /** Reloads the profile and memberships. */
    reloadProfile: loadMe,
    /** Calls `listener` whenever a session ends here; returns an unsubscribe function. */
    onSignedOut(listener: (reason: EndReason) => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    /** Stops timers and the channel (tests). */
    dispose() {
      clearTimeout(timer)
      if (channel) {
        channel.onmessage = null
        channel.close()
      }
    },
  }
}

export type Auth = ReturnType<typeof createAuth>

export const authKey: InjectionKey<Auth> = Symbol('auth')

let shared: Auth | undefined

/** The app-wide auth state, installed as the API client's auth handler on first use. */
export function appAuth(): Auth {
  if (!shared) {
    shared = createAuth()
    setAuthHandler(shared.handler)
  }
  return shared
}

/** In components: the auth the app provided (tests provide their own), else the app's. */
export function useAuth(): Auth {
  const provided = getCurrentInstance() ? inject(authKey, null) : null
  return provided ?? appAuth()
}
