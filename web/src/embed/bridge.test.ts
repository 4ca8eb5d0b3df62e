import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  createBridge,
  FETCH_INFO,
  parseAppContext,
  parseLoaderMessage,
  readAllowedOrigins,
  targetOrigins,
  type BridgeOptions,
} from './bridge'

const CHATWOOT = 'https://chat.example.com'
const OTHER_CHATWOOT = 'https://chat2.example.com'
const TOKEN = 'wphi_good'

type Posted = [unknown, string]

/** A window whose parent records what is posted to it. */
function fakeWindow({ framed = true, ancestor }: { framed?: boolean; ancestor?: string } = {}) {
  const posted: Posted[] = []
  const parent = { postMessage: (message: unknown, origin: string) => posted.push([message, origin]) }
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' })
  const win = Object.assign(new EventTarget(), {
    document: doc,
    location: { ancestorOrigins: ancestor ? [ancestor] : undefined },
    parent: null as unknown,
  })
  win.parent = framed ? parent : win
  allPosted.push(posted)
  return { win: win as unknown as Window, parent, posted, doc }
}

const allPosted: Posted[][] = []

/** Delivers a message as the browser would: with its origin and source window. */
function deliver(win: Window, data: unknown, origin: string, source: unknown) {
  const event = new MessageEvent('message', { data, origin })
  Object.defineProperty(event, 'source', { value: source })
  win.dispatchEvent(event)
}

const token = (extra: Record<string, unknown> = {}) => ({
  source: 'whatpro-hub-loader',
  type: 'token',
  version: 1,
  instance_token: TOKEN,
  theme: 'dark',
  ...extra,
})

function setup(options: Partial<BridgeOptions> = {}, windowOptions = {}) {
  const fake = fakeWindow(windowOptions)
  const exchange = vi.fn(options.exchange ?? (async (_token: string) => {}))
  const onTheme = vi.fn()
  const bridge = createBridge({
    win: fake.win,
    origins: [CHATWOOT, OTHER_CHATWOOT],
    ...options,
    exchange,
    onTheme,
  })
  return { ...fake, bridge, exchange, onTheme }
}

const flush = () => new Promise((done) => setTimeout(done, 0))
const ready = { source: 'whatpro-hub', type: 'ready', version: 1 }
const tokenRequest = { source: 'whatpro-hub', type: 'token-request', version: 1 }

afterEach(() => {
  vi.useRealTimers()
  // Whatever a test did, nothing was ever posted to '*'.
  for (const posted of allPosted.splice(0)) {
    for (const [, origin] of posted) expect(origin).not.toBe('*')
  }
})

describe('allowed origins', () => {
  it('come from the meta tag, space separated, origins only', () => {
    const meta = document.createElement('meta')
    meta.name = 'whatpro-chatwoot-origins'
    meta.content = ` ${CHATWOOT}  * null https://x.test/path ${OTHER_CHATWOOT} ${CHATWOOT} javascript:x http://localhost:3000`
    document.head.append(meta)
    try {
      expect(readAllowedOrigins(document)).toEqual([CHATWOOT, OTHER_CHATWOOT, 'http://localhost:3000'])
    } finally {
      meta.remove()
    }
  })

  it('are none without the meta tag', () => {
    expect(readAllowedOrigins(document)).toEqual([])
  })

  it('narrow to the parent when the browser names it', () => {
    const { win } = fakeWindow({ ancestor: OTHER_CHATWOOT })
    expect(targetOrigins(win, [CHATWOOT, OTHER_CHATWOOT])).toEqual([OTHER_CHATWOOT])
    const { win: unknownParent } = fakeWindow({ ancestor: 'https://evil.test' })
    expect(targetOrigins(unknownParent, [CHATWOOT])).toEqual([CHATWOOT])
  })
})

describe('loader messages', () => {
  it('accept exactly the token and theme shapes', () => {
    expect(parseLoaderMessage(token())).toEqual({ type: 'token', instance_token: TOKEN, theme: 'dark' })
    expect(
      parseLoaderMessage({ source: 'whatpro-hub-loader', type: 'theme', version: 1, theme: 'light' }),
    ).toEqual({ type: 'theme', theme: 'light' })
  })

  it.each([
    ['an extra key', token({ extra: 1 })],
    ['a missing theme', { ...token(), theme: undefined }],
    ['version 2', token({ version: 2 })],
    ['version "1"', token({ version: '1' })],
    ['another source', token({ source: 'whatpro-hub' })],
    ['an unknown type', token({ type: 'tokens' })],
    ['a token without the prefix', token({ instance_token: 'abc' })],
    ['a token with spaces', token({ instance_token: 'wphi_a b' })],
    ['an empty token', token({ instance_token: 'wphi_' })],
    ['a huge token', token({ instance_token: `wphi_${'a'.repeat(600)}` })],
    ['a non-string token', token({ instance_token: 42 })],
    ['an unknown theme', token({ theme: 'blue' })],
    ['a theme message with a token', { ...token(), type: 'theme' }],
    ['an array', [token()]],
    ['a string', JSON.stringify(token())],
    ['null', null],
  ])('refuse %s', (_name, data) => {
    expect(parseLoaderMessage(data)).toBeNull()
  })
})

describe('bridge', () => {
  it('says ready once to each allowed origin, never to *', () => {
    const { bridge, posted } = setup()
    bridge.start()
    bridge.start()
    expect(posted).toEqual([
      [ready, CHATWOOT],
      [ready, OTHER_CHATWOOT],
    ])
    expect(bridge.status.phase).toBe('connecting')
  })

  it('outside a frame posts nothing and explains', () => {
    const { bridge, posted } = setup({}, { framed: false })
    bridge.start()
    expect(posted).toEqual([])
    expect(bridge.status).toEqual({ phase: 'unavailable', reason: 'not-framed' })
  })

  it('without allowed origins posts nothing and explains', () => {
    const { bridge, posted } = setup({ origins: [] })
    bridge.start()
    expect(posted).toEqual([])
    expect(bridge.status.reason).toBe('not-framed')
  })

  it("exchanges the parent's token and applies its theme", async () => {
    const { bridge, win, parent, exchange, onTheme } = setup()
    bridge.start()
    deliver(win, token(), CHATWOOT, parent)
    await flush()
    expect(exchange).toHaveBeenCalledWith(TOKEN)
    expect(onTheme).toHaveBeenCalledWith('dark')
    expect(bridge.status.phase).toBe('connected')
  })

  it('ignores a token from another window, another origin or of the wrong shape', async () => {
    const { bridge, win, parent, exchange, onTheme } = setup()
    bridge.start()
    deliver(win, token(), CHATWOOT, { postMessage() {} })
    deliver(win, token(), CHATWOOT, null)
    deliver(win, token(), 'https://evil.test', parent)
    deliver(win, token(), 'null', parent)
    deliver(win, token({ extra: true }), CHATWOOT, parent)
    deliver(win, token({ instance_token: 'wpak_abc' }), CHATWOOT, parent)
    await flush()
    expect(exchange).not.toHaveBeenCalled()
    expect(onTheme).not.toHaveBeenCalled()
    expect(bridge.status.phase).toBe('connecting')
  })

  it('exchanges only a token it asked for', async () => {
    const { bridge, win, parent, exchange } = setup()
    deliver(win, token(), CHATWOOT, parent)
    bridge.start()
    deliver(win, token(), CHATWOOT, parent)
    deliver(win, token({ instance_token: 'wphi_second' }), CHATWOOT, parent)
    await flush()
    expect(exchange.mock.calls).toEqual([[TOKEN]])
  })

  it('asks for a fresh token when the exchange fails, and gives up after three', async () => {
    const { bridge, win, parent, posted, exchange } = setup({
      exchange: async () => {
        throw new Error('instance_token_used')
      },
    })
    bridge.start()
    for (let i = 0; i < 3; i++) {
      deliver(win, token(), CHATWOOT, parent)
      await flush()
    }
    expect(exchange).toHaveBeenCalledTimes(3)
    expect(posted.filter(([m]) => (m as { type: string }).type === 'token-request')).toHaveLength(4)
    expect(bridge.status).toEqual({ phase: 'unavailable', reason: 'refused' })
  })

  it('tries the same token again when the exchange was only rate limited', async () => {
    vi.useFakeTimers()
    let calls = 0
    const { bridge, win, parent, posted, exchange } = setup({
      exchange: async () => {
        calls += 1
        if (calls === 1) throw Object.assign(new Error('rate_limited'), { status: 429, retryAfter: 3 })
      },
    })
    bridge.start()
    posted.length = 0
    deliver(win, token(), CHATWOOT, parent)
    await vi.advanceTimersByTimeAsync(2_999)
    expect(exchange).toHaveBeenCalledTimes(1)
    expect(bridge.status.phase).toBe('connecting')
    await vi.advanceTimersByTimeAsync(1)
    expect(exchange.mock.calls).toEqual([[TOKEN], [TOKEN]])
    expect(bridge.status.phase).toBe('connected')
    expect(posted).toEqual([])
  })

  it('explains after ten seconds without a token, and still takes a late one', async () => {
    vi.useFakeTimers()
    const { bridge, win, parent, exchange } = setup()
    bridge.start()
    vi.advanceTimersByTime(9_999)
    expect(bridge.status.phase).toBe('connecting')
    vi.advanceTimersByTime(1)
    expect(bridge.status).toEqual({ phase: 'unavailable', reason: 'no-answer' })
    deliver(win, token(), CHATWOOT, parent)
    await vi.runAllTimersAsync()
    expect(exchange).toHaveBeenCalledWith(TOKEN)
    expect(bridge.status.phase).toBe('connected')
  })

  it('asks for a token when the session ended', async () => {
    const { bridge, win, parent, posted } = setup()
    bridge.start()
    deliver(win, token(), CHATWOOT, parent)
    await flush()
    posted.length = 0
    bridge.sessionEnded()
    expect(posted).toEqual([
      [tokenRequest, CHATWOOT],
      [tokenRequest, OTHER_CHATWOOT],
    ])
    expect(bridge.status.phase).toBe('connecting')
  })

  it('follows theme messages without exchanging anything', () => {
    const { bridge, win, parent, exchange, onTheme } = setup()
    bridge.start()
    deliver(win, { source: 'whatpro-hub-loader', type: 'theme', version: 1, theme: 'light' }, CHATWOOT, parent)
    expect(onTheme).toHaveBeenCalledWith('light')
    expect(exchange).not.toHaveBeenCalled()
  })

  it('asks to open a conversation, for positive integer ids only', () => {
    const { bridge, posted } = setup({}, { ancestor: CHATWOOT })
    bridge.openConversation(42)
    bridge.openConversation(0)
    bridge.openConversation(1.5)
    expect(posted).toEqual([
      [{ source: 'whatpro-hub', type: 'open-conversation', version: 1, conversation_id: 42 }, CHATWOOT],
    ])
  })
})

const CONTEXT = {
  event: 'appContext',
  data: {
    conversation: {
      id: 42,
      account_id: 1,
      inbox_id: 3,
      status: 'open',
      labels: ['lead', 7, 'vip'],
      meta: {
        sender: { id: 9, name: 'Joana Reis', email: null, phone_number: '+351912345678' },
        assignee: { id: 2, name: 'Bruno Agent' },
      },
      messages: [{ id: 1, content: 'Olá' }],
    },
    contact: {
      id: 9,
      name: 'Joana Reis',
      email: 'joana@example.com',
      phone_number: '+351912345678',
      thumbnail: 'https://chat.example.com/avatar.png',
    },
    currentAgent: { id: 1, name: 'Ana Admin', email: 'admin@demo.test' },
  },
}

describe('dashboard app context', () => {
  it('parses the JSON string Chatwoot sends', () => {
    expect(parseAppContext(JSON.stringify(CONTEXT))).toEqual({
      conversation: {
        id: 42,
        status: 'open',
        labels: ['lead', 'vip'],
        inbox_id: 3,
        sender: { name: 'Joana Reis', email: null, phone_number: '+351912345678' },
        assignee: { name: 'Bruno Agent' },
      },
      contact: {
        id: 9,
        name: 'Joana Reis',
        email: 'joana@example.com',
        phone_number: '+351912345678',
        thumbnail: 'https://chat.example.com/avatar.png',
      },
      currentAgent: { id: 1, name: 'Ana Admin', email: 'admin@demo.test' },
    })
  })

  it.each([
    ['an object, not a string', CONTEXT],
    ['another event', JSON.stringify({ ...CONTEXT, event: 'other' })],
    ['no data', JSON.stringify({ event: 'appContext' })],
    ['broken JSON', '{"event":'],
    ['the fetch-info string', FETCH_INFO],
  ])('ignores %s', (_name, data) => {
    expect(parseAppContext(data)).toBeNull()
  })

  it('tolerates missing parts', () => {
    const context = parseAppContext(JSON.stringify({ event: 'appContext', data: { conversation: { id: 5 } } }))
    expect(context).toEqual({
      conversation: { id: 5, status: null, labels: [], inbox_id: null, sender: null, assignee: null },
      contact: null,
      currentAgent: null,
    })
  })

  it('asks each allowed origin with the exact string and keeps what the parent answers', () => {
    const { bridge, win, parent, posted } = setup()
    bridge.start()
    posted.length = 0
    bridge.requestAppContext()
    expect(posted).toEqual([
      [FETCH_INFO, CHATWOOT],
      [FETCH_INFO, OTHER_CHATWOOT],
    ])
    deliver(win, JSON.stringify(CONTEXT), 'https://evil.test', parent)
    deliver(win, JSON.stringify(CONTEXT), CHATWOOT, {})
    expect(bridge.appContext.value).toBeNull()
    deliver(win, JSON.stringify(CONTEXT), CHATWOOT, parent)
    expect(bridge.appContext.value?.conversation?.id).toBe(42)
  })

  it('asks again when the tab becomes visible', () => {
    const { bridge, posted, doc } = setup({}, { ancestor: CHATWOOT })
    bridge.start()
    posted.length = 0
    doc.visibilityState = 'hidden'
    doc.dispatchEvent(new Event('visibilitychange'))
    expect(posted).toEqual([])
    doc.visibilityState = 'visible'
    doc.dispatchEvent(new Event('visibilitychange'))
    expect(posted).toEqual([[FETCH_INFO, CHATWOOT]])
  })
})
