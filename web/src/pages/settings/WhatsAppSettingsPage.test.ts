import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { minutesBefore } from '../../test/clock'
import { FakeEventSource } from '../../test/fakeEventSource'
import {
  CAPABILITIES,
  demoInstance,
  demoProvider,
  fakeWhatsApp,
  PAIRING_CODE,
  qrImage,
  type FakeWhatsApp,
  type WhatsAppOptions,
} from '../../test/fakeWhatsApp'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeWhatsApp
let auth: Auth

/** Mounts the app signed in at `path`; `prepare` sets up the fake hub first. */
async function mountAt(path = '/settings/whatsapp', options: WhatsAppOptions = {}, prepare: (h: FakeWhatsApp) => void = () => {}) {
  hub = fakeWhatsApp(options)
  prepare(hub)
  vi.stubGlobal('fetch', hub.fetch)
  hub.refresh = 'refresh-0'
  hub.cookie = 'refresh-0'
  auth = createAuth({ channel: null, locks: null })
  setAuthHandler(auth.handler)
  const router = createAppRouter(createMemoryHistory(), auth)
  app = createApp(App).provide(authKey, auth).use(router)
  await router.push(path)
  await router.isReady()
  app.mount(root)
  return router
}

const byTestId = (id: string, within: ParentNode = root) => within.querySelector<HTMLElement>(`[data-testid="${id}"]`)
const allByTestId = (id: string, within: ParentNode = root) => [...within.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)]
const text = (id: string, within?: ParentNode) => byTestId(id, within)?.textContent?.replace(/\s+/g, ' ').trim()

function instanceRow(name: string) {
  return root.querySelector<HTMLElement>(`[data-testid="instance-row"][data-instance-name="${name}"]`)
}

function providerRow(name: string) {
  return root.querySelector<HTMLElement>(`[data-testid="provider-row"][data-provider-name="${name}"]`)
}

async function loaded() {
  await vi.waitFor(() => {
    expect(byTestId('instances-table') ?? byTestId('instances-empty')).not.toBeNull()
    expect(byTestId('providers-table') ?? byTestId('providers-empty')).not.toBeNull()
    expect(byTestId('instances-usage')).not.toBeNull()
  })
}

function setInput(id: string, value: string, within: ParentNode = root) {
  const input = byTestId(id, within) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
}

function setSelect(id: string, value: string, within: ParentNode = root) {
  const select = byTestId(id, within) as HTMLSelectElement
  select.value = value
  select.dispatchEvent(new Event('change'))
}

async function click(id: string, within?: ParentNode) {
  const target = byTestId(id, within)
  if (!target) throw new Error(`nothing to click: ${id}`)
  target.click()
  await nextTick()
}

async function submit(formId: string) {
  ;(byTestId(formId) as HTMLFormElement).requestSubmit()
  await nextTick()
}

/** Runs the fake timers `ms` on and lets the answers they asked for come back. */
async function after(ms: number) {
  await vi.advanceTimersByTimeAsync(ms)
  await nextTick()
}

const posts = (suffix: string) => hub.calls.filter((c) => c.method === 'POST' && c.path.endsWith(suffix))
const gets = (suffix: string) => hub.calls.filter((c) => c.method === 'GET' && c.path.endsWith(suffix))
const isOpen = (id: string) => byTestId(id)?.hasAttribute('open') === true

beforeEach(() => {
  root = document.createElement('div')
  document.body.append(root)
})

afterEach(() => {
  app?.unmount()
  app = undefined
  auth?.dispose()
  setAuthHandler(null)
  root.remove()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

describe('Settings → WhatsApp', () => {
  it('is in the settings navigation and titled, and lists the servers and numbers with their status', async () => {
    await mountAt()
    await loaded()
    expect(byTestId('settings-nav-whatsapp')?.classList.contains('is-active')).toBe(true)
    expect(text('settings-nav-whatsapp')).toBe('WhatsApp')
    expect(document.title).toBe('WhatsApp · Settings · Whatpro Hub')

    const server = providerRow('Demo Evolution')!
    expect(text('provider-type', server)).toBe('Evolution API')
    expect(text('provider-base-url', server)).toBe('http://evolution.test')
    expect(text('provider-status', server)).toBe('OK')
    expect(server.dataset.status).toBe('ok')
    expect(text('provider-checked', server)).toBe('Checked 5 minutes ago')
    expect(text('provider-credentials', server)).toBe('Key …ests')
    expect(text('providers-usage')).toBe('1 of 3 servers')

    const number = instanceRow('demo-sales')!
    expect(number.dataset.status).toBe('disconnected')
    expect(text('instance-status', number)).toBe('Disconnected')
    expect(text('instance-provider-status', number)).toBe('close')
    expect(text('instance-provider', number)).toBe('Demo Evolution')
    expect(text('instance-phone', number)).toBe('No number yet')
    expect(text('instance-last-event', number)).toBe('30 minutes ago')
    expect(text('instances-usage')).toBe('1 of 3 numbers')
  })

  it('agents read the status only; supervisors may also check a number', async () => {
    const router = await mountAt('/settings/whatsapp', { role: 'agent' })
    await loaded()
    expect(router.currentRoute.value.name).toBe('settings-whatsapp')
    expect(byTestId('settings-nav-whatsapp')).not.toBeNull()
    expect(text('whatsapp-read-only')).toBe('Only administrators can add, connect or remove numbers and servers.')
    expect(text('instance-status', instanceRow('demo-sales')!)).toBe('Disconnected')
    expect(text('provider-status', providerRow('Demo Evolution')!)).toBe('OK')
    for (const id of [
      'provider-add',
      'provider-check',
      'provider-edit',
      'provider-delete',
      'instance-add',
      'instance-connect',
      'instance-logout',
      'instance-delete',
      'instance-check',
      'instance-link-inbox',
    ]) {
      expect(byTestId(id), id).toBeNull()
    }
    expect(byTestId('instance-history')).not.toBeNull()
    app!.unmount()
    auth.dispose()

    await mountAt('/settings/whatsapp', { role: 'supervisor' }, (h) => {
      h.whatsapp.instances[0]!.status = 'qr_pending'
      h.scan('demo-sales', '5511987654321')
    })
    await loaded()
    expect(byTestId('whatsapp-read-only')).not.toBeNull()
    for (const id of ['provider-add', 'provider-check', 'provider-edit', 'provider-delete', 'instance-add', 'instance-connect', 'instance-logout', 'instance-delete']) {
      expect(byTestId(id), id).toBeNull()
    }
    expect(text('instance-status')).toBe('Waiting for scan')
    await click('instance-check')
    await vi.waitFor(() => expect(text('instance-status')).toBe('Connected'))
    expect(text('instance-phone')).toBe('+5511987654321')
    expect(text('whatsapp-notice')).toBe('“demo-sales”: connected.')
    expect(posts('/instances/instance-1/check')).toHaveLength(1)
  })

  it('admins see every action', async () => {
    await mountAt()
    await loaded()
    expect(byTestId('whatsapp-read-only')).toBeNull()
    const number = instanceRow('demo-sales')!
    for (const id of ['instance-connect', 'instance-check', 'instance-history', 'instance-link-inbox', 'instance-delete']) {
      expect(byTestId(id, number), id).not.toBeNull()
    }
    // Nothing to log out of yet.
    expect(byTestId('instance-logout', number)).toBeNull()
    const server = providerRow('Demo Evolution')!
    for (const id of ['provider-check', 'provider-edit', 'provider-delete']) expect(byTestId(id, server), id).not.toBeNull()
    expect(byTestId('provider-add')).not.toBeNull()
    expect(byTestId('instance-add')).not.toBeNull()
  })

  it('adds an Evolution server: the fields follow the type, credentials are passwords', async () => {
    await mountAt()
    await loaded()
    await click('provider-add')
    const dialog = byTestId('provider-dialog')!
    expect(isOpen('provider-dialog')).toBe(true)
    expect((byTestId('provider-form-type', dialog) as HTMLSelectElement).value).toBe('evolution')
    const types = [...(byTestId('provider-form-type', dialog) as HTMLSelectElement).options].map((o) => o.textContent)
    expect(types).toEqual(['Evolution API', 'WAHA', 'UazAPI', 'Z-API', 'WhatsApp Cloud API'])
    expect((byTestId('provider-form-api_key', dialog) as HTMLInputElement).type).toBe('password')

    setSelect('provider-form-type', 'cloud_api', dialog)
    await nextTick()
    expect(byTestId('provider-form-api_key', dialog)).toBeNull()
    expect((byTestId('provider-form-access_token', dialog) as HTMLInputElement).type).toBe('password')
    expect((byTestId('provider-form-app_secret', dialog) as HTMLInputElement).type).toBe('password')
    setSelect('provider-form-type', 'uazapi', dialog)
    await nextTick()
    expect(dialog.textContent).toContain('Admin token')
    setSelect('provider-form-type', 'zapi', dialog)
    await nextTick()
    expect(dialog.textContent).toContain('Client token')
    setSelect('provider-form-type', 'evolution', dialog)
    await nextTick()

    // Checked here first: nothing is sent while a field is missing or wrong.
    await submit('provider-form')
    expect(byTestId('provider-form-name', dialog)?.getAttribute('aria-invalid')).toBe('true')
    expect(byTestId('provider-form-api_key', dialog)?.getAttribute('aria-invalid')).toBe('true')
    setInput('provider-form-name', 'Main Evolution', dialog)
    setInput('provider-form-base-url', 'ftp://evolution.example.com', dialog)
    setInput('provider-form-api_key', 'global-key-1234', dialog)
    await submit('provider-form')
    expect(dialog.textContent).toContain('Use an http:// or https:// address.')
    expect(posts('/providers')).toHaveLength(0)

    setInput('provider-form-base-url', ' https://evolution.example.com/ ', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(isOpen('provider-dialog')).toBe(false))
    expect(posts('/providers').map((c) => c.body)).toEqual([
      { type: 'evolution', name: 'Main Evolution', base_url: 'https://evolution.example.com', credentials: { api_key: 'global-key-1234' } },
    ])
    const added = providerRow('Main Evolution')!
    expect(text('provider-credentials', added)).toBe('Key …1234')
    expect(text('whatsapp-notice')).toBe('Added “Main Evolution”. The server answered and took its credentials.')
    await vi.waitFor(() => expect(text('providers-usage')).toBe('2 of 3 servers'))
  })

  it("shows the hub's refusals of a server on the field they are about", async () => {
    await mountAt('/settings/whatsapp', {}, (h) => (h.whatsapp.unsupportedTypes = ['waha']))
    await loaded()
    await click('provider-add')
    const dialog = byTestId('provider-dialog')!
    setInput('provider-form-name', 'Second', dialog)
    setInput('provider-form-base-url', 'https://evolution.example.com', dialog)
    setInput('provider-form-api_key', 'wrong-key', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(byTestId('provider-form-api_key', dialog)?.getAttribute('aria-invalid')).toBe('true'))
    expect(dialog.textContent).toContain('The server refused these credentials.')
    expect(byTestId('provider-form-base-url', dialog)?.getAttribute('aria-invalid')).toBeNull()

    // Unreachable: on the URL.
    setInput('provider-form-base-url', 'https://unreachable.example.com', dialog)
    setInput('provider-form-api_key', 'right-key', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(byTestId('provider-form-base-url', dialog)?.getAttribute('aria-invalid')).toBe('true'))
    expect(dialog.textContent).toContain('The hub could not reach the server at this URL, or it did not answer as Evolution API does.')
    expect(byTestId('provider-form-api_key', dialog)?.getAttribute('aria-invalid')).toBeNull()

    // A type without an adapter: on the type.
    setSelect('provider-form-type', 'waha', dialog)
    await nextTick()
    setInput('provider-form-base-url', 'https://waha.example.com', dialog)
    setInput('provider-form-api_key', 'waha-key', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(byTestId('provider-form-type', dialog)?.getAttribute('aria-invalid')).toBe('true'))
    expect(dialog.textContent).toContain('This hub cannot drive WAHA servers yet.')

    // A name in use: on the name.
    setSelect('provider-form-type', 'evolution', dialog)
    await nextTick()
    setInput('provider-form-name', 'Demo Evolution', dialog)
    setInput('provider-form-api_key', 'right-key', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(byTestId('provider-form-name', dialog)?.getAttribute('aria-invalid')).toBe('true'))
    expect(dialog.textContent).toContain('Another server of this account already has this name.')

    // Field errors of a 422 go next to their fields.
    const original = hub.fetch.getMockImplementation()!
    hub.fetch.mockImplementation(async (input, init) =>
      String(input).endsWith('/providers') && init?.method === 'POST'
        ? new Response(
            JSON.stringify({
              status: 422,
              code: 'validation_failed',
              title: 'Unprocessable Entity',
              detail: 'The request has invalid fields.',
              errors: [
                { field: 'base_url', message: 'must be an http(s) URL without credentials, query or fragment' },
                { field: 'credentials.api_key', message: 'must be given, as text' },
              ],
            }),
            { status: 422 },
          )
        : original(input, init),
    )
    setInput('provider-form-name', 'Third', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(dialog.textContent).toContain('Must be an http(s) URL without credentials, query or fragment.'))
    expect(dialog.textContent).toContain('Must be given, as text.')
    expect(byTestId('provider-form-error', dialog)).toBeNull()
    expect(isOpen('provider-dialog')).toBe(true)
    expect(providerRow('Third')).toBeNull()
  })

  it('a plan with no room for another server or number says how many it allows', async () => {
    await mountAt('/settings/whatsapp', {}, (h) => {
      h.whatsapp.maxProviders = 1
      h.whatsapp.maxInstances = 1
    })
    await loaded()
    expect(text('providers-usage')).toBe('1 of 1 server')
    expect(text('instances-usage')).toBe('1 of 1 number')
    expect(byTestId('instances-usage')?.classList.contains('is-full')).toBe(true)

    await click('provider-add')
    setInput('provider-form-name', 'Second')
    setInput('provider-form-base-url', 'https://evolution2.example.com')
    setInput('provider-form-api_key', 'key-2')
    await submit('provider-form')
    await vi.waitFor(() => expect(byTestId('provider-form-error')).not.toBeNull())
    expect(text('provider-form-error')).toBe('Your plan allows 1 server. Delete one you no longer use, or upgrade the plan in Settings → Billing.')
    byTestId('provider-dialog')!.querySelector<HTMLButtonElement>('.foot button')!.click()
    await vi.waitFor(() => expect(isOpen('provider-dialog')).toBe(false))

    await click('instance-add')
    setInput('instance-form-name', 'support')
    await submit('instance-form')
    await vi.waitFor(() => expect(byTestId('instance-form-error')).not.toBeNull())
    expect(text('instance-form-error')).toBe('Your plan allows 1 number. Delete one you no longer use, or upgrade the plan in Settings → Billing.')
  })

  it('edits a server: empty credentials keep the stored ones, new ones are sent', async () => {
    await mountAt()
    await loaded()
    await click('provider-edit', providerRow('Demo Evolution')!)
    const dialog = byTestId('provider-dialog')!
    expect(text('provider-dialog')).toContain('Edit Demo Evolution')
    expect((byTestId('provider-form-type', dialog) as HTMLSelectElement).disabled).toBe(true)
    expect((byTestId('provider-form-name', dialog) as HTMLInputElement).value).toBe('Demo Evolution')
    expect((byTestId('provider-form-base-url', dialog) as HTMLInputElement).value).toBe('http://evolution.test')
    expect((byTestId('provider-form-api_key', dialog) as HTMLInputElement).value).toBe('')
    expect(dialog.textContent).toContain('Leave empty to keep the current one (…ests).')

    setInput('provider-form-name', 'Evolution (main)', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(isOpen('provider-dialog')).toBe(false))
    expect(hub.calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ name: 'Evolution (main)' }])
    expect(text('whatsapp-notice')).toBe('Saved “Evolution (main)”.')

    await click('provider-edit', providerRow('Evolution (main)')!)
    setInput('provider-form-api_key', 'new-global-key-9876')
    await submit('provider-form')
    await vi.waitFor(() => expect(isOpen('provider-dialog')).toBe(false))
    expect(hub.calls.filter((c) => c.method === 'PATCH').at(-1)?.body).toEqual({ credentials: { api_key: 'new-global-key-9876' } })
    expect(text('provider-credentials')).toBe('Key …9876')
  })

  it('checks a server now and shows what it found', async () => {
    await mountAt('/settings/whatsapp', {}, (h) => (h.whatsapp.checkOutcome = 'unreachable'))
    await loaded()
    await click('provider-check', providerRow('Demo Evolution')!)
    await vi.waitFor(() => expect(text('provider-status')).toBe('Unreachable'))
    expect(text('provider-checked')).toBe('Checked just now')
    expect(byTestId('whatsapp-notice')?.dataset.tone).toBe('warning')
    expect(text('whatsapp-notice')).toBe('“Demo Evolution” could not be reached. Check that the server is up and its address.')

    hub.whatsapp.checkOutcome = 'credentials_invalid'
    await click('provider-check')
    await vi.waitFor(() => expect(text('provider-status')).toBe('Credentials invalid'))

    hub.whatsapp.checkOutcome = 'ok'
    await click('provider-check')
    await vi.waitFor(() => expect(text('provider-status')).toBe('OK'))
    expect(text('whatsapp-notice')).toBe('“Demo Evolution” answered and took its credentials.')
  })

  it('deletes a server only once it has no numbers, after confirming', async () => {
    await mountAt()
    await loaded()
    await click('provider-delete', providerRow('Demo Evolution')!)
    expect(isOpen('delete-provider-dialog')).toBe(true)
    expect(text('delete-provider-dialog')).toContain('Delete “Demo Evolution”?')
    await click('confirm-button', byTestId('delete-provider-dialog')!)
    await vi.waitFor(() =>
      expect(byTestId('delete-provider-dialog')!.textContent).toContain('This server still has 1 number. Delete it first, then the server.'),
    )
    expect(providerRow('Demo Evolution')).not.toBeNull()
    byTestId('delete-provider-dialog')!.querySelector<HTMLButtonElement>('.foot button')!.click()
    await vi.waitFor(() => expect(isOpen('delete-provider-dialog')).toBe(false))

    // Delete the number, then the server.
    await click('instance-delete', instanceRow('demo-sales')!)
    expect(text('delete-instance-dialog')).toContain('Delete “demo-sales”?')
    await click('confirm-button', byTestId('delete-instance-dialog')!)
    await vi.waitFor(() => expect(instanceRow('demo-sales')).toBeNull())
    expect(text('whatsapp-notice')).toBe('Deleted “demo-sales”.')
    await vi.waitFor(() => expect(text('instances-usage')).toBe('0 of 3 numbers'))
    expect(byTestId('instances-empty')).not.toBeNull()

    await click('provider-delete', providerRow('Demo Evolution')!)
    await click('confirm-button', byTestId('delete-provider-dialog')!)
    await vi.waitFor(() => expect(providerRow('Demo Evolution')).toBeNull())
    expect(text('whatsapp-notice')).toBe('Deleted “Demo Evolution”.')
    expect(hub.whatsappCalls().filter((c) => c.startsWith('DELETE'))).toEqual([
      'DELETE /providers/provider-1',
      'DELETE /instances/instance-1',
      'DELETE /providers/provider-1',
    ])
    expect(byTestId('providers-empty')).not.toBeNull()
    expect((byTestId('instance-add') as HTMLButtonElement).disabled).toBe(true)
  })

  it('cancelling a confirmation changes nothing', async () => {
    await mountAt()
    await loaded()
    await click('instance-delete', instanceRow('demo-sales')!)
    byTestId('delete-instance-dialog')!.querySelector<HTMLButtonElement>('.foot button')!.click()
    await vi.waitFor(() => expect(isOpen('delete-instance-dialog')).toBe(false))
    expect(instanceRow('demo-sales')).not.toBeNull()
    expect(hub.whatsappCalls().filter((c) => c.startsWith('DELETE'))).toEqual([])
  })

  it('adds a number: checks its name here, then on the server', async () => {
    await mountAt()
    await loaded()
    await click('instance-add')
    const dialog = byTestId('instance-dialog')!
    expect((byTestId('instance-form-provider', dialog) as HTMLSelectElement).value).toBe('provider-1')
    expect(text('instance-form-provider', dialog)).toBe('Demo Evolution (Evolution API)')
    setInput('instance-form-name', 'sales team', dialog)
    await submit('instance-form')
    expect(dialog.textContent).toContain('Use only letters, digits, - and _ (no spaces or accents).')
    expect(posts('/instances')).toHaveLength(0)

    setInput('instance-form-name', 'sales_2', dialog)
    await submit('instance-form')
    await vi.waitFor(() => expect(isOpen('instance-dialog')).toBe(false))
    expect(posts('/instances').map((c) => c.body)).toEqual([{ provider_id: 'provider-1', name: 'sales_2' }])
    const row = instanceRow('sales_2')!
    expect(text('instance-status', row)).toBe('Disconnected')
    expect(text('instance-provider', row)).toBe('Demo Evolution')
    expect(text('whatsapp-notice')).toBe('Added “sales_2”. Connect it to start using it.')
    await vi.waitFor(() => expect(text('instances-usage')).toBe('2 of 3 numbers'))
  })

  it('connects by QR: shows the image, reads the rotated QR before it expires, and turns connected when the phone scans', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] })
    await mountAt()
    await loaded()
    await click('instance-connect', instanceRow('demo-sales')!)
    const dialog = byTestId('connect-dialog')!
    expect(isOpen('connect-dialog')).toBe(true)
    expect(text('connect-dialog')).toContain('Connect “demo-sales”')
    expect((byTestId('connect-method-qr', dialog) as HTMLInputElement).checked).toBe(true)
    expect(byTestId('connect-phone', dialog)).toBeNull()
    expect(text('connect-start', dialog)).toBe('Show QR code')
    await click('connect-start', dialog)

    await vi.waitFor(() => expect(byTestId('connect-qr', dialog)).not.toBeNull())
    expect(byTestId('connect-qr', dialog)!.getAttribute('src')).toBe(qrImage(1))
    expect(posts('/instances/instance-1/connect').map((c) => c.body)).toEqual([{ method: 'qr' }])
    expect(text('connect-status', dialog)).toBe('Waiting for scan')
    // The list behind follows.
    expect(text('instance-status', instanceRow('demo-sales')!)).toBe('Waiting for scan')

    // Every 5 s the status is checked; a little before the QR expires (`expires_at`: 45 s
    // for Evolution) the current one is read with GET …/qr, never by connecting again.
    for (const checks of [1, 2, 3, 4, 5, 6, 7, 8]) {
      await after(5_000)
      await vi.waitFor(() => expect(posts('/instances/instance-1/check')).toHaveLength(checks))
    }
    expect(gets('/instances/instance-1/qr')).toHaveLength(0)
    await after(2_000)
    await vi.waitFor(() => expect(byTestId('connect-qr', dialog)!.getAttribute('src')).toBe(qrImage(2)))
    expect(gets('/instances/instance-1/qr')).toHaveLength(1)
    expect(posts('/instances/instance-1/connect')).toHaveLength(1)
    // The next read follows the new QR's expiry.
    await after(40_000)
    expect(gets('/instances/instance-1/qr')).toHaveLength(1)
    await after(2_000)
    await vi.waitFor(() => expect(byTestId('connect-qr', dialog)!.getAttribute('src')).toBe(qrImage(3)))
    expect(gets('/instances/instance-1/qr')).toHaveLength(2)
    expect(posts('/instances/instance-1/connect')).toHaveLength(1)

    // The phone scans: the next check finds it connected.
    hub.scan('demo-sales')
    vi.advanceTimersByTime(5_000)
    await vi.waitFor(() => expect(byTestId('connect-success', dialog)).not.toBeNull())
    expect(text('connect-success', dialog)).toBe('Connected as +5511912345678. You can close this window.')
    expect(byTestId('connect-qr', dialog)).toBeNull()
    expect(text('whatsapp-notice')).toBe('“demo-sales” is connected as +5511912345678.')
    const row = instanceRow('demo-sales')!
    expect(text('instance-status', row)).toBe('Connected')
    expect(text('instance-phone', row)).toBe('+5511912345678')
    expect(byTestId('instance-connect', row)).toBeNull()
    expect(byTestId('instance-logout', row)).not.toBeNull()

    // It closes by itself, and stops asking.
    vi.advanceTimersByTime(3_000)
    await vi.waitFor(() => expect(isOpen('connect-dialog')).toBe(false))
    const asked = posts('/connect').length + posts('/check').length + gets('/qr').length
    vi.advanceTimersByTime(60_000)
    await nextTick()
    expect(posts('/connect').length + posts('/check').length + gets('/qr').length).toBe(asked)
  })

  it('a QR no longer shown (409 no_qr_shown) turns into a status check', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] })
    await mountAt('/settings/whatsapp', {}, (h) => {
      h.whatsapp.providers[0]!.capabilities = { ...CAPABILITIES.evolution!, qr_seconds: 10 }
    })
    await loaded()
    await click('instance-connect', instanceRow('demo-sales')!)
    const dialog = byTestId('connect-dialog')!
    await click('connect-start', dialog)
    await vi.waitFor(() => expect(byTestId('connect-qr', dialog)).not.toBeNull())
    await after(5_000)
    await vi.waitFor(() => expect(posts('/instances/instance-1/check')).toHaveLength(1))
    // The session ended on the provider's side before the QR's expiry: no QR is shown.
    hub.whatsapp.instances[0]!.status = 'disconnected'
    await after(2_000)
    await vi.waitFor(() => expect(gets('/instances/instance-1/qr')).toHaveLength(1))
    await vi.waitFor(() => expect(posts('/instances/instance-1/check')).toHaveLength(2))
    await vi.waitFor(() => expect(byTestId('connect-status', dialog)!.dataset.status).toBe('disconnected'))
    expect(posts('/instances/instance-1/connect')).toHaveLength(1)
    expect(byTestId('connect-error', dialog)).toBeNull()
  })

  it('closing the QR dialog stops the polling', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    await mountAt()
    await loaded()
    await click('instance-connect', instanceRow('demo-sales')!)
    await click('connect-start')
    await vi.waitFor(() => expect(byTestId('connect-qr')).not.toBeNull())
    await click('connect-close')
    await vi.waitFor(() => expect(isOpen('connect-dialog')).toBe(false))
    vi.advanceTimersByTime(60_000)
    await nextTick()
    expect(posts('/check')).toHaveLength(0)
    expect(posts('/connect')).toHaveLength(1)
  })

  it('a failed check keeps trying and says so', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    await mountAt()
    await loaded()
    await click('instance-connect', instanceRow('demo-sales')!)
    await click('connect-start')
    await vi.waitFor(() => expect(byTestId('connect-qr')).not.toBeNull())
    hub.whatsapp.failCheck = { status: 502, code: 'provider_unreachable' }
    vi.advanceTimersByTime(5_000)
    await vi.waitFor(() => expect(byTestId('connect-warning')).not.toBeNull())
    expect(text('connect-warning')).toMatch(/could not be reached.*Still trying…$/)
    hub.scan('demo-sales')
    vi.advanceTimersByTime(5_000)
    await vi.waitFor(() => expect(byTestId('connect-success')).not.toBeNull())
    expect(byTestId('connect-warning')).toBeNull()
  })

  it('connects by pairing code: checks the phone, shows the code big with Copy, and polls the status', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const writeText = vi.fn(async () => {})
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    await mountAt()
    await loaded()
    await click('instance-connect', instanceRow('demo-sales')!)
    const dialog = byTestId('connect-dialog')!
    ;(byTestId('connect-method-pairing_code', dialog) as HTMLInputElement).click()
    await nextTick()
    expect(text('connect-start', dialog)).toBe('Get pairing code')
    setInput('connect-phone', '11 9123', dialog)
    await submit('connect-form')
    expect(byTestId('connect-phone', dialog)?.getAttribute('aria-invalid')).toBe('true')
    expect(dialog.textContent).toContain('Use the whole number with its country code, e.g. 55 11 91234-5678.')
    expect(posts('/connect')).toHaveLength(0)

    setInput('connect-phone', '+55 (11) 91234-5678', dialog)
    await submit('connect-form')
    await vi.waitFor(() => expect(byTestId('connect-pairing-code', dialog)).not.toBeNull())
    expect(posts('/instances/instance-1/connect').map((c) => c.body)).toEqual([{ method: 'pairing_code', phone: '5511912345678' }])
    expect(text('connect-pairing-code', dialog)).toBe(PAIRING_CODE)
    expect(byTestId('connect-pairing-code', dialog)!.classList.contains('text-mono')).toBe(true)
    expect(byTestId('connect-qr', dialog)).toBeNull()
    expect(dialog.textContent).toContain('Link with phone number instead')

    await click('connect-copy', dialog)
    await vi.waitFor(() => expect(text('connect-copy', dialog)).toBe('Copied'))
    expect(writeText).toHaveBeenCalledWith(PAIRING_CODE)

    // The status every 5 s; no QR is asked for in this mode.
    for (const checks of [1, 2, 3, 4]) {
      await after(5_000)
      await vi.waitFor(() => expect(posts('/instances/instance-1/check')).toHaveLength(checks))
    }
    expect(posts('/connect')).toHaveLength(1)

    hub.scan('demo-sales', '5511912345678')
    vi.advanceTimersByTime(5_000)
    await vi.waitFor(() => expect(byTestId('connect-success', dialog)).not.toBeNull())
    expect(text('instance-status', instanceRow('demo-sales')!)).toBe('Connected')
  })

  it('switches from QR to pairing code in the dialog', async () => {
    await mountAt()
    await loaded()
    await click('instance-connect', instanceRow('demo-sales')!)
    await click('connect-start')
    await vi.waitFor(() => expect(byTestId('connect-qr')).not.toBeNull())
    expect(text('connect-back')).toBe('Use a pairing code instead')
    await click('connect-back')
    expect((byTestId('connect-method-pairing_code') as HTMLInputElement).checked).toBe(true)
    expect(byTestId('connect-phone')).not.toBeNull()
  })

  it('logs a number out after confirming', async () => {
    await mountAt('/settings/whatsapp', {}, (h) => {
      Object.assign(h.whatsapp.instances[0]!, { status: 'connected', provider_status: 'open', phone: '5511912345678' })
    })
    await loaded()
    const row = instanceRow('demo-sales')!
    expect(text('instance-status', row)).toBe('Connected')
    expect(byTestId('instance-connect', row)).toBeNull()
    await click('instance-logout', row)
    expect(text('logout-dialog')).toContain('Log “demo-sales” out?')
    expect(posts('/logout')).toHaveLength(0)
    await click('confirm-button', byTestId('logout-dialog')!)
    await vi.waitFor(() => expect(text('instance-status', instanceRow('demo-sales')!)).toBe('Disconnected'))
    expect(posts('/instances/instance-1/logout')).toHaveLength(1)
    expect(text('whatsapp-notice')).toBe('Logged “demo-sales” out. Connect it again to use it.')
    expect(isOpen('logout-dialog')).toBe(false)
    expect(byTestId('instance-logout', instanceRow('demo-sales')!)).toBeNull()
    expect(byTestId('instance-connect', instanceRow('demo-sales')!)).not.toBeNull()
  })

  it('shows the history of a number, folded changes counted', async () => {
    await mountAt('/settings/whatsapp', { role: 'agent' }, (h) => {
      h.whatsapp.history['instance-1'] = [
        {
          id: 'c-2',
          from_status: 'qr_pending',
          to_status: 'connected',
          raw: 'open',
          reason: 'check',
          source: 'check',
          changes: 1,
          first_at: minutesBefore(10),
          last_at: minutesBefore(10),
        },
        {
          id: 'c-1',
          from_status: 'disconnected',
          to_status: 'qr_pending',
          raw: 'connecting',
          reason: 'connect',
          source: 'user',
          changes: 3,
          first_at: minutesBefore(20),
          last_at: minutesBefore(12),
        },
      ]
    })
    await loaded()
    await click('instance-history', instanceRow('demo-sales')!)
    const dialog = byTestId('history-dialog')!
    await vi.waitFor(() => expect(allByTestId('history-entry', dialog)).toHaveLength(2))
    expect(text('history-dialog')).toContain('History of “demo-sales”')
    const [latest, earlier] = allByTestId('history-entry', dialog)
    expect(text('history-change', latest)).toBe('Waiting for scan → Connected')
    expect(byTestId('history-count', latest)).toBeNull()
    expect(text('history-reason', latest)).toBe('Check')
    expect(text('history-source', latest)).toBe('by a check')
    expect(text('history-change', earlier)).toBe('Disconnected → Waiting for scan')
    expect(text('history-count', earlier)).toBe('×3')
    expect(text('history-reason', earlier)).toBe('Connect')
    expect(text('history-source', earlier)).toBe('by a person')
    expect(text('history-raw', earlier)).toBe('connecting')
    expect(text('history-time', earlier)).toMatch(/ – /)
    expect(text('history-time', latest)).not.toMatch(/ – /)
    await click('history-done', dialog)
    await vi.waitFor(() => expect(isOpen('history-dialog')).toBe(false))
  })

  it('a number without history says so', async () => {
    await mountAt()
    await loaded()
    await click('instance-history', instanceRow('demo-sales')!)
    await vi.waitFor(() => expect(byTestId('history-empty')).not.toBeNull())
    expect(text('history-empty')).toBe('No changes yet.')
  })

  it('an account without servers says what to do first', async () => {
    await mountAt('/settings/whatsapp', { empty: true })
    await loaded()
    expect(text('providers-empty')).toBe('No provider servers yet. Add the server that runs your WhatsApp numbers.')
    expect(text('instances-empty')).toBe('No numbers yet. Add a provider server below, then a number on it.')
    expect((byTestId('instance-add') as HTMLButtonElement).disabled).toBe(true)
    expect(text('providers-usage')).toBe('0 of 3 servers')
  })

  it('follows status changes made elsewhere while the page is open', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    await mountAt()
    await loaded()
    Object.assign(hub.whatsapp.instances[0]!, { status: 'stale', provider_status: 'open' })
    vi.advanceTimersByTime(15_000)
    await vi.waitFor(() => expect(text('instance-status', instanceRow('demo-sales')!)).toBe('Stale'))
    expect(instanceRow('demo-sales')!.dataset.status).toBe('stale')
    expect(text('instance-provider-status', instanceRow('demo-sales')!)).toBe('open')
  })

  it("follows the live stream: a number's badge changes on instance.status_changed, servers on provider.status_changed", async () => {
    FakeEventSource.opened = []
    vi.stubGlobal('EventSource', FakeEventSource)
    await mountAt()
    await loaded()
    await vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(1))
    const stream = FakeEventSource.opened[0]!
    expect(stream.url).toBe('/api/v1/realtime/events?ticket=wpht_1')
    expect(posts('/realtime/tickets')).toHaveLength(1)

    // Subscribed: both lists are read again.
    const before = { providers: gets('/providers').length, instances: gets('/instances').length }
    stream.emit('ready')
    await vi.waitFor(() => {
      expect(gets('/providers')).toHaveLength(before.providers + 1)
      expect(gets('/instances')).toHaveLength(before.instances + 1)
    })

    // The phone connected elsewhere: the hub says so, the number is read again.
    const number = hub.whatsapp.instances[0]!
    Object.assign(number, { status: 'connected', provider_status: 'open', phone: '5511912345678' })
    expect(text('instance-status', instanceRow('demo-sales')!)).toBe('Disconnected')
    stream.emit(
      'account',
      JSON.stringify({ account_id: 'account-1', kind: 'instance.status_changed', data: { instance_id: number.id, status: 'connected' } }),
    )
    await vi.waitFor(() => expect(text('instance-status', instanceRow('demo-sales')!)).toBe('Connected'))
    expect(gets(`/instances/${number.id}`)).toHaveLength(1)
    expect(instanceRow('demo-sales')!.dataset.status).toBe('connected')
    expect(text('instance-phone', instanceRow('demo-sales')!)).toBe('+5511912345678')

    // A malformed event changes nothing.
    stream.emit('account', 'not json')
    stream.emit('account', JSON.stringify({ kind: 'instance.status_changed', data: { instance_id: number.id } }))

    // A server's status changed: the servers are read again.
    hub.whatsapp.providers[0]!.status = 'unreachable'
    const providerReads = gets('/providers').length
    stream.emit(
      'account',
      JSON.stringify({ account_id: 'account-1', kind: 'provider.status_changed', data: { provider_id: hub.whatsapp.providers[0]!.id, status: 'unreachable' } }),
    )
    await vi.waitFor(() => expect(providerRow('Demo Evolution')!.dataset.status).toBe('unreachable'))
    expect(gets('/providers')).toHaveLength(providerReads + 1)
    expect(gets(`/instances/${number.id}`)).toHaveLength(1)

    // Leaving the page closes the stream.
    app!.unmount()
    app = undefined
    expect(stream.closed).toBe(true)
  })

  it('the connect dialog finishes when the live stream says the number connected', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] })
    FakeEventSource.opened = []
    vi.stubGlobal('EventSource', FakeEventSource)
    await mountAt()
    await loaded()
    await vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(1))
    const stream = FakeEventSource.opened[0]!
    stream.emit('ready')
    await click('instance-connect', instanceRow('demo-sales')!)
    const dialog = byTestId('connect-dialog')!
    await click('connect-start', dialog)
    await vi.waitFor(() => expect(byTestId('connect-qr', dialog)).not.toBeNull())

    // The phone scans; before the next check (5 s) the provider's webhook is announced.
    const number = hub.whatsapp.instances[0]!
    Object.assign(number, { status: 'connected', provider_status: 'open', phone: '5511912345678' })
    stream.emit(
      'account',
      JSON.stringify({ account_id: 'account-1', kind: 'instance.status_changed', data: { instance_id: number.id, status: 'connected' } }),
    )
    await vi.waitFor(() => expect(byTestId('connect-success', dialog)).not.toBeNull())
    expect(text('connect-success', dialog)).toBe('Connected as +5511912345678. You can close this window.')
    expect(text('whatsapp-notice')).toBe('“demo-sales” is connected as +5511912345678.')
    expect(text('instance-status', instanceRow('demo-sales')!)).toBe('Connected')
    expect(posts('/instances/instance-1/check')).toHaveLength(0)

    // It closes by itself, and stops polling.
    await after(3_000)
    await vi.waitFor(() => expect(isOpen('connect-dialog')).toBe(false))
    await after(60_000)
    expect(posts('/check')).toHaveLength(0)
  })

  it('shows each status in words', async () => {
    const statuses = ['disconnected', 'connecting', 'qr_pending', 'connected', 'stale', 'failed']
    await mountAt('/settings/whatsapp', {}, (h) => {
      h.whatsapp.maxInstances = 10
      h.whatsapp.instances = statuses.map((status, i) => demoInstance({ id: `i-${i}`, name: `n-${status}`, status }))
    })
    await loaded()
    expect(allByTestId('instance-status').map((b) => b.textContent?.trim())).toEqual([
      'Disconnected',
      'Connecting',
      'Waiting for scan',
      'Connected',
      'Stale',
      'Failed',
    ])
  })
})

/** One server of every type, each with a connected number `n-<type>`. */
function everyType(h: FakeWhatsApp) {
  const types = ['evolution', 'waha', 'uazapi', 'zapi', 'cloud_api']
  Object.assign(h.whatsapp, { maxProviders: 10, maxInstances: 10 })
  h.whatsapp.providers = types.map((type) => demoProvider({ id: `p-${type}`, type, name: `Server ${type}` }))
  h.whatsapp.instances = types.map((type) =>
    demoInstance({ id: `i-${type}`, provider_id: `p-${type}`, name: `n-${type}`, status: 'connected', provider_status: 'open', phone: '5511912345678' }),
  )
}

/** A field's label, hint (or error) and input type. */
function field(id: string, within: ParentNode = root) {
  const input = byTestId(id, within) as HTMLInputElement | null
  if (!input) return null
  const message = input.getAttribute('aria-describedby')
  return {
    type: input.type,
    value: input.value,
    label: root.querySelector(`label[for="${input.id}"]`)?.textContent?.trim(),
    hint: message ? document.getElementById(message)?.textContent?.trim() : undefined,
  }
}

describe('Settings → WhatsApp, per provider type', () => {
  it("registers each type with its own credentials: labels, help, secrets as passwords, hosted APIs' addresses filled in", async () => {
    await mountAt('/settings/whatsapp', {}, (h) => (h.whatsapp.maxProviders = 10))
    await loaded()
    await click('provider-add')
    const dialog = byTestId('provider-dialog')!
    const expected: Record<string, { key: string; label: string; hint: RegExp }[]> = {
      evolution: [{ key: 'api_key', label: 'API key', hint: /AUTHENTICATION_API_KEY/ }],
      waha: [{ key: 'api_key', label: 'API key', hint: /WAHA_API_KEY/ }],
      uazapi: [{ key: 'admin_token', label: 'Admin token', hint: /admintoken/ }],
      zapi: [{ key: 'client_token', label: 'Client token', hint: /Client-Token/ }],
      cloud_api: [
        { key: 'access_token', label: 'Access token', hint: /system user's permanent access token/ },
        { key: 'app_secret', label: 'App secret', hint: /webhooks Meta signs/ },
      ],
    }
    const baseUrls: Record<string, string> = {
      evolution: '',
      waha: '',
      uazapi: '',
      zapi: 'https://api.z-api.io',
      cloud_api: 'https://graph.facebook.com/v22.0',
    }
    for (const [type, fields] of Object.entries(expected)) {
      setSelect('provider-form-type', type, dialog)
      await nextTick()
      const secrets = [...dialog.querySelectorAll<HTMLInputElement>('input[data-testid^="provider-form-"]')].filter(
        (i) => !['provider-form-name', 'provider-form-base-url'].includes(i.dataset.testid!),
      )
      expect(secrets.map((i) => i.dataset.testid), type).toEqual(fields.map((f) => `provider-form-${f.key}`))
      for (const f of fields) {
        const shown = field(`provider-form-${f.key}`, dialog)!
        expect(shown.type, `${type} ${f.key}`).toBe('password')
        expect(shown.label).toBe(f.label)
        expect(shown.hint).toMatch(f.hint)
      }
      expect(field('provider-form-base-url', dialog)!.value, type).toBe(baseUrls[type])
      expect(field('provider-form-base-url', dialog)!.hint).toBeTruthy()
    }

    // Cloud API: Meta's address as filled in, and both credentials sent.
    setInput('provider-form-name', 'Meta', dialog)
    setInput('provider-form-access_token', 'EAAG-token-1234', dialog)
    setInput('provider-form-app_secret', 'app-secret-5678', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(isOpen('provider-dialog')).toBe(false))

    // Z-API: an address of one's own is kept when the type changes.
    await click('provider-add')
    setSelect('provider-form-type', 'zapi', dialog)
    await nextTick()
    setInput('provider-form-base-url', 'https://zapi.example.com', dialog)
    setSelect('provider-form-type', 'uazapi', dialog)
    await nextTick()
    expect(field('provider-form-base-url', dialog)!.value).toBe('https://zapi.example.com')
    setSelect('provider-form-type', 'zapi', dialog)
    await nextTick()
    setInput('provider-form-name', 'Z', dialog)
    setInput('provider-form-client_token', 'client-token-4321', dialog)
    await submit('provider-form')
    await vi.waitFor(() => expect(isOpen('provider-dialog')).toBe(false))

    expect(posts('/providers').map((c) => c.body)).toEqual([
      {
        type: 'cloud_api',
        name: 'Meta',
        base_url: 'https://graph.facebook.com/v22.0',
        credentials: { access_token: 'EAAG-token-1234', app_secret: 'app-secret-5678' },
      },
      { type: 'zapi', name: 'Z', base_url: 'https://zapi.example.com', credentials: { client_token: 'client-token-4321' } },
    ])
    expect(text('provider-type', providerRow('Meta')!)).toBe('WhatsApp Cloud API')
    expect(text('provider-credentials', providerRow('Z')!)).toBe('Client token …4321')
  })

  it("registers Z-API and Cloud API numbers made in the provider's panel with their credentials", async () => {
    await mountAt('/settings/whatsapp', {}, (h) => {
      everyType(h)
      h.whatsapp.instances = []
    })
    await loaded()
    await click('instance-add')
    const dialog = byTestId('instance-dialog')!
    // Evolution makes the number: no credentials.
    expect(text('instance-dialog')).toContain('Add a WhatsApp number')
    expect(dialog.querySelectorAll('input[type="password"]')).toHaveLength(0)
    expect(text('instance-save', dialog)).toBe('Add number')

    setSelect('instance-form-provider', 'p-zapi', dialog)
    await nextTick()
    expect(dialog.dataset.registering).toBe('true')
    expect(text('instance-dialog')).toContain("Register a number made in the provider's panel")
    expect(text('instance-dialog')).toContain('Make the instance in the Z-API panel first')
    expect(text('instance-save', dialog)).toBe('Register number')
    expect(field('instance-form-instance_id', dialog)).toMatchObject({ type: 'text', label: 'Instance ID' })
    expect(field('instance-form-instance_token', dialog)).toMatchObject({ type: 'password', label: 'Instance token' })
    setInput('instance-form-name', 'zapi-sales', dialog)
    await submit('instance-form')
    expect(byTestId('instance-form-instance_id', dialog)?.getAttribute('aria-invalid')).toBe('true')
    expect(byTestId('instance-form-instance_token', dialog)?.getAttribute('aria-invalid')).toBe('true')
    expect(posts('/instances')).toHaveLength(0)

    // The provider refuses the token: said on it.
    setInput('instance-form-instance_id', '3C4A0F', dialog)
    setInput('instance-form-instance_token', 'wrong-token', dialog)
    await submit('instance-form')
    await vi.waitFor(() => expect(byTestId('instance-form-instance_token', dialog)?.getAttribute('aria-invalid')).toBe('true'))
    expect(dialog.textContent).toContain('The provider refused these credentials.')

    setInput('instance-form-instance_token', 'F00D-token', dialog)
    await submit('instance-form')
    await vi.waitFor(() => expect(isOpen('instance-dialog')).toBe(false))

    // Cloud API: the phone number ID, digits only.
    await click('instance-add')
    setSelect('instance-form-provider', 'p-cloud_api', dialog)
    await nextTick()
    expect(field('instance-form-phone_number_id', dialog)).toMatchObject({ type: 'text', label: 'Phone number ID' })
    expect(field('instance-form-phone_number_id', dialog)!.hint).toMatch(/not the phone number itself/)
    expect(text('instance-dialog')).toContain("WhatsApp Manager")
    setInput('instance-form-name', 'meta-support', dialog)
    setInput('instance-form-phone_number_id', '+55 11 9123', dialog)
    await submit('instance-form')
    expect(field('instance-form-phone_number_id', dialog)!.hint).toBe('Use digits only.')
    setInput('instance-form-phone_number_id', '106540352242922', dialog)
    await submit('instance-form')
    await vi.waitFor(() => expect(isOpen('instance-dialog')).toBe(false))

    expect(posts('/instances').map((c) => c.body)).toEqual([
      { provider_id: 'p-zapi', name: 'zapi-sales', credentials: { instance_id: '3C4A0F', instance_token: 'wrong-token' } },
      { provider_id: 'p-zapi', name: 'zapi-sales', credentials: { instance_id: '3C4A0F', instance_token: 'F00D-token' } },
      { provider_id: 'p-cloud_api', name: 'meta-support', credentials: { phone_number_id: '106540352242922' } },
    ])
  })

  it('offers each number only what its type can do', async () => {
    await mountAt('/settings/whatsapp', {}, everyType)
    await loaded()
    const has = (name: string, id: string) => byTestId(id, instanceRow(name)!) !== null
    const actions = ['instance-check', 'instance-history', 'instance-settings', 'instance-test-message', 'instance-restart', 'instance-logout']
    const shown = (name: string) => actions.filter((id) => has(name, id))
    expect(shown('n-evolution')).toEqual(actions)
    expect(shown('n-waha')).toEqual(actions)
    expect(shown('n-uazapi')).toEqual(['instance-check', 'instance-history', 'instance-test-message', 'instance-logout'])
    expect(shown('n-zapi')).toEqual(['instance-check', 'instance-history', 'instance-test-message', 'instance-restart', 'instance-logout'])
    // Cloud API: no session to connect, restart or end; its status and Check.
    expect(shown('n-cloud_api')).toEqual(['instance-check', 'instance-history', 'instance-test-message'])
    expect(text('instance-status', instanceRow('n-cloud_api')!)).toBe('Connected')

    // Not connected: Connect where the type has a way to, never on Cloud API; no restart or test send.
    for (const instance of hub.whatsapp.instances) Object.assign(instance, { status: 'disconnected', phone: null })
    window.dispatchEvent(new Event('focus'))
    await vi.waitFor(() => expect(instanceRow('n-cloud_api')!.dataset.status).toBe('disconnected'))
    for (const type of ['evolution', 'waha', 'uazapi', 'zapi']) expect(has(`n-${type}`, 'instance-connect'), type).toBe(true)
    expect(has('n-cloud_api', 'instance-connect')).toBe(false)
    for (const name of ['n-evolution', 'n-cloud_api']) {
      expect(has(name, 'instance-restart')).toBe(false)
      expect(has(name, 'instance-logout')).toBe(false)
      expect((byTestId('instance-test-message', instanceRow(name)!) as HTMLButtonElement).disabled).toBe(true)
    }
  })

  it('connects only by the methods the type allows', async () => {
    await mountAt('/settings/whatsapp', {}, (h) => {
      h.whatsapp.providers[0]!.capabilities = { ...CAPABILITIES.evolution!, pairing_code: false }
    })
    await loaded()
    await click('instance-connect', instanceRow('demo-sales')!)
    const dialog = byTestId('connect-dialog')!
    expect(byTestId('connect-method-qr', dialog)).not.toBeNull()
    expect(byTestId('connect-method-pairing_code', dialog)).toBeNull()
    await click('connect-start', dialog)
    await vi.waitFor(() => expect(byTestId('connect-qr', dialog)).not.toBeNull())
    expect(text('connect-back', dialog)).toBe('Start again')
  })

  it('WAHA numbers show only "ignore groups", and the whole set is saved', async () => {
    await mountAt('/settings/whatsapp', {}, everyType)
    await loaded()
    await click('instance-settings', instanceRow('n-waha')!)
    const dialog = byTestId('settings-dialog')!
    expect(isOpen('settings-dialog')).toBe(true)
    expect(text('settings-dialog')).toContain('Settings of “n-waha”')
    expect(allByTestId('setting-ignore_groups', dialog)).toHaveLength(1)
    expect(dialog.querySelectorAll('[role="switch"]')).toHaveLength(1)
    await click('setting-ignore_groups-switch', dialog)
    await click('settings-save', dialog)
    await vi.waitFor(() => expect(isOpen('settings-dialog')).toBe(false))
    expect(hub.calls.filter((c) => c.method === 'PATCH').map((c) => [c.path.replace('/accounts/account-1', ''), c.body])).toEqual([
      [
        '/instances/i-waha',
        { settings: { reject_calls: false, ignore_groups: true, always_online: false, read_messages: false, read_status: false } },
      ],
    ])
    expect(text('whatsapp-notice')).toBe('Saved the settings of “n-waha”.')
    expect(hub.whatsapp.instances.find((i) => i.id === 'i-waha')!.settings.ignore_groups).toBe(true)
  })

  it('Evolution numbers: the call message only while calls are rejected; a refusal shows its detail', async () => {
    await mountAt()
    await loaded()
    await click('instance-settings', instanceRow('demo-sales')!)
    const dialog = byTestId('settings-dialog')!
    expect(allByTestId('setting-reject_calls-switch', dialog)).toHaveLength(1)
    expect(dialog.querySelectorAll('[role="switch"]')).toHaveLength(5)
    expect(byTestId('setting-call_message', dialog)).toBeNull()
    await click('setting-reject_calls-switch', dialog)
    expect(byTestId('setting-call_message', dialog)).not.toBeNull()
    const message = byTestId('setting-call_message-input', dialog) as HTMLTextAreaElement
    message.value = '  We call you back.  '
    message.dispatchEvent(new Event('input'))
    await click('setting-read_messages-switch', dialog)

    // The hub refuses: its detail shows, the dialog stays.
    const original = hub.fetch.getMockImplementation()!
    hub.fetch.mockImplementationOnce(async () =>
      new Response(
        JSON.stringify({ status: 409, code: 'not_supported_by_provider', title: 'Conflict', detail: 'This provider type cannot apply read_messages.' }),
        { status: 409, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    )
    await click('settings-save', dialog)
    await vi.waitFor(() => expect(text('settings-error', dialog)).toBe('This provider type cannot apply read_messages.'))
    expect(isOpen('settings-dialog')).toBe(true)
    hub.fetch.mockImplementation(original)

    await click('settings-save', dialog)
    await vi.waitFor(() => expect(isOpen('settings-dialog')).toBe(false))
    expect(hub.calls.filter((c) => c.method === 'PATCH').at(-1)?.body).toEqual({
      settings: {
        reject_calls: true,
        call_message: 'We call you back.',
        ignore_groups: false,
        always_online: false,
        read_messages: true,
        read_status: false,
      },
    })

    // Reopened: as saved; calls allowed again, the message is not sent.
    await click('instance-settings', instanceRow('demo-sales')!)
    expect((byTestId('setting-call_message-input', dialog) as HTMLTextAreaElement).value).toBe('We call you back.')
    await click('setting-reject_calls-switch', dialog)
    expect(byTestId('setting-call_message', dialog)).toBeNull()
    await click('settings-save', dialog)
    await vi.waitFor(() => expect(isOpen('settings-dialog')).toBe(false))
    expect(hub.calls.filter((c) => c.method === 'PATCH').at(-1)?.body).toEqual({
      settings: { reject_calls: false, ignore_groups: false, always_online: false, read_messages: true, read_status: false },
    })
  })

  it('agents and supervisors see the settings read-only, and no test send or restart', async () => {
    for (const role of ['agent', 'supervisor'] as const) {
      await mountAt('/settings/whatsapp', { role }, everyType)
      await loaded()
      const row = instanceRow('n-evolution')!
      for (const id of ['instance-test-message', 'instance-restart', 'instance-logout', 'instance-connect']) {
        expect(byTestId(id, row), `${role} ${id}`).toBeNull()
      }
      await click('instance-settings', row)
      const dialog = byTestId('settings-dialog')!
      expect(text('settings-dialog')).toContain('Only administrators can change these.')
      const switches = [...dialog.querySelectorAll<HTMLButtonElement>('[role="switch"]')]
      expect(switches).toHaveLength(5)
      expect(switches.every((s) => s.disabled)).toBe(true)
      expect(byTestId('settings-save', dialog)).toBeNull()
      await click('settings-close', dialog)
      await vi.waitFor(() => expect(isOpen('settings-dialog')).toBe(false))
      expect(hub.calls.filter((c) => c.method === 'PATCH')).toHaveLength(0)
      if (role === 'agent') {
        app!.unmount()
        auth.dispose()
      }
    }
  })

  it('sends a test message: accepted is said not to be delivered; refusals show their detail', async () => {
    await mountAt('/settings/whatsapp', {}, everyType)
    await loaded()
    await click('instance-test-message', instanceRow('n-cloud_api')!)
    const dialog = byTestId('test-message-dialog')!
    expect(isOpen('test-message-dialog')).toBe(true)
    expect(text('test-message-dialog')).toContain('Send a test message from “n-cloud_api”')

    // Checked here first.
    setInput('test-message-to', '11 9123', dialog)
    await submit('test-message-form')
    expect(byTestId('test-message-to', dialog)?.getAttribute('aria-invalid')).toBe('true')
    expect(hub.whatsapp.sent).toHaveLength(0)

    setInput('test-message-to', '+55 (11) 98888-7777', dialog)
    const body = byTestId('test-message-text', dialog) as HTMLTextAreaElement
    body.value = 'Olá, teste!'
    body.dispatchEvent(new Event('input'))
    await submit('test-message-form')
    await vi.waitFor(() => expect(byTestId('test-message-accepted', dialog)).not.toBeNull())
    expect(posts('/instances/i-cloud_api/messages').map((c) => c.body)).toEqual([{ to: '5511988887777', text: 'Olá, teste!' }])
    const id = hub.whatsapp.sent[0]!.message_id
    expect(text('test-message-id', dialog)).toBe(id)
    expect(text('test-message-accepted', dialog)).toBe(
      `Accepted by the provider for +5511988887777 (message ID ${id}). Accepted is not delivered: look at the phone to see it arrive.`,
    )

    // The provider refuses: the hub's words.
    hub.whatsapp.failSend = { status: 422, code: 'provider_rejected', detail: '(#131030) Recipient phone number not in allowed list' }
    await submit('test-message-form')
    await vi.waitFor(() => expect(byTestId('test-message-error', dialog)).not.toBeNull())
    expect(text('test-message-error', dialog)).toBe('The provider server refused: (#131030) Recipient phone number not in allowed list')
    expect(byTestId('test-message-accepted', dialog)).toBeNull()

    hub.whatsapp.failSend = { status: 409, code: 'instance_not_connected', detail: 'Connect the number first.' }
    await submit('test-message-form')
    await vi.waitFor(() => expect(text('test-message-error', dialog)).toBe('Connect the number first.'))

    await click('test-message-close', dialog)
    await vi.waitFor(() => expect(isOpen('test-message-dialog')).toBe(false))
  })

  it('restarts a connected number and says where it stands', async () => {
    await mountAt('/settings/whatsapp', {}, everyType)
    await loaded()
    await click('instance-restart', instanceRow('n-zapi')!)
    await vi.waitFor(() => expect(text('whatsapp-notice')).toBe('Restarted “n-zapi”: connected.'))
    expect(posts('/restart').map((c) => c.path)).toEqual(['/accounts/account-1/instances/i-zapi/restart'])
  })

  it('links Evolution and Cloud API numbers to a Chatwoot inbox: one inbox per number, refusals show their detail', async () => {
    await mountAt('/settings/whatsapp', {}, everyType)
    await loaded()
    // Only the types with `chatwoot_inbox`.
    for (const type of ['waha', 'uazapi', 'zapi']) expect(byTestId('instance-link-inbox', instanceRow(`n-${type}`)!), type).toBeNull()
    expect(byTestId('instance-inbox', instanceRow('n-evolution')!)).toBeNull()

    // Evolution: the inbox's name, the number's name by default; no Business Account id.
    await click('instance-link-inbox', instanceRow('n-evolution')!)
    const dialog = byTestId('inbox-link-dialog')!
    expect(isOpen('inbox-link-dialog')).toBe(true)
    expect(text('inbox-link-dialog')).toContain('Link “n-evolution” to a Chatwoot inbox')
    expect(field('inbox-link-name', dialog)!.value).toBe('n-evolution')
    expect(byTestId('inbox-link-business-account', dialog)).toBeNull()
    expect(text('inbox-link-one', dialog)).toMatch(/feeds one inbox only.*twice/)
    // An inbox another number feeds is refused with the hub's detail.
    hub.whatsapp.instances.find((i) => i.name === 'n-waha')!.chatwoot_inbox_id = 3
    setInput('inbox-link-name', 'Support', dialog)
    await submit('inbox-link-form')
    await vi.waitFor(() => expect(text('inbox-link-error', dialog)).toBe('Another number already feeds this inbox.'))
    expect(isOpen('inbox-link-dialog')).toBe(true)
    setInput('inbox-link-name', 'Vendas', dialog)
    await submit('inbox-link-form')
    await vi.waitFor(() => expect(isOpen('inbox-link-dialog')).toBe(false))
    expect(posts('/instances/i-evolution/chatwoot-inbox').map((c) => c.body)).toEqual([{ name: 'Support' }, { name: 'Vendas' }])
    const linked = instanceRow('n-evolution')!
    expect(text('instance-inbox', linked)).toBe('Inbox #11')
    expect(byTestId('instance-link-inbox', linked)).toBeNull()
    expect(text('whatsapp-notice')).toBe('“n-evolution” now feeds Chatwoot inbox #11.')

    // Cloud API: the WhatsApp Business Account id, with help, checked here and on the hub.
    const cloud = hub.whatsapp.instances.find((i) => i.name === 'n-cloud_api')!
    cloud.phone = null
    await click('instance-link-inbox', instanceRow('n-cloud_api')!)
    const waba = field('inbox-link-business-account', dialog)!
    expect(waba.label).toBe('WhatsApp Business Account ID')
    expect(waba.hint).toMatch(/WhatsApp Business Account ID.*API Setup/)
    await submit('inbox-link-form')
    expect(field('inbox-link-business-account', dialog)!.hint).toBe('Enter the WhatsApp Business Account id: digits only.')
    setInput('inbox-link-business-account', 'waba-1', dialog)
    await submit('inbox-link-form')
    expect(posts('/instances/i-cloud_api/chatwoot-inbox')).toHaveLength(0)
    // Its phone is not known yet: the hub says to check the number first.
    setInput('inbox-link-business-account', '102290129340398', dialog)
    await submit('inbox-link-form')
    await vi.waitFor(() => expect(text('inbox-link-error', dialog)).toBe('Check the number first: its phone number is not known yet.'))
    cloud.phone = '5511912345678'
    await submit('inbox-link-form')
    await vi.waitFor(() => expect(isOpen('inbox-link-dialog')).toBe(false))
    expect(posts('/instances/i-cloud_api/chatwoot-inbox').at(-1)!.body).toEqual({
      name: 'n-cloud_api',
      business_account_id: '102290129340398',
    })
    expect(text('instance-inbox', instanceRow('n-cloud_api')!)).toBe('Inbox #12')
  })

  it('linking an inbox: an account without Chatwoot, or a plan without room, says so', async () => {
    await mountAt('/settings/whatsapp', {}, (h) => (h.whatsapp.chatwootLinked = false))
    await loaded()
    await click('instance-link-inbox', instanceRow('demo-sales')!)
    await submit('inbox-link-form')
    await vi.waitFor(() => expect(text('inbox-link-error')).toBe('Connect this account to Chatwoot first (Settings → Chatwoot).'))
    hub.whatsapp.chatwootLinked = true
    hub.whatsapp.maxInboxes = 0
    await submit('inbox-link-form')
    await vi.waitFor(() => expect(text('inbox-link-error')).toMatch(/^Your plan allows 0 inboxes\./))
    await click('inbox-link-cancel')
    await vi.waitFor(() => expect(isOpen('inbox-link-dialog')).toBe(false))
    expect(byTestId('instance-inbox', instanceRow('demo-sales')!)).toBeNull()
  })
})
