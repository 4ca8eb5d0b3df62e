/**
 * The sidebar's "Team chat" badge: the caller's unread totals (`GET …/chat/unread`), read
 * while the plan includes the chat, again every minute while the tab is visible, and at
 * once when the chat page reads or receives something (`refresh()`).
 */
import { reactive, readonly } from 'vue'
import { chatApi, type UnreadTotals } from '../api/chat'
import { useAuth, type Auth } from '../auth/store'

export const BADGE_POLL_MS = 60_000

export interface UnreadBadgeOptions {
  api?: (accountId: string) => { unread(): Promise<UnreadTotals> }
  pollMs?: number
}

export function createUnreadBadge(auth: Auth, options: UnreadBadgeOptions = {}) {
  const apiFor = options.api ?? chatApi
  const pollMs = options.pollMs ?? BADGE_POLL_MS
  const state = reactive({ accountId: null as string | null, count: 0, mentions: 0 })
  let timer: ReturnType<typeof setInterval> | undefined
  let loading: Promise<void> | null = null
  let again = false
  let users = 0

  async function load() {
    const accountId = auth.isSignedIn.value ? auth.state.accountId : null
    if (!accountId) return
    try {
      const totals = await apiFor(accountId).unread()
      if (auth.state.accountId !== accountId) return
      state.accountId = accountId
      state.count = Number.isSafeInteger(totals.unread_count ?? totals.count) ? (totals.unread_count ?? totals.count) : 0
      state.mentions = Number.isSafeInteger(totals.unread_mentions) ? totals.unread_mentions : 0
    } catch {
      // Keep the last count: a passing failure should not hide or invent unread messages.
    }
  }

  /** Reads the totals now (one read at a time; a call during one reads again after it). */
  function refresh(): Promise<void> {
    if (loading) {
      again = true
      return loading
    }
    loading = load().finally(() => {
      loading = null
      if (again) {
        again = false
        void refresh()
      }
    })
    return loading
  }

  function onVisible() {
    if (!document.hidden) void refresh()
  }

  return {
    state: readonly(state),
    refresh,
    /** The count for the current account (0 before the first read or for another account). */
    count: () => (state.accountId === auth.state.accountId ? state.count : 0),
    mentions: () => (state.accountId === auth.state.accountId ? state.mentions : 0),
    /** Starts following (counted: the last `stop()` stops). */
    start() {
      users += 1
      if (users > 1) return
      void refresh()
      timer = setInterval(() => {
        if (!document.hidden) void refresh()
      }, pollMs)
      document.addEventListener('visibilitychange', onVisible)
    },
    stop() {
      users = Math.max(0, users - 1)
      if (users > 0) return
      clearInterval(timer)
      timer = undefined
      document.removeEventListener('visibilitychange', onVisible)
    },
  }
}

export type UnreadBadge = ReturnType<typeof createUnreadBadge>

const byAuth = new WeakMap<Auth, UnreadBadge>()

export function unreadBadgeFor(auth: Auth): UnreadBadge {
  let badge = byAuth.get(auth)
  if (!badge) {
    badge = createUnreadBadge(auth)
    byAuth.set(auth, badge)
  }
  return badge
}

export function useUnreadBadge(): UnreadBadge {
  return unreadBadgeFor(useAuth())
}
