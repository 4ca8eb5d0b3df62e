import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp, nextTick, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from './App.vue'
import { createAppRouter } from './router'

let app: VueApp
let root: HTMLElement

async function mountAt(path: string) {
  const router = createAppRouter(createMemoryHistory())
  app = createApp(App).use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)
  return router
}

function byTestId(id: string) {
  return root.querySelector<HTMLElement>(`[data-testid="${id}"]`)
}

beforeEach(() => {
  root = document.createElement('div')
  document.body.append(root)
})

afterEach(() => {
  app.unmount()
  root.remove()
})

describe('App shell', () => {
  it('renders the sidebar with its three nav items', async () => {
    await mountAt('/kanban')

    expect(byTestId('app-shell')).not.toBeNull()
    expect(byTestId('sidebar')).not.toBeNull()
    const nav = [...root.querySelectorAll('nav a')].map((a) => [
      a.getAttribute('data-testid'),
      a.getAttribute('href'),
      a.textContent?.trim(),
    ])
    expect(nav).toEqual([
      ['nav-kanban', '/kanban', 'Kanban'],
      ['nav-chat', '/chat', 'Team chat'],
      ['nav-settings', '/settings', 'Settings'],
    ])
    expect(byTestId('theme-toggle')).not.toBeNull()
  })

  it('shows the current page title and marks the active item', async () => {
    const router = await mountAt('/kanban')
    expect(byTestId('page-title')?.textContent).toBe('Kanban')
    expect(byTestId('nav-kanban')?.classList.contains('is-active')).toBe(true)

    await router.push('/settings')
    await nextTick()
    expect(byTestId('page-title')?.textContent).toBe('Settings')
    expect(byTestId('nav-settings')?.classList.contains('is-active')).toBe(true)
    expect(byTestId('nav-kanban')?.classList.contains('is-active')).toBe(false)
    expect(document.title).toBe('Settings · Whatpro Hub')
  })

  it('redirects / to /kanban and shows a not-found page for unknown paths', async () => {
    const router = await mountAt('/')
    expect(router.currentRoute.value.path).toBe('/kanban')

    await router.push('/no/such/page')
    await nextTick()
    expect(byTestId('page-title')?.textContent).toBe('Not found')
  })
})
