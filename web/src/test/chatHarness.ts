/**
 * The app mounted on the fake chat hub (fakeChat.ts), signed in, for the chat page's unit
 * tests: the realtime socket and file uploads go through fakes too (fakeWebSocket.ts,
 * fakeXhr.ts). `mounted.unmount()` undoes everything.
 */
import { vi } from 'vitest'
import { createApp, reactive, shallowRef } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../App.vue'
import { createAppRouter } from '../router'
import { setAuthHandler } from '../api/client'
import { authKey, createAuth } from '../auth/store'
import { bridgeKey, type Bridge } from '../embed/bridge'
import { fakeChat, type ChatOptions, type FakeChat } from './fakeChat'
import { FakeWebSocket } from './fakeWebSocket'
import { FakeXhr } from './fakeXhr'

const connectedBridge = () =>
  ({
    status: reactive({ phase: 'connected', reason: null }),
    appContext: shallowRef(null),
    start: vi.fn(),
    sessionEnded: vi.fn(),
    requestAppContext: vi.fn(),
    openConversation: vi.fn(),
    stop: vi.fn(),
  }) as unknown as Bridge

export async function mountChat(path: string, prepare: (hub: FakeChat) => void = () => {}, options: ChatOptions = {}) {
  const root = document.createElement('div')
  document.body.append(root)
  FakeWebSocket.reset()
  FakeXhr.reset()
  localStorage.clear()
  const hub = fakeChat(options)
  prepare(hub)
  vi.stubGlobal('fetch', hub.fetch)
  vi.stubGlobal('WebSocket', FakeWebSocket)
  vi.stubGlobal('XMLHttpRequest', FakeXhr)
  const auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  hub.refresh = 'refresh-0'
  hub.cookie = 'refresh-0'
  const router = createAppRouter(createMemoryHistory(), auth)
  const app = createApp(App).provide(authKey, auth).provide(bridgeKey, connectedBridge()).use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)

  const find = (selector: string, within: ParentNode = root) => within.querySelector<HTMLElement>(selector)
  const findAll = (selector: string, within: ParentNode = root) => [...within.querySelectorAll<HTMLElement>(selector)]
  return {
    root,
    hub,
    router,
    testId: (id: string, within: ParentNode = root) => find(`[data-testid="${id}"]`, within),
    allTestId: (id: string, within: ParentNode = root) => findAll(`[data-testid="${id}"]`, within),
    unmount() {
      app.unmount()
      auth.dispose()
      setAuthHandler(null)
      root.remove()
      vi.unstubAllGlobals()
    },
  }
}

export type MountedChat = Awaited<ReturnType<typeof mountChat>>

/** An element's text, spaces folded. */
export const textOf = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

/** Sets a field's value as typing would. */
export function typeInto(input: HTMLInputElement | HTMLTextAreaElement, value: string) {
  input.value = value
  if ('setSelectionRange' in input && input.type !== 'date' && input.type !== 'number') input.setSelectionRange(value.length, value.length)
  input.dispatchEvent(new Event('input'))
}

export function press(el: HTMLElement, key: string, init: KeyboardEventInit = {}) {
  el.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }))
}
