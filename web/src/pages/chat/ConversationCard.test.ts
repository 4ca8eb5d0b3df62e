import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App as VueApp } from 'vue'
import { routeLocationKey } from 'vue-router'
import { ApiError } from '../../api/client'
import { chatApi, type ConversationCard as Card } from '../../api/chat'
import { conversationCardsKey, createConversationCards } from '../../chat/conversationCards'
import { bridgeKey, type Bridge } from '../../embed/bridge'
import ConversationCard from './ConversationCard.vue'

let app: VueApp | undefined
let root: HTMLElement

const $$ = (testId: string) => [...root.querySelectorAll<HTMLElement>(`[data-testid="${testId}"]`)]
const text = (el: Element | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

function problem(status: number, code: string) {
  return new ApiError({ type: 'about:blank', title: code, status, detail: '', code })
}

function card(id: number, overrides: Partial<Card> = {}): Card {
  return {
    id,
    status: 'open',
    inbox: { id: 4, name: 'WhatsApp Vendas' },
    contact: { name: 'Joana Reis', thumbnail: null },
    assignee: { name: 'Bruno Agent' },
    url: `https://chat.example.test/app/accounts/7/conversations/${id}`,
    last_activity_at: '2026-01-01T10:00:00Z',
    ...overrides,
  }
}

/** Settles the loads and the re-render they cause. */
async function settle() {
  for (let i = 0; i < 4; i += 1) await nextTick()
}

function mount(ids: number[], load: (id: number) => Promise<Card>, embedded?: { openConversation: ReturnType<typeof vi.fn> }) {
  const cards = createConversationCards(load)
  app = createApp({ render: () => ids.map((id) => h(ConversationCard, { conversationId: id })) }).provide(
    conversationCardsKey,
    cards,
  )
  if (embedded) {
    app.provide(routeLocationKey, { meta: { embedded: true } } as never)
    app.provide(bridgeKey, embedded as unknown as Bridge)
  }
  app.mount(root)
  return cards
}

beforeEach(() => {
  root = document.createElement('div')
  document.body.append(root)
})

afterEach(() => {
  app?.unmount()
  app = undefined
  root.remove()
  vi.unstubAllGlobals()
})

describe('ConversationCard', () => {
  it('shows the contact, the status in its colour, the inbox and the assignee, linking to Chatwoot', async () => {
    const load = vi.fn(async (id: number) =>
      id === 12 ? card(12) : card(id, { status: 'pending', assignee: null, contact: { name: null }, inbox: { id: 9, name: null } }),
    )
    mount([12, 30], load)
    expect($$('conversation-card-quiet').map(text)).toEqual(['#12', '#30'])
    await settle()
    const [first, second] = $$('conversation-card')
    expect(text(first!.querySelector('[data-testid="conversation-contact"]')!)).toBe('Joana Reis')
    expect(text(first)).toContain('#12')
    const status = first!.querySelector('[data-testid="conversation-status"]')!
    expect(text(status)).toBe('Open')
    expect(status.classList.contains('is-teal')).toBe(true)
    expect(text(first!.querySelector('[data-testid="conversation-inbox"]')!)).toBe('WhatsApp Vendas')
    expect(text(first!.querySelector('[data-testid="conversation-assignee"]')!)).toBe('Bruno Agent')
    expect(first!.getAttribute('href')).toBe('https://chat.example.test/app/accounts/7/conversations/12')
    expect(first!.getAttribute('target')).toBe('_blank')
    expect(first!.getAttribute('rel')).toBe('noopener noreferrer')
    expect(first!.querySelector('img')).toBeNull()

    const pending = second!.querySelector('[data-testid="conversation-status"]')!
    expect(text(pending)).toBe('Pending')
    expect(pending.classList.contains('is-amber')).toBe(true)
    expect(text(second!.querySelector('[data-testid="conversation-contact"]')!)).toBe('Contact')
    expect(text(second!.querySelector('[data-testid="conversation-inbox"]')!)).toBe('Inbox 9')
    expect(text(second!.querySelector('[data-testid="conversation-assignee"]')!)).toBe('Unassigned')
  })

  it('fetches each conversation once for the whole page', async () => {
    const load = vi.fn(async (id: number) => card(id))
    mount([12, 12, 30, 12], load)
    await settle()
    expect(load.mock.calls.map(([id]) => id)).toEqual([12, 30])
    expect($$('conversation-card')).toHaveLength(4)
  })

  it('shows only the number of a conversation the caller may not see, and asks no more', async () => {
    const load = vi.fn(async (id: number) => {
      throw id === 404 ? problem(404, 'not_found') : problem(409, 'chatwoot_not_connected')
    })
    const cards = mount([404, 409], load)
    await settle()
    expect($$('conversation-card')).toHaveLength(0)
    const quiet = $$('conversation-card-quiet')
    expect(quiet.map(text)).toEqual(['#404', '#409'])
    expect(quiet.map((el) => el.dataset.state)).toEqual(['unavailable', 'unavailable'])
    expect(quiet[0]!.title).toBe('Not available')
    cards.request(404)
    expect(load).toHaveBeenCalledTimes(2)
  })

  it('asks again after Chatwoot could not be reached', async () => {
    let down = true
    const load = vi.fn(async (id: number) => {
      if (down) throw problem(503, 'unavailable')
      return card(id)
    })
    const cards = mount([12], load)
    await settle()
    expect($$('conversation-card-quiet')[0]!.dataset.state).toBe('failed')
    down = false
    cards.request(12)
    await settle()
    expect($$('conversation-card')).toHaveLength(1)
    expect(load).toHaveBeenCalledTimes(2)
  })

  it('inside Chatwoot, opens the conversation in Chatwoot instead of a new tab', async () => {
    const bridge = { openConversation: vi.fn() }
    mount([12], async (id) => card(id), bridge)
    await settle()
    const link = $$('conversation-card')[0]!
    const click = new MouseEvent('click', { bubbles: true, cancelable: true })
    link.dispatchEvent(click)
    expect(click.defaultPrevented).toBe(true)
    expect(bridge.openConversation).toHaveBeenCalledWith(12)
  })

  it('is read from the account’s chat API', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify(card(12)), { status: 200 }))
    vi.stubGlobal('fetch', fetch)
    await expect(chatApi('acc-1').conversation(12)).resolves.toMatchObject({ id: 12 })
    const calls = fetch.mock.calls as unknown as [string][]
    expect(calls[0]![0]).toMatch(/\/api\/v1\/accounts\/acc-1\/chat\/conversations\/12$/)
  })
})
