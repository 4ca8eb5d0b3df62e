import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App as VueApp } from 'vue'
import StageMenu from './StageMenu.vue'

let app: VueApp | undefined
let root: HTMLElement
const events = { edit: vi.fn(), add: vi.fn(), remove: vi.fn() }

const byTestId = (id: string) => root.querySelector<HTMLElement>(`[data-testid="${id}"]`)
const key = (key: string) => document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }))

function mount(canDelete = true) {
  app = createApp({
    render: () =>
      h(StageMenu, { stageName: 'New', canDelete, onEdit: events.edit, onAddAfter: events.add, onDelete: events.remove }),
  })
  app.mount(root)
}

beforeEach(() => {
  root = document.createElement('div')
  document.body.append(root)
  Object.values(events).forEach((fn) => fn.mockClear())
})

afterEach(() => {
  app?.unmount()
  app = undefined
  root.remove()
})

describe('StageMenu', () => {
  it('opens on the first item, moves with the arrows and picks with a click', async () => {
    mount()
    const button = byTestId('stage-menu-button')!
    expect(button.getAttribute('aria-expanded')).toBe('false')
    button.click()
    await nextTick()
    await nextTick()
    expect(button.getAttribute('aria-expanded')).toBe('true')
    expect(button.getAttribute('aria-controls')).toBe(byTestId('stage-menu')!.id)
    expect(document.activeElement).toBe(byTestId('stage-menu-edit'))
    key('ArrowDown')
    expect(document.activeElement).toBe(byTestId('stage-menu-add'))
    key('ArrowUp')
    key('ArrowUp')
    expect(document.activeElement).toBe(byTestId('stage-menu-delete'))
    byTestId('stage-menu-add')!.click()
    await nextTick()
    expect(events.add).toHaveBeenCalledOnce()
    expect(byTestId('stage-menu')).toBeNull()
  })

  it('closes on Escape (back to its button) and on a click elsewhere', async () => {
    mount()
    byTestId('stage-menu-button')!.click()
    await nextTick()
    await nextTick()
    key('Escape')
    await nextTick()
    expect(byTestId('stage-menu')).toBeNull()
    expect(document.activeElement).toBe(byTestId('stage-menu-button'))
    byTestId('stage-menu-button')!.click()
    await nextTick()
    document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }))
    await nextTick()
    expect(byTestId('stage-menu')).toBeNull()
    expect(events.edit).not.toHaveBeenCalled()
  })

  it('does not offer to delete the last stage', async () => {
    mount(false)
    byTestId('stage-menu-button')!.click()
    await nextTick()
    await nextTick()
    expect((byTestId('stage-menu-delete') as HTMLButtonElement).disabled).toBe(true)
    key('ArrowUp')
    expect(document.activeElement).toBe(byTestId('stage-menu-add'))
  })
})
