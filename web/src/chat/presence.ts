/**
 * Who in the account has the chat open (docs/chat.md, "Presence"): a map kept from the
 * socket's `presence` frames (or `GET …/chat/presence` without the socket), and the page's
 * own report: away once it has been hidden for a minute, online as soon as it is shown.
 */

export type PresenceStatus = 'online' | 'away'

/** Person id → status; anyone absent is offline. */
export type PresenceMap = Record<string, PresenceStatus>

/** After this long hidden, the page tells the hub it is away. */
export const AWAY_AFTER_MS = 60_000

const isStatus = (value: unknown): value is PresenceStatus => value === 'online' || value === 'away'

function setStatus(map: PresenceMap, userId: unknown, status: unknown) {
  if (typeof userId !== 'string') return
  if (isStatus(status)) map[userId] = status
  else if (status === 'offline') delete map[userId]
}

/**
 * Applies a `presence` frame's data to `map`, in place: a snapshot (`{online, away}`)
 * replaces it, a change (`{user_id, status}`) or several (`{changes}`) update it.
 */
export function applyPresence(map: PresenceMap, data: unknown) {
  if (typeof data !== 'object' || data === null) return
  const frame = data as Record<string, unknown>
  if (Array.isArray(frame.online)) {
    for (const id of Object.keys(map)) delete map[id]
    for (const status of ['online', 'away'] as const) {
      const ids = frame[status]
      if (Array.isArray(ids)) for (const id of ids) setStatus(map, id, status)
    }
    return
  }
  const changes = Array.isArray(frame.changes) ? frame.changes : [frame]
  for (const change of changes) {
    if (typeof change === 'object' && change !== null) {
      const { user_id: userId, status } = change as Record<string, unknown>
      setStatus(map, userId, status)
    }
  }
}

export interface AwayReporterOptions {
  /** Whether the page is hidden now. */
  hidden(): boolean
  /** Sends the page's status to the hub; false if it could not (no live socket). */
  send(status: PresenceStatus): boolean
  awayAfterMs?: number
}

/**
 * Tells the hub when the page has been hidden for a while, and when it is shown again. Call
 * `update()` on every visibility change and `reconnected()` when a new socket is live (it
 * starts out online).
 */
export function createAwayReporter(options: AwayReporterOptions) {
  const awayAfter = options.awayAfterMs ?? AWAY_AFTER_MS
  let timer: ReturnType<typeof setTimeout> | null = null
  let away = false

  function goAway() {
    timer = null
    if (options.hidden()) away = options.send('away')
  }

  function update() {
    if (options.hidden()) {
      if (!away && !timer) timer = setTimeout(goAway, awayAfter)
      return
    }
    if (timer) clearTimeout(timer)
    timer = null
    if (away) options.send('online')
    away = false
  }

  function reconnected() {
    away = false
    // Hidden long enough already (the timer ran out while the socket was down): say so now.
    if (options.hidden() && !timer) goAway()
  }

  function stop() {
    if (timer) clearTimeout(timer)
    timer = null
  }

  return { update, reconnected, stop }
}
