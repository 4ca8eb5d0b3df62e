import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { fakeBilling, type BillingOptions, type FakeBilling } from '../../test/fakeBilling'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeBilling
let auth: Auth

async function mountAt(path: string, options: BillingOptions = { superAdmin: true }, prepare: (h: FakeBilling) => void = () => {}) {
  hub = fakeBilling(options)
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
const row = (code: string) => root.querySelector<HTMLElement>(`[data-testid="plan-row"][data-plan-code="${code}"]`)!

function setInput(id: string, value: string) {
  const input = byTestId(id) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event(input.tagName === 'SELECT' ? 'change' : 'input'))
}

async function click(id: string, within?: ParentNode) {
  byTestId(id, within)!.click()
  await nextTick()
}

const submit = () => (byTestId('plan-form') as HTMLFormElement).requestSubmit()

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
})

describe('Settings → Plans', () => {
  it('is only for super admins', async () => {
    const router = await mountAt('/settings/plans', { role: 'admin' })
    expect(router.currentRoute.value.path).toBe('/settings/profile')
    expect(byTestId('settings-nav-plans')).toBeNull()
    expect(hub.calls.some((c) => c.path.startsWith('/plans'))).toBe(false)
  })

  it('lists every plan, archived ones last', async () => {
    await mountAt('/settings/plans')
    await vi.waitFor(() => expect(byTestId('plans-table')).not.toBeNull())
    expect(byTestId('settings-nav-plans')?.classList.contains('is-active')).toBe(true)
    expect(hub.calls.find((c) => c.path.startsWith('/plans'))?.path).toBe('/plans?include_archived=true')
    expect(allByTestId('plan-row').map((r) => [r.dataset.planCode, r.dataset.active])).toEqual([
      ['starter', 'true'],
      ['pro', 'true'],
      ['business', 'true'],
      ['legacy', 'false'],
    ])
    expect(text('plan-archived', row('legacy'))).toBe('Archived')
    expect(byTestId('plan-archive', row('legacy'))).toBeNull()
    expect(text('plan-row-price', row('business'))?.replace(/\s/g, ' ')).toBe('R$ 1.490,00 / year')
  })

  it('creates a plan, checking the fields first', async () => {
    await mountAt('/settings/plans')
    await vi.waitFor(() => expect(byTestId('plans-table')).not.toBeNull())
    await click('create-plan')
    expect((byTestId('plan-limit-max_agents') as HTMLInputElement).value).toBe('5')
    expect((byTestId('plan-position-input') as HTMLInputElement).value).toBe('4')

    setInput('plan-code-input', 'Team Plan')
    setInput('plan-price-input', '99,9x')
    setInput('plan-limit-max_boards', '-1')
    await nextTick()
    submit()
    await nextTick()
    const dialog = byTestId('plan-dialog')!
    expect(dialog.textContent).toContain('Use 2 to 40 lower-case letters, digits and -')
    expect(dialog.textContent).toContain('Give the plan a name.')
    expect(dialog.textContent).toContain('Write the price with a dot and up to two decimals')
    expect(byTestId('plan-limit-max_boards')?.getAttribute('aria-invalid')).toBe('true')
    expect(hub.calls.some((c) => c.method === 'POST' && c.path === '/plans')).toBe(false)

    setInput('plan-name-input', 'Team')
    setInput('plan-code-input', 'team')
    setInput('plan-description-input', 'For small teams.')
    setInput('plan-price-input', '99,9')
    setInput('plan-cycle-input', 'QUARTERLY')
    setInput('plan-trial-input', '7')
    setInput('plan-limit-max_boards', '4')
    await click('plan-feature-analytics_enabled')
    submit()
    await vi.waitFor(() => expect(text('plans-notice')).toBe('Created “Team”.'))
    expect(hub.calls.filter((c) => c.method === 'POST' && c.path === '/plans')).toMatchObject([
      {
        path: '/plans',
        body: {
          code: 'team',
          name: 'Team',
          description: 'For small teams.',
          price: '99.90',
          currency: 'BRL',
          cycle: 'QUARTERLY',
          trial_days: 7,
          position: 4,
          active: true,
          entitlements: {
            limits: { max_agents: 5, max_boards: 4, max_monthly_messages: 1000 },
            features: { kanban_enabled: true, internal_chat_enabled: true, analytics_enabled: true },
          },
        },
      },
    ])
    await vi.waitFor(() => expect(row('team')).not.toBeNull())
  })

  it("shows the hub's field errors next to their fields", async () => {
    await mountAt('/settings/plans')
    await vi.waitFor(() => expect(byTestId('plans-table')).not.toBeNull())
    await click('plan-edit', row('pro'))
    expect((byTestId('plan-name-input') as HTMLInputElement).value).toBe('Pro')
    expect((byTestId('plan-price-input') as HTMLInputElement).value).toBe('149.90')
    setInput('plan-code-input', 'starter')
    setInput('plan-limit-max_agents', '5000')
    await nextTick()
    submit()
    await vi.waitFor(() => expect(byTestId('plan-code-input')?.getAttribute('aria-invalid')).toBe('true'))
    const dialog = byTestId('plan-dialog')!
    expect(dialog.textContent).toContain('Is already taken.')
    expect(byTestId('plan-limit-max_agents')?.getAttribute('aria-invalid')).toBe('true')
    expect(dialog.textContent).toContain('Must be at most 1000.')
  })

  it('edits a plan and archives another after confirming', async () => {
    await mountAt('/settings/plans')
    await vi.waitFor(() => expect(byTestId('plans-table')).not.toBeNull())
    await click('plan-edit', row('pro'))
    setInput('plan-price-input', '159.90')
    submit()
    await vi.waitFor(() => expect(text('plans-notice')).toBe('Saved “Pro”.'))
    expect(hub.calls.find((c) => c.method === 'PUT')).toMatchObject({ path: '/plans/plan-pro', body: { price: '159.90', code: 'pro' } })

    await click('plan-archive', row('starter'))
    await vi.waitFor(() => expect(byTestId('confirm-button')).not.toBeNull())
    await click('confirm-button')
    await vi.waitFor(() => expect(text('plans-notice')).toMatch(/^Archived “Starter”/))
    expect(hub.calls.find((c) => c.method === 'DELETE')?.path).toBe('/plans/plan-starter')
    await vi.waitFor(() => expect(row('starter').dataset.active).toBe('false'))
  })

  it('deletes a plan no account ever had', async () => {
    await mountAt('/settings/plans', { superAdmin: true }, (h) =>
      h.billing.plans.push({ ...structuredClone(h.billing.plans[0]!), id: 'plan-draft', code: 'draft', name: 'Draft', position: 9 }),
    )
    await vi.waitFor(() => expect(row('draft')).not.toBeNull())
    await click('plan-archive', row('draft'))
    await vi.waitFor(() => expect(byTestId('confirm-button')).not.toBeNull())
    await click('confirm-button')
    await vi.waitFor(() => expect(text('plans-notice')).toBe('Deleted “Draft”: no account ever had it.'))
    expect(row('draft')).toBeNull()
  })

  it('checks the code, the price and the trial as the hub does', async () => {
    await mountAt('/settings/plans')
    await vi.waitFor(() => expect(byTestId('plans-table')).not.toBeNull())
    await click('create-plan')
    setInput('plan-name-input', 'Team')
    setInput('plan-code-input', 'team_plan')
    setInput('plan-price-input', '0')
    setInput('plan-trial-input', '400')
    await nextTick()
    submit()
    await nextTick()
    const dialog = byTestId('plan-dialog')!
    expect(dialog.textContent).toContain('Use 2 to 40 lower-case letters, digits and -')
    expect(dialog.textContent).toContain('The price must be more than zero.')
    expect(dialog.textContent).toContain('Use whole days from 0 (no trial) to 365.')
    expect((byTestId('plan-currency-input') as HTMLInputElement).readOnly).toBe(true)
  })
})
