/**
 * The framed UI's side of docs/embedding.md: talking to the Chatwoot page that frames the
 * hub. Two parents are possible:
 * - Chatwoot's page running the hub's dashboard script, which answers `ready` and
 *   `token-request` with an instance token (exchanged for a session here) and sends theme
 *   changes;
 * - Chatwoot's Dashboard App frame, which answers the string
 *   `chatwoot-dashboard-app:fetch-info` with a JSON string carrying the conversation.
 *
 * Nothing is ever posted to '*': each message goes to the allowed Chatwoot origins the hub
 * wrote into the page, one postMessage per origin, and the browser drops those that are not
 * the parent's. A message is accepted only from `window.parent`, from an allowed origin,
 * and with exactly the expected shape.
 */
import { reactive, readonly, shallowRef, type InjectionKey } from 'vue'

export const HUB_SOURCE = 'whatpro-hub'
export const LOADER_SOURCE = 'whatpro-hub-loader'
export const FETCH_INFO = 'chatwoot-dashboard-app:fetch-info'
export const ORIGINS_META = 'whatpro-chatwoot-origins'
/** How long to wait for Chatwoot's token before explaining that none is coming. */
export const TOKEN_WAIT_MS = 10_000
/** Exchanges that may fail in a row before giving up (each asks for a fresh token). */
const MAX_FAILURES = 3
/** Longer than any instance token the hub mints; stops absurd payloads early. */
const MAX_TOKEN_LENGTH = 512
/** Chatwoot's context holds the conversation's loaded messages; more than this is not one. */
const MAX_CONTEXT_LENGTH = 2_000_000

export type EmbedTheme = 'light' | 'dark'

export type LoaderMessage =
  | { type: 'token'; instance_token: string; theme: EmbedTheme }
  | { type: 'theme'; theme: EmbedTheme }

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value
  } catch {
    return false
  }
}

/** The Chatwoot origins the hub allows to frame it, from `<meta name="whatpro-chatwoot-origins">`. */
export function readAllowedOrigins(doc: Document = document): string[] {
  const meta = doc.querySelector<HTMLMetaElement>(`meta[name="${ORIGINS_META}"]`)
  const listed = (meta?.content ?? '').split(/\s+/).filter(isOrigin)
  return [...new Set(listed)]
}

export function isFramed(win: Window = window): boolean {
  return win.parent !== win
}

/**
 * Where to post: every allowed origin, unless the browser says which one the parent is
 * (Chromium and Safari's `location.ancestorOrigins`); then only that one, which spares the
 * console an error per mismatched origin.
 */
export function targetOrigins(win: Window, origins: readonly string[]): string[] {
  const parent = win.location.ancestorOrigins?.[0]
  return parent && origins.includes(parent) ? [parent] : [...origins]
}

function hasExactKeys(value: Json, keys: string[]): boolean {
  const actual = Object.keys(value).sort()
  const expected = [...keys].sort()
  return actual.length === expected.length && actual.every((key, i) => key === expected[i])
}

/** A message of the dashboard script, or null when it is not exactly one. */
export function parseLoaderMessage(data: unknown): LoaderMessage | null {
  if (!isObject(data) || data.source !== LOADER_SOURCE || data.version !== 1) return null
  const theme = data.theme
  if (theme !== 'light' && theme !== 'dark') return null
  if (data.type === 'theme' && hasExactKeys(data, ['source', 'type', 'version', 'theme'])) {
    return { type: 'theme', theme }
  }
  const token = data.instance_token
  if (
    data.type === 'token' &&
    hasExactKeys(data, ['source', 'type', 'version', 'instance_token', 'theme']) &&
    typeof token === 'string' &&
    token.length <= MAX_TOKEN_LENGTH &&
    /^wphi_[\x21-\x7e]+$/.test(token)
  ) {
    return { type: 'token', instance_token: token, theme }
  }
  return null
}

// ---- Chatwoot's Dashboard App context ----

export interface ContextPerson {
  name: string
  email: string | null
  phone_number: string | null
}

export interface ContextConversation {
  /** The display id, as in Chatwoot's URLs. */
  id: number
  status: string | null
  labels: string[]
  inbox_id: number | null
  sender: ContextPerson | null
  assignee: { name: string } | null
}

export interface ContextContact extends ContextPerson {
  /** Chatwoot's contact id. */
  id: number | null
  thumbnail: string | null
}

export interface AppContext {
  conversation: ContextConversation | null
  contact: ContextContact | null
  currentAgent: { id: number | null; name: string; email: string | null } | null
}

const str = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : null
const int = (value: unknown): number | null => (Number.isSafeInteger(value) ? Number(value) : null)

function person(value: unknown): ContextPerson | null {
  if (!isObject(value)) return null
  const name = str(value.name)
  const email = str(value.email)
  const phone = str(value.phone_number)
  if (!name && !email && !phone) return null
  return { name: name ?? email ?? phone ?? '', email, phone_number: phone }
}

function conversation(value: unknown): ContextConversation | null {
  if (!isObject(value)) return null
  const id = int(value.id)
  if (id === null) return null
  const meta = isObject(value.meta) ? value.meta : {}
  const assignee = isObject(meta.assignee) ? str(meta.assignee.name) : null
  return {
    id,
    status: str(value.status),
    labels: Array.isArray(value.labels)
      ? value.labels.filter((l): l is string => typeof l === 'string')
      : [],
    inbox_id: int(value.inbox_id),
    sender: person(meta.sender),
    assignee: assignee ? { name: assignee } : null,
  }
}

/**
 * Chatwoot's `appContext` message (a JSON string), reduced to the fields the hub shows;
 * null for anything else.
 */
export function parseAppContext(data: unknown): AppContext | null {
  if (typeof data !== 'string' || data.length > MAX_CONTEXT_LENGTH) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(data)
  } catch {
    return null
  }
  if (!isObject(parsed) || parsed.event !== 'appContext' || !isObject(parsed.data)) return null
  const { contact, currentAgent } = parsed.data
  const contactPerson = person(contact)
  const agent = isObject(currentAgent) ? person(currentAgent) : null
  return {
    conversation: conversation(parsed.data.conversation),
    contact:
      contactPerson && isObject(contact)
        ? { ...contactPerson, id: int(contact.id), thumbnail: str(contact.thumbnail) }
        : null,
    currentAgent:
      agent && isObject(currentAgent)
        ? { id: int(currentAgent.id), name: agent.name, email: agent.email }
        : null,
  }
}

// ---- The bridge ----

export type BridgePhase = 'connecting' | 'connected' | 'unavailable'
/** Why no session came: not in a frame (or no allowed origin), no answer, or refused. */
export type UnavailableReason = 'not-framed' | 'no-answer' | 'refused'

export interface BridgeOptions {
  /** Exchanges an instance token for a session (the auth store's signInWithInstanceToken). */
  exchange: (instanceToken: string) => Promise<void>
  /** Applies the parent's theme. */
  onTheme: (theme: EmbedTheme) => void
  win?: Window
  origins?: readonly string[]
  tokenWaitMs?: number
}

/** Seconds to wait before trying a refused exchange again, if it was only rate limited. */
function retryAfter(error: unknown): number | null {
  const { status, retryAfter } = (error ?? {}) as { status?: unknown; retryAfter?: unknown }
  if (status !== 429) return null
  return typeof retryAfter === 'number' ? Math.min(Math.max(retryAfter, 1), 60) : 5
}

export function createBridge(options: BridgeOptions) {
  const win = options.win ?? window
  const origins = options.origins ?? readAllowedOrigins(win.document)
  const tokenWaitMs = options.tokenWaitMs ?? TOKEN_WAIT_MS
  const framed = isFramed(win)

  const status = reactive({
    phase: 'connecting' as BridgePhase,
    reason: null as UnavailableReason | null,
  })
  const appContext = shallowRef<AppContext | null>(null)
  let started = false
  /** A token was asked for and none accepted since: only then is one exchanged. */
  let waiting = false
  let failures = 0
  let timer: ReturnType<typeof setTimeout> | undefined

  function unavailable(reason: UnavailableReason) {
    status.phase = 'unavailable'
    status.reason = reason
  }

  function post(message: unknown) {
    if (!framed) return
    for (const origin of targetOrigins(win, origins)) win.parent.postMessage(message, origin)
  }

  function ask(type: 'ready' | 'token-request') {
    if (!framed || origins.length === 0) return unavailable('not-framed')
    waiting = true
    status.phase = 'connecting'
    status.reason = null
    post({ source: HUB_SOURCE, type, version: 1 })
    clearTimeout(timer)
    // A token that comes later is still taken (`waiting` stays set).
    timer = setTimeout(() => {
      if (waiting) unavailable('no-answer')
    }, tokenWaitMs)
  }

  async function receiveToken(token: string) {
    waiting = false
    clearTimeout(timer)
    try {
      await options.exchange(token)
      failures = 0
      status.phase = 'connected'
      status.reason = null
    } catch (error) {
      // Rate limited: the token was not used, and stays good for minutes; try it again.
      const wait = retryAfter(error)
      if (wait !== null) {
        timer = setTimeout(() => void receiveToken(token), wait * 1000)
        return
      }
      // Used, expired or refused: a fresh one may work (each token is exchanged once).
      failures += 1
      if (failures < MAX_FAILURES) ask('token-request')
      else unavailable('refused')
    }
  }

  function onMessage(event: MessageEvent) {
    if (event.source !== win.parent || !origins.includes(event.origin)) return
    if (typeof event.data === 'string') {
      const context = parseAppContext(event.data)
      if (context) appContext.value = context
      return
    }
    const message = parseLoaderMessage(event.data)
    if (!message) return
    options.onTheme(message.theme)
    if (message.type === 'token' && waiting) void receiveToken(message.instance_token)
  }

  function requestAppContext() {
    post(FETCH_INFO)
  }

  function onVisibility() {
    // Chatwoot answers fetch-info only while the app's tab shows; ask again when it does.
    if (win.document.visibilityState === 'visible') requestAppContext()
  }

  return {
    status: readonly(status),
    /** The latest conversation context from a Chatwoot Dashboard App parent. */
    appContext,
    /** Listens to the parent and says `ready` (once; later calls do nothing). */
    start() {
      if (started) return
      started = true
      if (!framed) return unavailable('not-framed')
      win.addEventListener('message', onMessage)
      win.document.addEventListener('visibilitychange', onVisibility)
      ask('ready')
    },
    /** The session ended and could not be refreshed: ask the parent for a new token. */
    sessionEnded() {
      if (started && framed) ask('token-request')
    },
    requestAppContext,
    /** Asks the dashboard script to show a conversation in Chatwoot. */
    openConversation(conversationId: number) {
      if (Number.isSafeInteger(conversationId) && conversationId > 0) {
        post({
          source: HUB_SOURCE,
          type: 'open-conversation',
          version: 1,
          conversation_id: conversationId,
        })
      }
    },
    stop() {
      clearTimeout(timer)
      win.removeEventListener('message', onMessage)
      win.document.removeEventListener('visibilitychange', onVisibility)
    },
  }
}

export type Bridge = ReturnType<typeof createBridge>

export const bridgeKey: InjectionKey<Bridge> = Symbol('bridge')
