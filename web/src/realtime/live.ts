/**
 * Follows the account's realtime stream over server-sent events: board changes
 * (`event: board`, for the Kanban pages) and news about the whole account (`event: account`,
 * e.g. a WhatsApp number's or provider server's status). A stream opens with a
 * one-use ticket (EventSource cannot send the access token, and tokens do not belong in
 * URLs), so every (re)connection asks for a fresh ticket; the hub then says `ready`, and
 * the page reloads what it shows, which is how a reconnecting client catches up.
 */

/** What changed on a board (`event: board`). */
export interface BoardChange {
  account_id: string
  board_id: string
  revision: number
  /** The cards to read again (404: gone from the board); null: reload every card. */
  cards: string[] | null
  /** The board or its stages changed: reload the board. */
  structure: boolean
}

/**
 * Something about the whole account (`event: account`): `kind` says what, e.g.
 * `instance.status_changed` (`data: {instance_id, status}`), `provider.status_changed`
 * (`data: {provider_id, status}`), `billing.status_changed`.
 */
export interface AccountNews {
  account_id: string
  kind: string
  data: Record<string, unknown>
}

export interface LiveHandlers {
  /** Subscribed: reload now, nothing from here on is missed. */
  ready(): void
  /** A board changed (`event: board`). */
  change?(change: BoardChange): void
  /** News about the account (`event: account`). */
  account?(news: AccountNews): void
  /** Changes may have been missed: reload. */
  resync(): void
  /** Whether the stream is up, for a discreet indicator. */
  status?(connected: boolean): void
}

export interface LiveOptions {
  /** Asks the hub for a ticket (`POST /accounts/{id}/realtime/tickets`). */
  ticket(): Promise<string>
  /** The stream's URL for a ticket. */
  url(ticket: string): string
  handlers: LiveHandlers
  /** For tests. */
  EventSource?: typeof EventSource
  /** Milliseconds before reconnection attempt `attempt` (1-based). */
  delay?(attempt: number): number
}

/** 1 s, 2 s, 4 s… up to 30 s, with jitter so a restarted hub is not hit all at once. */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1))
  return Math.round(base * (0.75 + random() * 0.5))
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    return null
  }
}

function isBoardChange(value: unknown): value is BoardChange {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.board_id === 'string' &&
    typeof v.revision === 'number' &&
    typeof v.structure === 'boolean' &&
    (v.cards === null || (Array.isArray(v.cards) && v.cards.every((c) => typeof c === 'string')))
  )
}

function isAccountNews(value: unknown): value is AccountNews {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.account_id === 'string' &&
    typeof v.kind === 'string' &&
    typeof v.data === 'object' &&
    v.data !== null &&
    !Array.isArray(v.data)
  )
}

/** Starts following; `close()` stops for good. */
export function followStream(options: LiveOptions): { close(): void } {
  const Source = options.EventSource ?? globalThis.EventSource
  if (!Source) return { close() {} } // no EventSource (old or test environments): reload by hand
  const delay = options.delay ?? reconnectDelay
  const { handlers } = options
  let source: EventSource | null = null
  let timer: ReturnType<typeof setTimeout> | null = null
  let attempt = 0
  let closed = false

  function retry() {
    source?.close()
    source = null
    handlers.status?.(false)
    if (closed) return
    attempt += 1
    timer = setTimeout(connect, delay(attempt))
  }

  async function connect() {
    timer = null
    let ticket: string
    try {
      ticket = await options.ticket()
    } catch {
      retry()
      return
    }
    if (closed) return
    const opened = new Source(options.url(ticket))
    source = opened
    opened.addEventListener('ready', () => {
      attempt = 0
      handlers.status?.(true)
      handlers.ready()
    })
    opened.addEventListener('board', (event) => {
      const change = parse((event as MessageEvent<string>).data)
      if (isBoardChange(change)) handlers.change?.(change)
    })
    opened.addEventListener('account', (event) => {
      const news = parse((event as MessageEvent<string>).data)
      if (isAccountNews(news)) handlers.account?.(news)
    })
    opened.addEventListener('resync', () => handlers.resync())
    // The session ended or the hub is going away: a new ticket tells which.
    opened.addEventListener('end', () => retry())
    // EventSource would retry with the same (spent) ticket; start over with a new one.
    opened.addEventListener('error', () => {
      if (source === opened) retry()
    })
  }

  void connect()
  return {
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      source?.close()
      source = null
    },
  }
}

/** Follows the account of `api` (a `realtimeApi`, or a `kanbanApi`), at the hub's API base. */
export function followAccount(
  api: { realtimeTicket(): Promise<{ ticket: string }> },
  handlers: LiveHandlers,
  base: string,
): { close(): void } {
  return followStream({
    ticket: async () => (await api.realtimeTicket()).ticket,
    url: (ticket) => `${base}/realtime/events?${new URLSearchParams({ ticket })}`,
    handlers,
  })
}
