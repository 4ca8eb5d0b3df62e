import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { mountChat, textOf, typeInto, type MountedChat } from '../../test/chatHarness'

let ui: MountedChat

afterEach(() => {
  ui?.unmount()
})

const puts = () => ui.hub.calls.filter((c) => c.method === 'PUT' && c.path.endsWith('/chat/settings'))

function select(id: string, value: string) {
  const el = ui.testId(id) as HTMLSelectElement
  el.value = value
  el.dispatchEvent(new Event('change'))
}

describe('Settings › Team chat', () => {
  it('sets how long messages are kept: a period, or a number of days within 1 to 3650', async () => {
    ui = await mountChat('/settings/chat', (h) => {
      h.chat.settings = { retention_days: 45 }
    })
    await vi.waitFor(() => expect(ui.testId('retention-days')).not.toBeNull())
    expect(textOf(ui.testId('settings-nav-chat'))).toBe('Team chat')
    // A stored number that is not one of the periods shows as typed days.
    expect((ui.testId('retention-select') as HTMLSelectElement).value).toBe('custom')
    expect((ui.testId('retention-days') as HTMLInputElement).value).toBe('45')
    const save = ui.testId('retention-save') as HTMLButtonElement
    expect(save.disabled).toBe(true)

    select('retention-select', '90')
    await nextTick()
    expect(ui.testId('retention-days')).toBeNull()
    save.click()
    await vi.waitFor(() => expect(ui.testId('retention-saved')).not.toBeNull())
    expect(puts().map((c) => c.body)).toEqual([{ retention_days: 90 }])
    expect(textOf(ui.testId('retention-saved'))).toMatch(/older than 90 days are deleted within the hour/)

    select('retention-select', 'custom')
    await nextTick()
    typeInto(ui.testId('retention-days') as HTMLInputElement, '4000')
    await nextTick()
    expect(textOf(ui.root.querySelector('[data-testid="chat-retention"] .message.is-error'))).toBe('Enter 1 to 3,650 days.')
    expect(save.disabled).toBe(true)
    typeInto(ui.testId('retention-days') as HTMLInputElement, '400')
    await nextTick()
    save.click()
    await vi.waitFor(() => expect(puts()).toHaveLength(2))
    expect(puts()[1]!.body).toEqual({ retention_days: 400 })

    select('retention-select', '')
    await nextTick()
    save.click()
    await vi.waitFor(() => expect(puts()).toHaveLength(3))
    expect(puts()[2]!.body).toEqual({ retention_days: null })
    await vi.waitFor(() => expect(textOf(ui.testId('retention-saved'))).toBe('Messages are kept forever.'))
  })

  it("erases a person's messages after their name is typed, and shows what was erased", async () => {
    ui = await mountChat('/settings/chat', (h) => {
      const room = h.addRoom({ kind: 'channel', name: 'general' }, ['user-1', 'user-2'])
      h.addMessage(room.id, 'user-2', 'mine')
      h.addMessage(room.id, 'user-2', 'also mine')
      h.addMessage(room.id, 'user-1', 'not theirs')
    })
    await vi.waitFor(() => expect(ui.allTestId('person-option').length).toBe(3))
    // Everyone, deactivated people included.
    expect(ui.hub.calls.some((c) => c.path.endsWith('/users?limit=200'))).toBe(true)
    const start = ui.testId('erasure-start') as HTMLButtonElement
    expect(start.disabled).toBe(true)
    const bruno = ui.allTestId('person-option').find((el) => textOf(el).includes('Bruno Agent'))!
    const box = bruno.querySelector('input')!
    box.checked = true
    box.dispatchEvent(new Event('change'))
    await nextTick()
    expect(textOf(start)).toBe("Erase Bruno Agent's messages…")
    start.click()
    await vi.waitFor(() => expect(ui.testId('erasure-confirm-input')).not.toBeNull())
    const confirm = ui.testId('erasure-confirm') as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    typeInto(ui.testId('erasure-confirm-input') as HTMLInputElement, 'Bruno')
    await nextTick()
    expect(confirm.disabled).toBe(true)
    typeInto(ui.testId('erasure-confirm-input') as HTMLInputElement, ' bruno agent ')
    await nextTick()
    expect(confirm.disabled).toBe(false)
    confirm.click()
    await vi.waitFor(() => expect(ui.testId('erasure-result')).not.toBeNull())
    expect(ui.hub.calls.filter((c) => c.path.endsWith('/chat/erasures')).map((c) => c.body)).toEqual([{ user_id: 'user-2' }])
    expect(textOf(ui.testId('erasure-result'))).toBe('Bruno Agent: 2 messages erased and 1 reaction removed.')
    expect(ui.hub.chat.messages.filter((m) => m.deleted).map((m) => m.author_id)).toEqual(['user-2', 'user-2'])
  })

  it('is not offered to agents, nor on a plan without the team chat', async () => {
    ui = await mountChat('/settings/chat', () => {}, { role: 'agent' })
    await vi.waitFor(() => expect(ui.router.currentRoute.value.name).toBe('settings-profile'))
    expect(ui.testId('settings-nav-chat')).toBeNull()
    expect(ui.hub.calls.some((c) => c.path.includes('/chat/settings'))).toBe(false)
    ui.unmount()

    ui = await mountChat('/settings/chat', () => {}, { chatEnabled: false })
    await vi.waitFor(() => expect(ui.router.currentRoute.value.name).toBe('not-available'))
    await ui.router.push('/settings/profile')
    await vi.waitFor(() => expect(ui.testId('settings-nav-api-keys')).not.toBeNull())
    expect(ui.testId('settings-nav-chat')).toBeNull()
    expect(ui.hub.calls.some((c) => c.path.includes('/chat/settings'))).toBe(false)
  })
})
