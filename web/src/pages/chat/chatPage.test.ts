import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, reactive, shallowRef, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { bridgeKey, type Bridge } from '../../embed/bridge'
import { fakeChat, type ChatOptions, type FakeChat } from '../../test/fakeChat'
import { FakeWebSocket } from '../../test/fakeWebSocket'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeChat
let auth: Auth

function fakeBridge() {
  return {
    status: reactive({ phase: 'connected', reason: null }),
    appContext: shallowRef(null),
    start: vi.fn(),
    sessionEnded: vi.fn(),
    requestAppContext: vi.fn(),
    openConversation: vi.fn(),
    stop: vi.fn(),
  }
}

async function mountAt(path: string, setup: (hub: FakeChat) => void = () => {}, options: ChatOptions = {}) {
  hub = fakeChat(options)
  setup(hub)
  vi.stubGlobal('fetch', hub.fetch)
  vi.stubGlobal('WebSocket', FakeWebSocket)
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  const router = createAppRouter(createMemoryHistory(), auth)
  if (path.startsWith('/embedded')) {
    void auth.startWithoutRestore()
    await auth.signInWithInstanceToken('wphi_good')
  } else {
    hub.refresh = 'refresh-0'
    hub.cookie = 'refresh-0'
  }
  app = createApp(App)
    .provide(authKey, auth)
    .provide(bridgeKey, fakeBridge() as unknown as Bridge)
    .use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)
  return router
}

const $ = (selector: string, within: ParentNode = root) => within.querySelector<HTMLElement>(selector)
const $$ = (selector: string, within: ParentNode = root) => [...within.querySelectorAll<HTMLElement>(selector)]
const byTestId = (id: string, within: ParentNode = root) => $(`[data-testid="${id}"]`, within)
const allByTestId = (id: string, within: ParentNode = root) => $$(`[data-testid="${id}"]`, within)
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''
const roomItem = (name: string) => allByTestId('room-item').find((el) => text($('.name', el)) === name)
const bodies = () => allByTestId('message-body').map(text)

function type(input: HTMLTextAreaElement, value: string) {
  input.value = value
  input.setSelectionRange(value.length, value.length)
  input.dispatchEvent(new Event('input'))
}

function key(el: HTMLElement, name: string, init: KeyboardEventInit = {}) {
  el.dispatchEvent(new KeyboardEvent('keydown', { key: name, bubbles: true, cancelable: true, ...init }))
}

const composer = () => byTestId('composer-input', byTestId('room-pane')!) as HTMLTextAreaElement

/** A channel "general" with a few messages (Bruno twice in a row, then Carla), 2 unread. */
function seed(h: FakeChat) {
  const general = h.addRoom({ kind: 'channel', name: 'general', topic: 'Everything else' }, ['user-1', 'user-2', 'user-3'])
  h.addMessage(general.id, 'user-1', 'Good morning')
  h.addMessage(general.id, 'user-2', 'Hi <@user-1>, see **this**')
  h.addMessage(general.id, 'user-2', 'and <b>that</b>')
  h.addMessage(general.id, 'user-3', 'Hello all')
  general.read['user-1'] = 3
  const dm = h.addRoom({ kind: 'direct' }, ['user-1', 'user-2'])
  h.addMessage(dm.id, 'user-2', 'psst')
  const muted = h.addRoom({ kind: 'channel', name: 'random' }, ['user-1', 'user-3'])
  h.addMessage(muted.id, 'user-3', 'meme')
  muted.mutedBy = ['user-1']
  h.addRoom({ kind: 'channel', name: 'old-project', archived: true }, ['user-1'])
  return { general, dm, muted }
}

beforeEach(() => {
  root = document.createElement('div')
  document.body.append(root)
  FakeWebSocket.reset()
  localStorage.clear()
})

afterEach(() => {
  app?.unmount()
  app = undefined
  auth?.dispose()
  setAuthHandler(null)
  root.remove()
  vi.unstubAllGlobals()
})

describe('Team chat page', () => {
  it('lists channels and direct messages with unread counts; muted dimmed, archived behind a toggle', async () => {
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('room-item').length).toBe(3))
    expect(text(roomItem('general'))).toContain('1')
    expect(roomItem('general')!.getAttribute('aria-label')).toBe('general, 1 unread')
    expect(roomItem('random')!.className).toContain('is-muted')
    expect(text(roomItem('Bruno Agent'))).toContain('1')
    expect(roomItem('old-project')).toBeUndefined()
    byTestId('toggle-archived')!.click()
    await nextTick()
    expect(text(roomItem('old-project'))).toContain('archived')
    // The sidebar's badge counts the unmuted rooms' unread messages.
    await vi.waitFor(() => expect(text(byTestId('nav-chat-unread'))).toBe('2'))
  })

  it('opens the room with unread messages: day separator, grouped authors, new-messages divider, sanitised html', async () => {
    const router = await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    expect(router.currentRoute.value.query.room).toBe(hub.chat.rooms[0]!.id)
    expect(text(byTestId('room-name'))).toBe('#general')
    expect(text(byTestId('room-topic'))).toBe('Everything else')
    expect(allByTestId('day-separator').map(text)).toEqual(['Today'])
    // Bruno's two messages share one header.
    expect(allByTestId('message-author').map(text)).toEqual(['Ana Admin', 'Bruno Agent', 'Carla Costa'])
    const rows = $$('[data-testid="chat-message"], [data-testid="unread-divider"]').map((el) => el.dataset.testid === 'unread-divider' ? 'divider' : el.dataset.seq)
    expect(rows).toEqual(['1', '2', '3', 'divider', '4'])
    // The hub's html, as it is; the mention is the hub's span.
    const mention = $('.mention', root)!
    expect(text(mention)).toBe('@Ana Admin')
    expect(bodies()[1]).toBe('Hi @Ana Admin, see this')
    expect(bodies()[2]).toBe('and <b>that</b>')
    expect($('b', byTestId('room-pane')!)).toBeNull()
    // Links open in a new tab, never in this page (a frame inside Chatwoot).
    const open = vi.fn()
    vi.stubGlobal('open', open)
    const body = allByTestId('message-body')[0]!
    const link = document.createElement('a')
    link.href = 'https://example.com/doc'
    link.textContent = 'doc'
    body.append(link)
    const click = new MouseEvent('click', { bubbles: true, cancelable: true })
    link.dispatchEvent(click)
    expect(click.defaultPrevented).toBe(true)
    expect(open).toHaveBeenCalledWith('https://example.com/doc', '_blank', 'noopener,noreferrer')
    link.remove()
    // Seen in a focused tab: marked read up to the latest.
    await vi.waitFor(() => expect(hub.calls.some((c) => c.method === 'POST' && c.path.endsWith('/read') && (c.body as { seq: number }).seq === 4)).toBe(true))
    await vi.waitFor(() => expect(byTestId('nav-chat-unread')!.textContent).toBe('1'))
  })

  it('without html from the hub (its first slice), shows the body as escaped text with names for mentions', async () => {
    await mountAt('/chat', seed, { legacy: true })
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    expect(bodies()).toEqual(['Good morning', 'Hi @Ana Admin, see **this**', 'and <b>that</b>', 'Hello all'])
    expect($('b', byTestId('room-pane')!)).toBeNull()
    expect($('.mention', root)).toBeNull()
    // What that hub cannot do yet is not offered: reactions, edits, deletes, mute.
    expect(allByTestId('react-button')).toHaveLength(0)
    const first = allByTestId('chat-message')[0]!
    byTestId('message-menu-button', first)!.click()
    await nextTick()
    expect(byTestId('edit-message', first)).toBeNull()
    expect(byTestId('delete-message', first)).toBeNull()
    expect(byTestId('mark-unread', first)).not.toBeNull()
    expect(byTestId('room-mute')).toBeNull()
    const input = composer()
    key(input, 'ArrowUp')
    await nextTick()
    expect(byTestId('editing-bar')).toBeNull()
    // Sending works as it did.
    type(input, 'still works')
    key(input, 'Enter')
    await vi.waitFor(() => expect(bodies()).toContain('still works'))
  })

  it('sends with Enter (a client_id, shown at once), keeps the focus, and Shift+Enter is a new line', async () => {
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    const input = composer()
    input.focus()
    type(input, 'line one')
    key(input, 'Enter', { shiftKey: true })
    expect(hub.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/messages'))).toHaveLength(0)
    type(input, 'line one\nline two')
    key(input, 'Enter')
    await nextTick()
    expect(input.value).toBe('')
    await vi.waitFor(() => expect(bodies()).toContain('line one line two'))
    const post = hub.calls.find((c) => c.method === 'POST' && c.path.endsWith('/messages'))!
    expect(post.body).toEqual({ body: 'line one\nline two', client_id: expect.stringMatching(/^[\w-]{8,}$/) })
    expect(allByTestId('outgoing-message')).toHaveLength(0)
    expect(document.activeElement).toBe(input)
  })

  it('retries a send that did not reach the hub with the same client_id, and shows it once', async () => {
    await mountAt('/chat', (h) => {
      seed(h)
      h.chat.failSends = 1
    })
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    const input = composer()
    type(input, 'are you there?')
    key(input, 'Enter')
    await vi.waitFor(() => expect(byTestId('outgoing-message')?.dataset.status).toBe('pending'))
    expect(text(byTestId('outgoing-message'))).toContain('Sending…')
    await vi.waitFor(() => expect(bodies()).toContain('are you there?'), { timeout: 4000 })
    const posts = hub.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/messages'))
    expect(posts).toHaveLength(2)
    expect((posts[0]!.body as { client_id: string }).client_id).toBe((posts[1]!.body as { client_id: string }).client_id)
    expect(bodies().filter((b) => b === 'are you there?')).toHaveLength(1)
    expect(allByTestId('outgoing-message')).toHaveLength(0)
  })

  it('offers the room’s people after @ and sends the mention as <@id>', async () => {
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    const input = composer()
    input.focus()
    type(input, 'ping @car')
    await nextTick()
    expect(allByTestId('mention-option').map((el) => text($('.text-heading-3', el)))).toEqual(['Carla Costa'])
    key(input, 'Enter')
    await nextTick()
    expect(input.value).toBe('ping @Carla Costa ')
    type(input, 'ping @Carla Costa please, and @roo')
    await nextTick()
    // Admins may mention the whole room.
    expect(allByTestId('mention-option').map((el) => text($('.text-heading-3', el)))).toEqual(['@room'])
    key(input, 'Escape')
    await nextTick()
    expect(byTestId('mention-list')).toBeNull()
    type(input, 'ping @Carla Costa please, and @room')
    await nextTick()
    key(input, 'Enter') // completes @room
    await nextTick()
    expect(input.value).toBe('ping @Carla Costa please, and @room ')
    key(input, 'Enter') // sends
    await vi.waitFor(() => expect(hub.calls.some((c) => c.method === 'POST' && c.path.endsWith('/messages'))).toBe(true))
    const post = hub.calls.find((c) => c.method === 'POST' && c.path.endsWith('/messages'))!
    expect((post.body as { body: string }).body).toBe('ping <@user-3> please, and @room')
    await vi.waitFor(() => expect(bodies()).toContain('ping @Carla Costa please, and @room'))
  })

  it('↑ in an empty composer edits the last own message; Esc cancels', async () => {
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    const input = composer()
    input.focus()
    key(input, 'ArrowUp')
    await nextTick()
    expect(byTestId('editing-bar')).not.toBeNull()
    expect(input.value).toBe('Good morning')
    key(input, 'Escape')
    await nextTick()
    expect(byTestId('editing-bar')).toBeNull()
    expect(input.value).toBe('')
    key(input, 'ArrowUp')
    await nextTick()
    type(input, 'Good morning, team')
    key(input, 'Enter')
    await vi.waitFor(() => expect(bodies()[0]).toBe('Good morning, team'))
    expect(text(byTestId('message-edited'))).toBe('(edited)')
    expect(hub.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ body: 'Good morning, team' })
  })

  it('toggles reactions, deletes to a tombstone and marks unread from a message', async () => {
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    const last = allByTestId('chat-message')[3]!
    byTestId('react-button', last)!.click()
    await nextTick()
    ;(byTestId('reaction-picker', last)!.querySelector('button') as HTMLButtonElement).click()
    await vi.waitFor(() => expect(text(byTestId('reaction', allByTestId('chat-message')[3]!))).toBe('👍1'))
    const reaction = byTestId('reaction', allByTestId('chat-message')[3]!)!
    expect(reaction.getAttribute('aria-pressed')).toBe('true')
    reaction.click()
    await vi.waitFor(() => expect(byTestId('reaction', allByTestId('chat-message')[3]!)).toBeNull())

    const first = allByTestId('chat-message')[0]!
    byTestId('message-menu-button', first)!.click()
    await nextTick()
    byTestId('delete-message', first)!.click()
    await nextTick()
    ;(document.querySelector('[data-testid="confirm-button"]') as HTMLButtonElement).click()
    await vi.waitFor(() => expect(text(byTestId('message-deleted'))).toBe('This message was deleted.'))

    await vi.waitFor(() => expect(hub.calls.some((c) => c.path.endsWith('/read'))).toBe(true))
    const third = allByTestId('chat-message')[2]!
    byTestId('message-menu-button', third)!.click()
    await nextTick()
    byTestId('mark-unread', third)!.click()
    await vi.waitFor(() => expect(hub.calls.find((c) => c.path.endsWith('/unread') && c.method === 'POST')?.body).toEqual({ seq: 3 }))
    await vi.waitFor(() => expect(text(roomItem('general'))).toContain('2'))
    const rows = $$('[data-testid="chat-message"], [data-testid="unread-divider"]').map((el) => el.dataset.testid === 'unread-divider' ? 'divider' : el.dataset.seq)
    expect(rows).toEqual(['1', '2', 'divider', '3', '4'])
  })

  it('opens a thread beside the room, replies in it, and Esc closes it', async () => {
    await mountAt('/chat', (h) => {
      const { general } = seed(h)
      const root = h.chat.messages.find((m) => m.room_id === general.id && m.seq === 4)!
      h.addMessage(general.id, 'user-2', 'first reply', { parent_id: root.id })
    })
    await vi.waitFor(() => expect(byTestId('thread-link')).not.toBeNull())
    expect(text(byTestId('thread-link'))).toMatch(/^1 reply/)
    byTestId('thread-link')!.click()
    await vi.waitFor(() => expect(byTestId('thread-pane')).not.toBeNull())
    const pane = byTestId('thread-pane')!
    await vi.waitFor(() => expect(allByTestId('message-body', pane).map(text)).toEqual(['Hello all', 'first reply']))
    const input = byTestId('composer-input', pane) as HTMLTextAreaElement
    type(input, 'second reply')
    key(input, 'Enter')
    await vi.waitFor(() => expect(allByTestId('message-body', byTestId('thread-pane')!).map(text)).toContain('second reply'))
    const post = hub.calls.find((c) => c.method === 'POST' && c.path.endsWith('/messages'))!
    expect(post.body).toMatchObject({ body: 'second reply', parent_id: expect.any(String) })
    await vi.waitFor(() => expect(text(byTestId('thread-link'))).toMatch(/^2 replies/))
    key(input, 'Escape')
    await nextTick()
    expect(byTestId('thread-pane')).toBeNull()
  })

  it('creates a channel and opens a direct message from the people directory', async () => {
    const router = await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('room-item').length).toBe(3))
    byTestId('new-channel')!.click()
    await nextTick()
    const name = document.querySelector('[data-testid="channel-name-input"]') as HTMLInputElement
    name.value = 'support'
    name.dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-testid="channel-private"]') as HTMLButtonElement).click()
    ;(document.querySelector('[data-testid="new-channel-form"]') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(text(byTestId('room-name'))).toBe('🔒support'))
    expect(hub.calls.find((c) => c.method === 'POST' && c.path.endsWith('/chat/rooms'))?.body).toEqual({
      kind: 'channel',
      name: 'support',
      topic: '',
      private: true,
      member_ids: [],
    })
    const created = hub.chat.rooms.find((r) => r.name === 'support')!
    await vi.waitFor(() => expect(router.currentRoute.value.query.room).toBe(created.id))

    byTestId('new-direct')!.click()
    await nextTick()
    const carla = [...document.querySelectorAll<HTMLElement>('[data-testid="person-option"]')].find((el) => text(el).includes('Carla'))!
    carla.querySelector('input')!.click()
    await nextTick()
    ;(document.querySelector('[data-testid="new-direct-form"]') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(text(byTestId('room-name'))).toBe('Carla Costa'))
    expect(hub.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/chat/rooms')).at(-1)?.body).toEqual({
      kind: 'direct',
      member_ids: ['user-3'],
    })
  })

  it('keeps what was typed in each room while another is open', async () => {
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    type(composer(), 'half a thought')
    roomItem('Bruno Agent')!.click()
    await vi.waitFor(() => expect(text(byTestId('room-name'))).toBe('Bruno Agent'))
    expect(composer().value).toBe('')
    roomItem('general')!.click()
    await vi.waitFor(() => expect(text(byTestId('room-name'))).toBe('#general'))
    expect(composer().value).toBe('half a thought')
  })

  it('lists teams’ rooms apart, and offers no hand-picked people changes for them', async () => {
    await mountAt('/chat', (h) => {
      seed(h)
      h.addRoom({ kind: 'team', name: 'Sales team', private: true }, ['user-1', 'user-2'])
    })
    await vi.waitFor(() => expect(roomItem('Sales team')).toBeDefined())
    const teams = $$('section', byTestId('room-list')!).find((el) => text($('h3', el)) === 'Teams')!
    expect(allByTestId('room-item', teams).map((el) => text($('.name', el)))).toEqual(['Sales team'])
    roomItem('Sales team')!.click()
    await vi.waitFor(() => expect(text(byTestId('room-name'))).toBe('👥Sales team'))
    byTestId('room-members')!.click()
    await nextTick()
    const dialog = document.querySelector('[data-testid="members-dialog"]')!
    expect(allByTestId('member-row', dialog)).toHaveLength(2)
    expect(dialog.querySelector('[data-testid="remove-member"]')).toBeNull()
    expect(document.querySelector('[data-testid="add-members"]')).toBeNull()
    expect(document.querySelector('[data-testid="leave-room"]')).toBeNull()
  })

  it('mutes and archives the room from its header', async () => {
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(byTestId('room-mute')).not.toBeNull())
    byTestId('room-settings')!.click()
    await nextTick()
    const topic = document.querySelector('[data-testid="room-settings-topic"]') as HTMLInputElement
    expect(topic.value).toBe('Everything else')
    topic.value = 'Anything at all'
    topic.dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-testid="room-settings-form"]') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(text(byTestId('room-topic'))).toBe('Anything at all'))
    expect(hub.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ topic: 'Anything at all' })
    byTestId('room-mute')!.click()
    await vi.waitFor(() => expect(text(byTestId('room-mute'))).toBe('Unmute'))
    expect(roomItem('general')!.className).toContain('is-muted')
    byTestId('room-archive')!.click()
    await vi.waitFor(() => expect(byTestId('room-archived')).not.toBeNull())
    expect(composer().disabled).toBe(true)
  })

  it('follows the realtime socket: resume, new messages once, typing, read from another tab', async () => {
    const { general } = await (async () => {
      let rooms!: ReturnType<typeof seed>
      await mountAt('/chat', (h) => {
        rooms = seed(h)
      })
      return rooms
    })()
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    await vi.waitFor(() => expect(FakeWebSocket.opened).toHaveLength(1))
    const ws = FakeWebSocket.last()
    expect(ws.url).toMatch(/^ws:\/\/[^/]+\/api\/v1\/realtime\/ws\?ticket=ticket-1$/)
    expect(hub.chat.resumes.at(-1)?.[general.id]).toBe(general.event_seq)
    ws.open()
    ws.frame('ready', null, null, { user_id: 'user-1', account_id: 'account-1' })
    await vi.waitFor(() => expect(text(byTestId('chat-live'))).toBe('Live'))

    ws.frame('typing', general.id, null, { user_id: 'user-3' })
    await vi.waitFor(() => expect(text(byTestId('typing'))).toBe('Carla Costa is typing…'))

    const incoming = hub.addMessage(general.id, 'user-3', 'live one')
    const frame = hub.messageView(incoming)
    ws.frame('message.created', general.id, general.event_seq!, frame)
    ws.frame('message.created', general.id, general.event_seq!, frame)
    await vi.waitFor(() => expect(bodies()).toContain('live one'))
    expect(bodies().filter((b) => b === 'live one')).toHaveLength(1)
    expect(text(byTestId('typing'))).toBe('')

    // Someone reacts: an update with the next event_seq.
    ws.frame('message.updated', general.id, general.event_seq! + 1, { ...frame, reactions: [{ emoji: '🎉', count: 1, user_ids: ['user-2'] }] })
    await vi.waitFor(() => expect(text(byTestId('reaction'))).toBe('🎉1'))

    // Another tab read the DM.
    const dm = hub.chat.rooms.find((r) => r.kind === 'direct')!
    ws.frame('read', dm.id, null, { last_read_seq: 1, unread_count: 0, unread_mentions: 0 })
    await vi.waitFor(() => expect(byTestId('room-unread', roomItem('Bruno Agent'))).toBeNull())

    // Removed from a room: it leaves the list.
    const random = hub.chat.rooms.find((r) => r.name === 'random')!
    ws.frame('room.removed', random.id, 99, {})
    await vi.waitFor(() => expect(roomItem('random')).toBeUndefined())
  })

  it('asks once, politely, for desktop notifications', async () => {
    const requestPermission = vi.fn(async () => 'granted')
    const FakeNotification = Object.assign(vi.fn(), { permission: 'default', requestPermission })
    vi.stubGlobal('Notification', FakeNotification)
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(byTestId('notifications-ask')).not.toBeNull())
    expect(text(byTestId('notifications-ask'))).toContain('direct messages and mentions')
    byTestId('notifications-on')!.click()
    await nextTick()
    expect(requestPermission).toHaveBeenCalledTimes(1)
    expect(byTestId('notifications-ask')).toBeNull()
    app!.unmount()
    app = undefined
    auth.dispose()
    // Asked already: not again, even while the browser still says "default".
    await mountAt('/chat', seed)
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
    expect(byTestId('notifications-ask')).toBeNull()
  })

  it('shows inside Chatwoot at /embedded/chat', async () => {
    await mountAt('/embedded/chat', seed)
    await vi.waitFor(() => expect(byTestId('chat-page')).not.toBeNull())
    expect(byTestId('sidebar')).toBeNull()
    await vi.waitFor(() => expect(allByTestId('chat-message').length).toBe(4))
  })

  it('is left out of the sidebar when the plan has no team chat', async () => {
    await mountAt('/kanban', () => {}, { chatEnabled: false })
    await vi.waitFor(() => expect(byTestId('nav-kanban')).not.toBeNull())
    await vi.waitFor(() => expect(byTestId('nav-chat')).toBeNull())
    expect(hub.calls.some((c) => c.path.includes('/chat/'))).toBe(false)
  })
})
