import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App as VueApp } from 'vue'
import type { ChatUser, Room } from '../../api/chat'
import { createChat, type ChatOptions } from '../../chat/useChat'
import PeoplePicker from './PeoplePicker.vue'
import RoomList from './RoomList.vue'

let app: VueApp | undefined
let root: HTMLElement

const dots = () => [...root.querySelectorAll<HTMLElement>('[data-testid="presence-dot"]')]
const itemOf = (roomId: string) => root.querySelector<HTMLElement>(`[data-room-id="${roomId}"]`)!

function room(id: string, kind: Room['kind'], memberIds: string[]): Room {
  return {
    id,
    kind,
    name: kind === 'direct' ? null : id,
    topic: '',
    private: kind === 'direct',
    team_id: null,
    member_ids: memberIds,
    last_seq: 0,
    event_seq: 0,
    unread_count: 0,
    unread_mentions: 0,
    archived: false,
    role: 'member',
    muted: false,
  }
}

const people: ChatUser[] = ['ana', 'bia'].map((id) => ({ id, name: id, email: `${id}@x`, avatar_url: null }) as ChatUser)

beforeEach(() => {
  root = document.createElement('div')
  document.body.append(root)
})

afterEach(() => {
  app?.unmount()
  app = undefined
  root.remove()
})

describe('presence dots', () => {
  it('show on a direct room’s avatar: green online, amber away, none offline', async () => {
    const rooms = [room('general', 'channel', ['me', 'ana']), room('dm', 'direct', ['me', 'ana'])]
    const api = { rooms: vi.fn(async () => rooms), users: vi.fn(async () => ({ items: people, next_cursor: null })) }
    const chat = createChat({ api: api as unknown as ChatOptions['api'], me: 'me' })
    await chat.start()
    app = createApp({ render: () => h(RoomList, { chat, selected: null }) })
    app.mount(root)
    expect(dots()).toHaveLength(0)

    chat.applyFrame({ type: 'presence', room_id: null, seq: null, data: { online: ['ana'], away: [] } })
    await nextTick()
    expect(dots()).toHaveLength(1)
    expect(itemOf('dm').querySelector('[data-testid="presence-dot"]')!.getAttribute('data-status')).toBe('online')
    expect(itemOf('general').querySelector('[data-testid="presence-dot"]')).toBeNull()

    chat.applyFrame({ type: 'presence', room_id: null, seq: null, data: { user_id: 'ana', status: 'away' } })
    await nextTick()
    expect(dots()[0]!.getAttribute('data-status')).toBe('away')
    expect(dots()[0]!.title).toBe('Away')

    chat.applyFrame({ type: 'presence', room_id: null, seq: null, data: { user_id: 'ana', status: 'offline' } })
    await nextTick()
    expect(dots()).toHaveLength(0)
    chat.stop()
  })

  it('show in the people picker for whoever is online', () => {
    const status: Record<string, 'online'> = { bia: 'online' }
    app = createApp({ render: () => h(PeoplePicker, { people, label: 'People', presenceOf: (id: string) => status[id] }) })
    app.mount(root)
    const shown = dots()
    expect(shown).toHaveLength(1)
    expect(shown[0]!.closest('[data-testid="person-option"]')!.textContent).toContain('bia')
    expect(shown[0]!.textContent).toBe('online')
  })
})
