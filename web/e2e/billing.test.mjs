// End-to-end: Settings → Billing against `whatpro-hub serve --demo`, which wires the hub to
// its built-in Asaas simulator and seeds the plan catalogue (as it wires the Chatwoot
// simulator and the "Demo Co" account). The simulator's invoice page (a payment's
// `invoice_url`) has a "Pay with PIX (simulated)" button that settles the charge and sends
// the hub Asaas's PAYMENT_RECEIVED webhook.
//
// The banners and the 402 notice need an account that is past due or suspended, which only
// time (a grace period running out) makes on a real hub; that scenario answers the UI's
// billing reads from the test (Playwright's request routing) and checks what the browser
// shows, against the real hub for everything else.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, startHub } from './hub.mjs'
import { eventually, expectText, expectTitle, launchBrowser, openPage, RESULTS_DIR, signIn, screenshots } from './support.mjs'

/** A valid CPF (check digits right) for the simulated customer. */
const CUSTOMER_CPF = '529.982.247-25'
/** How long the hub may take to hear from the simulator and the page to look again (it polls every 5 s). */
const PAYMENT_TIMEOUT_MS = 30_000

let hub
let browser

before(async () => {
  hub = await startHub({ demo: true })
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await hub?.stop()
})

async function goToBilling(page) {
  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-nav-billing').click()
  await page.waitForURL('**/settings/billing')
  await page.getByTestId('billing-status').waitFor()
}

/**
 * The plan to subscribe to: E2E_BILLING_PLAN (a plan code) if set, otherwise the first paid
 * plan without a trial (a trial would start the subscription before any payment), otherwise
 * the first paid plan.
 */
async function pickPlan(page) {
  await page.getByTestId('plan-card').first().waitFor()
  const cards = await page.getByTestId('plan-card').evaluateAll((nodes) =>
    nodes.map((n) => ({ code: n.dataset.planCode, price: Number(n.dataset.price), trialDays: Number(n.dataset.trialDays) })),
  )
  const wanted = process.env.E2E_BILLING_PLAN
  const plan = wanted
    ? cards.find((c) => c.code === wanted)
    : (cards.find((c) => c.price > 0 && c.trialDays === 0) ?? cards.find((c) => c.price > 0))
  assert.ok(plan, `a paid plan to subscribe to among ${JSON.stringify(cards)}`)
  return page.locator(`[data-testid="plan-card"][data-plan-code="${plan.code}"]`)
}

/** The PIX panel on screen shows a QR image that loaded and a code; returns the code. */
async function expectPix(page) {
  const qr = page.getByTestId('pix-qr')
  await qr.waitFor()
  assert.match(await qr.getAttribute('src'), /^data:image\/png;base64,[A-Za-z0-9+/=]+$/)
  await eventually(() => qr.evaluate((img) => img.complete && img.naturalWidth > 0), true)
  const code = await page.getByTestId('pix-code').inputValue()
  assert.ok(code.length > 20, `a PIX copy-and-paste code, got ${JSON.stringify(code)}`)
  const invoice = page.getByTestId('invoice-link')
  assert.match(await invoice.getAttribute('href'), /^https?:\/\//)
  assert.equal(await invoice.getAttribute('target'), '_blank')
  assert.equal(await invoice.getAttribute('rel'), 'noopener noreferrer')
  return code
}

/** After a reload: signs in again if the session did not survive it, and waits for the shell at `pathname`. */
async function afterReload(page, pathname) {
  const where = await Promise.race([
    page.getByTestId('sign-in-page').waitFor().then(() => 'sign-in'),
    page.getByTestId('app-shell').waitFor().then(() => 'app'),
  ])
  if (where === 'sign-in') await signIn(page, DEMO_ADMIN_TOKEN)
  await page.waitForURL((url) => url.pathname === pathname)
  await page.getByTestId('app-shell').waitFor()
}

describe('Settings → Billing', { timeout: 240_000 }, () => {
  it('subscribes with PIX, pays on the invoice page and becomes active', async () => {
    const { page, context, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    await goToBilling(page)
    await expectTitle(page, 'Billing · Settings · Whatpro Hub')

    // A fresh demo account has no subscription: every plan offers "Subscribe".
    await expectText(page.getByTestId('billing-status'), 'No subscription')
    assert.equal(await page.getByTestId('billing-status').getAttribute('data-status'), 'none')
    const card = await pickPlan(page)
    assert.match(await card.getByTestId('plan-price').textContent(), /^R\$\s?\d/)
    assert.equal(await page.getByTestId('billing-unavailable').count(), 0)
    await page.getByTestId('billing-usage').getByTestId('usage-bars').waitFor()
    await screenshots(page, 'billing-none')

    // Subscribe with PIX.
    const planName = (await card.getByTestId('plan-name').textContent()).trim()
    await card.getByTestId('plan-subscribe').click()
    const dialog = page.getByTestId('subscribe-dialog')
    await dialog.getByTestId('subscribe-form').waitFor()
    await dialog.getByTestId('billing-type-PIX').check()
    await dialog.getByTestId('customer-name').fill('Demo Co Ltda')
    // A CPF with a wrong check digit is refused here, before anything is sent.
    await dialog.getByTestId('customer-cpf-cnpj').fill('529.982.247-26')
    await dialog.getByTestId('customer-email').fill('billing@demo.test')
    await dialog.getByTestId('subscribe-submit').click()
    await dialog.getByText('This CPF is not valid. Check its digits.').waitFor()
    await dialog.getByTestId('customer-cpf-cnpj').fill(CUSTOMER_CPF)
    await dialog.getByTestId('customer-mobile-phone').fill('(11) 91234-5678')
    await dialog.getByTestId('subscribe-submit').click()

    // How to pay: the QR code, the code to copy, the invoice link.
    const code = await expectPix(page)
    await page.getByTestId('pix-copy').click()
    await expectText(page.getByTestId('pix-copy'), 'Copied')
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), code)
    await screenshots(page, 'billing-pix')
    await page.getByTestId('subscribe-done').click()
    await dialog.waitFor({ state: 'hidden' })

    // Waiting for the payment: the plan is the current one, the charge is in the history.
    await page.getByTestId('billing-page-notice').filter({ hasText: `Subscribed to ${planName}.` }).waitFor()
    await expectText(page.getByTestId('billing-plan-name'), planName)
    assert.notEqual(await page.getByTestId('billing-status').getAttribute('data-status'), 'active')
    await card.getByTestId('plan-current').waitFor()
    const row = page.getByTestId('payment-row').first()
    await row.waitFor()
    await expectText(row.getByTestId('payment-type'), 'PIX')
    assert.match(await row.getByTestId('payment-status').textContent(), /Pending|Overdue/)

    // "Show PIX" in the history brings back the same code.
    await row.getByTestId('payment-show-pix').click()
    await page.getByTestId('pix-dialog').getByTestId('pix-panel').waitFor()
    assert.equal(await expectPix(page), code)

    // Pay on the simulator's invoice page, opened in a new tab.
    const [invoice] = await Promise.all([context.waitForEvent('page'), page.getByTestId('invoice-link').click()])
    await invoice.waitForLoadState()
    const pay = invoice.getByRole('button', { name: 'Pay with PIX (simulated)' })
    const [paid] = await Promise.all([
      invoice.waitForResponse((response) => response.request().method() === 'POST'),
      pay.click(),
    ])
    assert.ok(paid.status() < 400, `the simulator took the payment (HTTP ${paid.status()})`)
    // The invoice shows again, paid: nothing left to pay.
    await pay.waitFor({ state: 'detached' })
    await invoice.screenshot({ path: `${RESULTS_DIR}billing-simulator-invoice.png` })
    await invoice.close()

    // Back on the hub: the subscription turns active without a reload.
    await page.bringToFront()
    await page.getByTestId('pix-done').click()
    await expectText(page.getByTestId('billing-status'), 'Active', PAYMENT_TIMEOUT_MS)
    assert.equal(await page.getByTestId('billing-status').getAttribute('data-status'), 'active')
    await expectText(page.getByTestId('billing-page-notice'), 'Payment received: the subscription is active.')
    await expectText(page.getByTestId('payment-row').first().getByTestId('payment-status'), 'Paid')
    assert.equal(await page.getByTestId('payment-row').first().getByTestId('payment-show-pix').count(), 0)
    assert.notEqual((await page.getByTestId('payment-row').first().getByTestId('payment-paid-at').textContent()).trim(), '—')
    assert.equal(await page.getByTestId('billing-banner').count(), 0)
    assert.equal(await page.getByTestId('billing-cancel').count(), 1)
    await screenshots(page, 'billing-active')

    // Still active after a reload.
    await page.reload()
    await afterReload(page, '/settings/billing')
    await expectText(page.getByTestId('billing-status'), 'Active')
    await done()
  })

  it('shows the suspended and past-due banners, and a refused write links to billing', async () => {
    // Chromium logs the answers routed below as failed loads.
    const { page, done } = await openPage(browser, hub.url, '/sign-in', { allowConsole: [/status of 402/] })

    // The account's billing and features as the test says; everything else from the hub.
    const fake = { billing: { status: 'suspended', grace_until: null }, kanban: true }
    await page.route('**/api/v1/accounts/*/billing', (route) =>
      route.request().method() === 'GET' ? route.fulfill({ json: fake.billing }) : route.continue(),
    )
    await page.route('**/api/v1/accounts/*/features', async (route) => {
      const response = await route.fetch()
      const features = response.ok() ? await response.json() : {}
      await route.fulfill({ json: { internal_chat_enabled: true, analytics_enabled: false, ...features, kanban_enabled: fake.kanban } })
    })
    // Any write on a suspended account answers 402 (here: creating an API key).
    await page.route('**/api/v1/accounts/*/api-keys', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({
            status: 402,
            contentType: 'application/problem+json',
            json: {
              type: 'about:blank',
              title: 'Payment Required',
              status: 402,
              detail: 'The subscription of this account is suspended.',
              code: 'subscription_suspended',
              billing_url: `${hub.url}/settings/billing`,
            },
          })
        : route.continue(),
    )
    await signIn(page, DEMO_ADMIN_TOKEN)
    await page.getByTestId('app-shell').waitFor()

    // Suspended: a danger banner above every page.
    const banner = page.getByTestId('billing-banner')
    await banner.waitFor()
    assert.equal(await banner.getAttribute('data-kind'), 'suspended')
    assert.equal(await banner.getAttribute('data-tone'), 'danger')
    await expectText(page.getByTestId('billing-banner-message'), 'Subscription suspended: the account is read-only until payment.')
    await expectText(page.getByTestId('billing-banner-action'), 'Go to billing')
    await screenshots(page, 'billing-banner-suspended')

    // A write is refused with 402: the dialog says why, and a notice links to billing.
    await page.getByTestId('nav-settings').click()
    await page.getByTestId('settings-nav-api-keys').click()
    await page.getByTestId('create-api-key').click()
    await page.getByTestId('api-key-name').fill('CRM sync')
    await page.locator('[data-scope="account:read"]').check()
    await page.getByTestId('api-key-create').click()
    await page.getByTestId('api-key-form-error').filter({ hasText: 'The subscription is suspended' }).waitFor()
    const notice = page.getByTestId('billing-notice')
    await notice.waitFor()
    assert.match(await notice.textContent(), /This change was not saved: the subscription is suspended/)
    await page.keyboard.press('Escape')
    await screenshots(page, 'billing-notice')
    await page.getByTestId('billing-notice-action').click()
    await page.waitForURL('**/settings/billing')
    await expectText(page.getByTestId('billing-status'), 'Suspended')
    await page.getByTestId('billing-suspended-note').waitFor()
    assert.equal(await notice.count(), 0)

    // Past due: a warning with the end of full access and "Pay now".
    fake.billing = { status: 'past_due', grace_until: '2031-05-04T15:00:00Z' }
    await page.getByTestId('settings-nav-profile').click()
    await page.getByTestId('settings-nav-billing').click()
    await expectText(page.getByTestId('billing-status'), 'Past due')
    await eventually(() => banner.getAttribute('data-kind'), 'past_due')
    assert.equal(await banner.getAttribute('data-tone'), 'warning')
    assert.match(await page.getByTestId('billing-banner-message').textContent(), /^Payment overdue — full access until .*2031.*\.$/)
    await expectText(page.getByTestId('billing-banner-action'), 'Pay now')
    await screenshots(page, 'billing-banner-past-due')

    // A plan without the Kanban: no sidebar entry, and /kanban says it is not in the plan.
    fake.kanban = false
    fake.billing = { status: 'active', grace_until: null }
    await page.goto(`${hub.url}/settings/profile`)
    await afterReload(page, '/settings/profile')
    assert.equal(await banner.count(), 0)
    await eventually(() => page.getByTestId('nav-kanban').count(), 0)
    await page.goto(`${hub.url}/kanban`)
    await afterReload(page, '/not-available')
    await page.getByTestId('not-available').waitFor()
    assert.equal(new URL(page.url()).pathname, '/not-available')
    assert.equal(new URL(page.url()).searchParams.get('feature'), 'kanban_enabled')
    await expectText(page.getByTestId('page-title'), 'Not available')
    await done()
  })
})
