import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { mountChat, press, textOf, typeInto, type MountedChat } from '../../test/chatHarness'
import type { FakeChat } from '../../test/fakeChat'
import { TEST_NOW } from '../../test/clock'

let ui: MountedChat

afterEach(() => {
  ui?.unmount()
})

/** "general" (open first) and "sales" with 60 messages, one of them the one looked for. */
function seed(h: FakeChat) {
  const general = h.addRoom({ kind: 'channel', name: 'general' }, ['user-1', 'user-2'])
  h.addMessage(general.id, 'user-2', 'Morning')
  h.addMessage(general.id, 'user-2', '<script>alert(1)</script> the proposal is ready')
  const sales = h.addRoom({ kind: 'channel', name: 'sales' }, ['user-1', 'user-3'])
  for (let i = 1; i <= 60; i++) h.addMessage(sales.id, i % 2 ? 'user-3' : 'user-1', i === 31 ? 'Proposal for ACME sent' : `batch note ${i}`)
  general.last_message_at = new Date(TEST_NOW + 1000).toISOString()
  return { general, sales }
}

async function searchFor(words: string) {
  const input = ui.testId('chat-search-input') as HTMLInputElement
  typeInto(input, words)
  await vi.waitFor(() => expect(textOf(ui.testId('search-summary'))).toMatch(/^\d+\+? messages?$|^No messages match/))
  return input
}

const searches = () => ui.hub.calls.filter((c) => c.path.includes('/chat/search'))
const hits = () => ui.allTestId('search-hit')

describe('Team chat search', () => {
  it('finds messages as one types: the snippet as the hub marked it, author, room and date', async () => {
    ui = await mountChat('/chat', seed)
    await vi.waitFor(() => expect(textOf(ui.testId('room-name'))).toBe('#general'))
    await searchFor('proposal')
    expect(searches()).toHaveLength(1)
    expect(searches()[0]!.path).toMatch(/[?&]q=proposal(&|$)/)
    // Newest first.
    expect(hits().map((el) => textOf(ui.testId('search-hit-room', el)))).toEqual(['in #sales', 'in #general'])
    expect(hits().map((el) => textOf(ui.testId('search-hit-author', el)))).toEqual(['Carla Costa', 'Bruno Agent'])
    const snippet = ui.testId('search-hit-snippet', hits()[1])!
    expect(snippet.querySelector('mark')!.textContent).toBe('proposal')
    expect(snippet.querySelector('script')).toBeNull()
    expect(textOf(snippet)).toBe('<script>alert(1)</script> the proposal is ready')
    expect(textOf(ui.testId('search-summary'))).toBe('2 messages')
  })

  it('narrows by room, person, files and days, and loads more results', async () => {
    ui = await mountChat('/chat', seed)
    await vi.waitFor(() => expect(textOf(ui.testId('room-name'))).toBe('#general'))
    await searchFor('batch')
    expect(hits()).toHaveLength(20)
    expect(textOf(ui.testId('search-summary'))).toBe('20+ messages')
    ui.testId('search-more')!.click()
    await vi.waitFor(() => expect(hits()).toHaveLength(40))
    ui.testId('search-more')!.click()
    await vi.waitFor(() => expect(hits()).toHaveLength(59))
    expect(ui.testId('search-more')).toBeNull()
    expect(new Set(hits().map((el) => el.dataset.messageId)).size).toBe(59)

    const pick = (id: string, value: string) => {
      const el = ui.testId(id) as HTMLSelectElement | HTMLInputElement
      el.value = value
      el.dispatchEvent(new Event('input'))
      el.dispatchEvent(new Event('change'))
    }
    pick('search-author', 'user-3')
    await vi.waitFor(() => expect(hits()).toHaveLength(20))
    expect(searches().at(-1)!.path).toContain('author_id=user-3')
    pick('search-files', 'with')
    await vi.waitFor(() => expect(textOf(ui.testId('search-summary'))).toBe('No messages match.'))
    expect(searches().at(-1)!.path).toContain('has_attachment=true')
    pick('search-files', '')
    pick('search-room', ui.hub.chat.rooms[0]!.id)
    await vi.waitFor(() => expect(textOf(ui.testId('search-summary'))).toBe('No messages match.'))
    expect(searches().at(-1)!.path).toContain(`room_id=${ui.hub.chat.rooms[0]!.id}`)
    pick('search-from', '2026-03-02')
    pick('search-to', '2026-03-01')
    await nextTick()
    expect(textOf(ui.testId('search-error'))).toBe('The last day is before the first.')
    pick('search-to', '2026-03-31')
    await vi.waitFor(() => expect(searches().at(-1)!.path).toContain('from='))
    const query = new URLSearchParams(searches().at(-1)!.path.split('?')[1])
    expect(query.get('from')).toBe(new Date(2026, 2, 2).toISOString())
    expect(query.get('to')).toBe(new Date(2026, 3, 1).toISOString())
  })

  it('opens a hit in its room around that message, highlighted, and Esc closes the search', async () => {
    const router = (ui = await mountChat('/chat', seed)).router
    await vi.waitFor(() => expect(textOf(ui.testId('room-name'))).toBe('#general'))
    const input = await searchFor('acme')
    expect(hits()).toHaveLength(1)
    const target = ui.hub.chat.messages.find((m) => m.body === 'Proposal for ACME sent')!
    hits()[0]!.click()
    await vi.waitFor(() => expect(textOf(ui.testId('room-name'))).toBe('#sales'))
    expect(router.currentRoute.value.query.room).toBe(target.room_id)
    expect(ui.hub.calls.some((c) => c.path.includes(`/messages?around=${target.id}`))).toBe(true)
    const shown = await vi.waitFor(() => {
      const el = ui.root.querySelector<HTMLElement>(`[data-testid="chat-message"][data-message-id="${target.id}"]`)
      expect(el).not.toBeNull()
      return el!
    })
    expect(shown.className).toContain('is-focused')
    // The page around it: older and newer messages both lie beyond.
    expect(ui.testId('load-older')).not.toBeNull()
    expect(ui.testId('load-newer')).not.toBeNull()
    ui.testId('load-newer')!.click()
    await vi.waitFor(() => expect(ui.testId('load-newer')).toBeNull())
    expect(ui.allTestId('chat-message').at(-1)!.dataset.seq).toBe('60')

    // The results stay open for the next hit; Esc in the field closes them.
    expect(ui.testId('search-pane')).not.toBeNull()
    press(input, 'Escape')
    await nextTick()
    expect(ui.testId('search-pane')).toBeNull()
    expect(input.value).toBe('')
  })
})
