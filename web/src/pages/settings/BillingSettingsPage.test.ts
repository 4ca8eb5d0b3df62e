import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, type App as VueApp } from 'vue'
import { createMemoryHistory } from 'vue-router'
import App from '../../App.vue'
import { createAppRouter } from '../../router'
import { setAuthHandler } from '../../api/client'
import { authKey, createAuth, type Auth } from '../../auth/store'
import { fakeBilling, PIX, type BillingOptions, type FakeBilling } from '../../test/fakeBilling'

let app: VueApp | undefined
let root: HTMLElement
let hub: FakeBilling
let auth: Auth

/** Mounts the app signed in at `path`; `prepare` sets up the fake billing first. */
async function mountAt(path: string, options: BillingOptions = {}, prepare: (h: FakeBilling) => void = () => {}) {
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
/** Intl puts a no-break space between R$ and the amount. */
const plain = (value: string | undefined) => value?.replace(/\s/g, ' ')

function planCard(code: string) {
  const card = root.querySelector<HTMLElement>(`[data-testid="plan-card"][data-plan-code="${code}"]`)
  if (!card) throw new Error(`no plan card ${code}`)
  return card
}

async function loaded() {
  await vi.waitFor(() => {
    expect(byTestId('billing-status') ?? byTestId('billing-unavailable')).not.toBeNull()
    expect(byTestId('plan-card') ?? byTestId('billing-unavailable')).not.toBeNull()
    expect(byTestId('payments-table') ?? byTestId('payments-empty') ?? byTestId('billing-unavailable')).not.toBeNull()
  })
}

function setInput(id: string, value: string, within: ParentNode = root) {
  const input = byTestId(id, within) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
}

async function click(id: string, within?: ParentNode) {
  byTestId(id, within)!.click()
  await nextTick()
}

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

describe('Settings → Billing', () => {
  it('is in the settings navigation and titled', async () => {
    await mountAt('/settings/billing')
    await loaded()
    expect(byTestId('settings-nav-billing')?.classList.contains('is-active')).toBe(true)
    expect(document.title).toBe('Billing · Settings · Whatpro Hub')
  })

  it('agents are sent to their profile; supervisors see it without the buttons that change it', async () => {
    const router = await mountAt('/settings/billing', { role: 'agent' })
    expect(router.currentRoute.value.path).toBe('/settings/profile')
    expect(byTestId('settings-nav-billing')).toBeNull()
    app!.unmount()
    auth.dispose()

    await mountAt('/settings/billing', { role: 'supervisor', status: 'active' })
    await loaded()
    expect(text('billing-status')).toBe('Active')
    expect(byTestId('plan-subscribe')).toBeNull()
    expect(byTestId('plan-switch')).toBeNull()
    expect(byTestId('billing-cancel')).toBeNull()
    expect(text('billing-read-only')).toBe('Only administrators can change the subscription.')
  })

  it('without a subscription: the status, the plans by position with prices, features and limits', async () => {
    await mountAt('/settings/billing')
    await loaded()
    expect(text('billing-status')).toBe('No subscription')
    expect(byTestId('billing-status')?.dataset.status).toBe('none')
    expect(text('billing-plan')).toMatch(/No subscription/)
    expect(allByTestId('plan-card').map((c) => c.dataset.planCode)).toEqual(['starter', 'pro', 'business'])
    expect(plain(text('plan-price', planCard('pro')))).toBe('R$ 149,90')
    expect(text('plan-cycle', planCard('pro'))).toBe('/ month')
    expect(plain(text('plan-price', planCard('business')))).toBe('R$ 1.490,00')
    expect(text('plan-cycle', planCard('business'))).toBe('/ year')
    expect(planCard('business').textContent).toContain('14-day free trial')
    expect(planCard('pro').textContent).toContain('15 agents')
    expect(planCard('pro').textContent).toContain('10,000 messages a month')
    const starterChat = [...planCard('starter').querySelectorAll('li')].find((li) => li.textContent?.includes('Team chat'))
    expect(starterChat?.classList.contains('is-off')).toBe(true)
    expect(allByTestId('plan-subscribe')).toHaveLength(3)
    expect(byTestId('billing-cancel')).toBeNull()
    expect(byTestId('payments-empty')).not.toBeNull()
  })

  it('subscribes with PIX: checks the CPF here, shows the QR code, copies the code, links the invoice', async () => {
    const writeText = vi.fn(async () => {})
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    await mountAt('/settings/billing')
    await loaded()
    await click('plan-subscribe', planCard('pro'))
    const dialog = byTestId('subscribe-dialog')!
    expect(text('subscribe-dialog')).toContain('Subscribe to Pro')
    // The account's name and the person's email are filled in.
    expect((byTestId('customer-name', dialog) as HTMLInputElement).value).toBe('Demo Co')
    expect((byTestId('customer-email', dialog) as HTMLInputElement).value).toBe('ana@demo.test')
    expect((byTestId('billing-type-PIX', dialog) as HTMLInputElement).checked).toBe(true)

    setInput('customer-cpf-cnpj', '529.982.247-26', dialog)
    await nextTick()
    ;(byTestId('subscribe-form') as HTMLFormElement).requestSubmit()
    await nextTick()
    expect(dialog.textContent).toContain('This CPF is not valid. Check its digits.')
    expect(hub.calls.some((c) => c.method === 'POST' && c.path.endsWith('/billing/subscription'))).toBe(false)

    setInput('customer-cpf-cnpj', '529.982.247-25', dialog)
    setInput('customer-mobile-phone', '+55 (11) 91234-5678', dialog)
    await nextTick()
    ;(byTestId('subscribe-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(byTestId('pix-qr')).not.toBeNull())
    expect(hub.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/billing/subscription'))).toMatchObject([
      {
        body: {
          plan_id: 'plan-pro',
          billing_type: 'PIX',
          customer: { name: 'Demo Co', cpf_cnpj: '52998224725', email: 'ana@demo.test', mobile_phone: '11912345678' },
        },
      },
    ])
    expect(text('subscribe-dialog')).toContain('Pay with PIX')
    expect(byTestId('pix-qr')!.getAttribute('src')).toBe(`data:image/png;base64,${PIX.encoded_image}`)
    expect((byTestId('pix-code') as HTMLTextAreaElement).value).toBe(PIX.payload)
    const invoice = byTestId('invoice-link') as HTMLAnchorElement
    expect(invoice.getAttribute('href')).toBe('https://asaas.test/i/1')
    expect(invoice.getAttribute('target')).toBe('_blank')
    expect(invoice.getAttribute('rel')).toBe('noopener noreferrer')

    await click('pix-copy')
    await vi.waitFor(() => expect(text('pix-copy')).toBe('Copied'))
    expect(writeText).toHaveBeenCalledWith(PIX.payload)

    // The page behind shows the pending subscription and its open charge.
    await vi.waitFor(() => expect(text('billing-status')).toBe('Awaiting payment'))
    expect(text('billing-page-notice')).toMatch(/Subscribed to Pro/)
    expect(byTestId('billing-open-charge')).not.toBeNull()
    expect(text('plan-current', planCard('pro'))).toBe('Current plan')
  })

  it('becomes active once the charge is paid, without a reload', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    await mountAt('/settings/billing', {}, (h) => {
      h.billing.subscription = null
    })
    await loaded()
    await click('plan-subscribe', planCard('pro'))
    setInput('customer-cpf-cnpj', '52998224725')
    await nextTick()
    ;(byTestId('subscribe-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(byTestId('pix-qr')).not.toBeNull())
    await click('subscribe-done')
    await vi.waitFor(() => expect(text('billing-status')).toBe('Awaiting payment'))

    hub.pay()
    vi.advanceTimersByTime(5_000)
    await vi.waitFor(() => expect(text('billing-status')).toBe('Active'))
    expect(text('billing-page-notice')).toBe('Payment received: the subscription is active.')
    await vi.waitFor(() => expect(text('payment-status')).toBe('Paid'))
    expect(byTestId('payment-show-pix')).toBeNull()
  })

  it("shows the hub's refusal of a CPF on the field, and other refusals on the form", async () => {
    await mountAt('/settings/billing')
    await loaded()
    await click('plan-subscribe', planCard('starter'))
    setInput('customer-cpf-cnpj', '111.444.777-35')
    await nextTick()
    ;(byTestId('subscribe-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(byTestId('customer-cpf-cnpj')?.getAttribute('aria-invalid')).toBe('true'))
    expect(text('subscribe-dialog')).toContain('This CPF or CNPJ is not valid. Check its digits.')

    // Asaas cannot be reached: the form says so, and nothing was charged.
    setInput('customer-cpf-cnpj', '529.982.247-25')
    await nextTick()
    const original = hub.fetch.getMockImplementation()!
    hub.fetch.mockImplementation(async (input, init) =>
      String(input).endsWith('/billing/subscription') && init?.method === 'POST'
        ? new Response(JSON.stringify({ status: 502, code: 'asaas_unreachable', title: 'Bad Gateway', detail: 'x' }), { status: 502 })
        : original(input, init),
    )
    ;(byTestId('subscribe-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(byTestId('subscribe-error')).not.toBeNull())
    expect(text('subscribe-error')).toBe('The payment provider (Asaas) could not be reached. Nothing was charged; try again in a moment.')
  })

  it('an active subscription: its plan, dates, history and usage', async () => {
    await mountAt('/settings/billing', { status: 'active' })
    await loaded()
    expect(text('billing-status')).toBe('Active')
    expect(text('billing-plan-name')).toBe('Pro')
    expect(plain(text('billing-plan-price'))).toBe('R$ 149,90 / month')
    expect(text('billing-type')).toBe('PIX')
    expect(text('billing-period-end')).toMatch(/2026/)
    expect(text('billing-next-due')).toMatch(/2026/)
    expect(byTestId('billing-cancel')).not.toBeNull()
    expect(planCard('pro').dataset.current).toBe('true')
    expect(byTestId('plan-switch', planCard('pro'))).toBeNull()
    expect(text('plan-change-hint', planCard('starter'))).toBe('Downgrade · at the end of the period')
    // Another cycle is not a switch.
    expect(text('plan-change-hint', planCard('business'))).toBe('Billed yearly: cancel, then subscribe, to change cycle')
    expect((byTestId('plan-switch', planCard('business')) as HTMLButtonElement).disabled).toBe(true)

    const rows = allByTestId('payment-row')
    expect(rows).toHaveLength(1)
    expect(text('payment-status', rows[0])).toBe('Paid')
    expect(plain(text('payment-value', rows[0]))).toBe('R$ 149,90')
    expect(text('payment-type', rows[0])).toBe('PIX')
    expect(byTestId('payment-invoice', rows[0])?.getAttribute('rel')).toBe('noopener noreferrer')

    await vi.waitFor(() => expect(byTestId('usage-bars')).not.toBeNull())
    const usage = Object.fromEntries(allByTestId('usage-row').map((r) => [r.dataset.resource, [r.dataset.level, text('usage-count', r)]]))
    expect(usage).toEqual({
      agents: ['ok', '3 / 15'],
      teams: ['ok', '1 / 2'],
      inboxes: ['danger', '2 / 2'],
      boards: ['ok', '5 / 10'],
      messages_this_month: ['ok', '420 / 10,000'],
    })
  })

  it('switching: a downgrade waits for the period to end; an upgrade starts now', async () => {
    await mountAt('/settings/billing', { status: 'active' }, (h) => {
      h.billing.plans.push({ ...structuredClone(h.billing.plans[0]!), id: 'plan-max', code: 'max', name: 'Max', price: '299.00', position: 4 })
    })
    await loaded()
    await click('plan-switch', planCard('starter'))
    expect(text('change-plan-dialog')).toContain('This is a downgrade')
    await click('change-plan-confirm')
    await vi.waitFor(() => expect(text('billing-page-notice')).toMatch(/^Starter starts on .+\. Until then the account keeps Pro\.$/))
    await vi.waitFor(() => expect(byTestId('billing-pending-plan')).not.toBeNull())
    expect(text('billing-pending-plan')).toMatch(/^Switches to Starter \(R\$\s49,90 \/ month\) on /)
    expect(byTestId('plan-scheduled', planCard('starter'))).not.toBeNull()

    expect(text('plan-change-hint', planCard('max'))).toBe('Upgrade · starts now')
    await click('plan-switch', planCard('max'))
    expect(text('change-plan-dialog')).toContain('This is an upgrade')
    await click('change-plan-confirm')
    await vi.waitFor(() => expect(text('billing-page-notice')).toBe('Switched to Max.'))
    await vi.waitFor(() => expect(text('billing-plan-name')).toBe('Max'))
    expect(hub.calls.filter((c) => c.method === 'PUT').map((c) => c.body)).toEqual([{ plan_id: 'plan-starter' }, { plan_id: 'plan-max' }])
  })

  it('keeping the current plan withdraws a scheduled downgrade', async () => {
    await mountAt('/settings/billing', { status: 'active' }, (h) => {
      h.billing.subscription!.pending_plan = h.billing.plans.find((p) => p.code === 'starter')!
    })
    await loaded()
    expect(text('billing-pending-plan')).toMatch(/^Switches to Starter/)
    expect(text('billing-keep-plan')).toBe('Keep Pro')
    await click('billing-keep-plan')
    await vi.waitFor(() => expect(text('billing-page-notice')).toBe('The account keeps Pro; the scheduled switch was withdrawn.'))
    await vi.waitFor(() => expect(byTestId('billing-pending-plan')).toBeNull())
    expect(hub.calls.filter((c) => c.method === 'PUT').map((c) => c.body)).toEqual([{ plan_id: 'plan-pro' }])
  })

  it('a downgrade the usage does not fit says what to remove', async () => {
    await mountAt('/settings/billing', { status: 'active' }, (h) => {
      h.billing.exceeded = [
        { resource: 'boards', limit: 2, current: 5 },
        { resource: 'agents', limit: 5, current: 6 },
      ]
    })
    await loaded()
    await click('plan-switch', planCard('starter'))
    await click('change-plan-confirm')
    await vi.waitFor(() => expect(byTestId('plan-exceeded')).not.toBeNull())
    expect(allByTestId('plan-exceeded-line').map((li) => li.textContent?.trim())).toEqual([
      'Remove 3 boards (plan allows 2, you have 5)',
      'Remove 1 agent (plan allows 5, you have 6)',
    ])
    expect(byTestId('change-plan-dialog')?.closest('dialog')?.open ?? true).toBe(true)
  })

  it('cancels at the end of the period, or immediately', async () => {
    await mountAt('/settings/billing', { status: 'active' })
    await loaded()
    await click('billing-cancel')
    expect(text('cancel-confirm')).toBe('Cancel at period end')
    await click('cancel-confirm')
    await vi.waitFor(() => expect(byTestId('billing-cancel-note')).not.toBeNull())
    expect(text('billing-cancel-note')).toMatch(/^Cancels at the end of the period, on .+\. Nothing more is charged\.$/)
    expect(hub.calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/accounts/account-1/billing/subscription'])

    await click('billing-cancel')
    // Already ending: only "now" is left.
    expect((byTestId('cancel-immediately') as HTMLInputElement).checked).toBe(true)
    await click('cancel-confirm')
    await vi.waitFor(() => expect(text('billing-status')).toBe('Canceled'))
    expect(hub.calls.filter((c) => c.method === 'DELETE').at(-1)?.path).toBe('/accounts/account-1/billing/subscription?immediately=true')
    expect(allByTestId('plan-subscribe')).toHaveLength(3)
  })

  it('a subscription never paid ends at once, whatever was asked', async () => {
    await mountAt('/settings/billing', { status: 'pending' })
    await loaded()
    expect(text('billing-status')).toBe('Awaiting payment')
    await click('billing-cancel')
    expect((byTestId('cancel-immediately') as HTMLInputElement).checked).toBe(false)
    await click('cancel-confirm')
    await vi.waitFor(() => expect(text('billing-page-notice')).toBe('The subscription was canceled.'))
    await vi.waitFor(() => expect(text('billing-status')).toBe('Canceled'))
  })

  it('past due: the grace period, the overdue charge and "Show PIX" from the history', async () => {
    await mountAt('/settings/billing', { status: 'past_due' })
    await loaded()
    expect(text('billing-status')).toBe('Past due')
    expect(text('billing-past-due-note')).toMatch(/Full access continues until .*2026/)
    expect(text('billing-grace-until')).toMatch(/2026/)
    expect(text('billing-open-charge')).toMatch(/by PIX, due .+ — overdue/)
    const overdue = allByTestId('payment-row').find((r) => r.dataset.status === 'OVERDUE')!
    expect(text('payment-status', overdue)).toBe('Overdue')

    await click('payment-show-pix', overdue)
    await vi.waitFor(() => expect(byTestId('pix-qr')).not.toBeNull())
    expect(hub.calls.some((c) => c.path === `/accounts/account-1/billing/payments/${overdue.dataset.paymentId}/pix`)).toBe(true)
    await click('pix-done')

    // Paid elsewhere meanwhile: the hub says it is no longer open.
    hub.pay()
    await click('billing-open-charge-pix')
    await vi.waitFor(() => expect(text('pix-error')).toBe('This charge is no longer open: it was paid or canceled.'))
    await vi.waitFor(() => expect(text('billing-status')).toBe('Active'))
  })

  it('pages through the payment history', async () => {
    await mountAt('/settings/billing', { status: 'active', pageSize: 2 }, (h) => {
      h.billing.payments.push(...[1, 2, 3].map((n) => ({ ...h.billing.payments[0]!, id: `old-${n}` })))
    })
    await loaded()
    expect(allByTestId('payment-row')).toHaveLength(2)
    byTestId('payments-table')!.parentElement!.querySelector<HTMLButtonElement>('.more button')!.click()
    await vi.waitFor(() => expect(allByTestId('payment-row')).toHaveLength(4))
    expect(hub.calls.filter((c) => c.path.includes('/billing/payments?')).map((c) => c.path)).toEqual([
      '/accounts/account-1/billing/payments?limit=20',
      '/accounts/account-1/billing/payments?limit=20&cursor=2',
    ])
  })

  it('a hub that finds out it has no billing only when asked to charge says so then', async () => {
    await mountAt('/settings/billing')
    await loaded()
    const original = hub.fetch.getMockImplementation()!
    hub.fetch.mockImplementation(async (input, init) =>
      String(input).endsWith('/billing/subscription') && init?.method === 'POST'
        ? new Response(JSON.stringify({ status: 503, code: 'billing_unavailable', title: 'Unavailable', detail: 'x' }), { status: 503 })
        : original(input, init),
    )
    await click('plan-subscribe', planCard('pro'))
    setInput('customer-cpf-cnpj', '52998224725')
    await nextTick()
    ;(byTestId('subscribe-form') as HTMLFormElement).requestSubmit()
    await vi.waitFor(() => expect(byTestId('billing-unavailable')).not.toBeNull())
    expect(byTestId('subscribe-dialog')?.hasAttribute('open')).toBe(false)
    expect(byTestId('plan-card')).toBeNull()
  })

  it('a hub without billing says so', async () => {
    await mountAt('/settings/billing', {}, (h) => (h.billing.unavailable = true))
    await vi.waitFor(() => expect(byTestId('billing-unavailable')).not.toBeNull())
    expect(text('billing-unavailable')).toContain('Billing is not configured on this hub')
    expect(byTestId('plan-card')).toBeNull()
    expect(byTestId('billing-banner')).toBeNull()
  })
})
