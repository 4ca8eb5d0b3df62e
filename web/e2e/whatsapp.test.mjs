// End-to-end: Settings → WhatsApp against `whatpro-hub serve --demo`, which starts the hub's
// built-in Evolution API simulator beside its Chatwoot and Asaas ones, registers it on the
// "Demo Co" account as the provider server "Demo Evolution", and makes the number
// "demo-sales" on it (disconnected). The test connects that number by QR in the browser,
// then plays the phone: it tells the simulator the QR was scanned
// (`POST {evolution}/simulator/instances/demo-sales/scan`), and the page, which checks the
// status every 5 s while the QR is on screen, turns Connected.
//
// The simulator's address comes from the hub's start-up log (`evolution=<url>`, see
// hub.mjs); without that line, from the server's base URL that the page lists.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN, startHub } from './hub.mjs'
import { eventually, expectText, expectTitle, launchBrowser, openPage, signIn, screenshots } from './support.mjs'

/** The demo's provider server and number (seeded by `serve --demo`). */
const DEMO_PROVIDER = 'Demo Evolution'
const DEMO_NUMBER = 'demo-sales'
/** The page checks every 5 s; the hub asks the simulator each time. */
const CONNECT_TIMEOUT_MS = 20_000

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

async function goToWhatsApp(page) {
  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-nav-whatsapp').click()
  await page.waitForURL('**/settings/whatsapp')
  await page.getByTestId('instances-table').waitFor()
  await page.getByTestId('providers-table').waitFor()
}

const providerRow = (page, name) => page.locator(`[data-testid="provider-row"][data-provider-name="${name}"]`)
const instanceRow = (page, name) => page.locator(`[data-testid="instance-row"][data-instance-name="${name}"]`)

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

/** The Evolution simulator's origin: from the hub's log, else the server's base URL on the page. */
async function evolutionUrl(page) {
  if (hub.evolutionUrl) return hub.evolutionUrl
  const shown = (await providerRow(page, DEMO_PROVIDER).getByTestId('provider-base-url').textContent())?.trim()
  assert.match(shown ?? '', /^https?:\/\//, `the Evolution simulator's address (the hub logged no evolution=<url>)`)
  return shown.replace(/\/+$/, '')
}

describe('Settings → WhatsApp', { timeout: 180_000 }, () => {
  it('connects the demo number by QR, turns connected when the phone scans, and logs it out', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await goToWhatsApp(page)
    await expectTitle(page, 'WhatsApp · Settings · Whatpro Hub')

    // The demo's server, checked now: it answers and takes its key.
    const server = providerRow(page, DEMO_PROVIDER)
    await server.waitFor()
    await expectText(server.getByTestId('provider-type'), 'Evolution API')
    assert.match(await server.getByTestId('provider-base-url').textContent(), /^https?:\/\/\S+$/)
    assert.match((await server.getByTestId('provider-credentials').textContent()).trim(), /^Key …\S{1,4}$/)
    await server.getByTestId('provider-check').click()
    await expectText(page.getByTestId('whatsapp-notice'), `“${DEMO_PROVIDER}” answered and took its credentials.`)
    await expectText(server.getByTestId('provider-status'), 'OK')
    await expectText(server.getByTestId('provider-checked'), 'Checked just now')
    assert.match((await page.getByTestId('providers-usage').textContent()).trim(), /^\d+ of \d+ servers?$/)

    // The demo's number, not connected yet.
    const number = instanceRow(page, DEMO_NUMBER)
    await number.waitFor()
    assert.equal(await number.getAttribute('data-status'), 'disconnected')
    await expectText(number.getByTestId('instance-status'), 'Disconnected')
    await expectText(number.getByTestId('instance-provider'), DEMO_PROVIDER)
    assert.match((await page.getByTestId('instances-usage').textContent()).trim(), /^\d+ of \d+ numbers?$/)
    await screenshots(page, 'whatsapp-settings')

    // Connect by QR: the image shows.
    await number.getByTestId('instance-connect').click()
    const dialog = page.getByTestId('connect-dialog')
    await dialog.getByTestId('connect-form').waitFor()
    await dialog.getByTestId('connect-method-qr').check()
    await dialog.getByTestId('connect-start').click()
    const qr = dialog.getByTestId('connect-qr')
    await qr.waitFor()
    assert.match(await qr.getAttribute('src'), /^data:image\/[a-z+]+;base64,[A-Za-z0-9+/=]+$/)
    await eventually(() => qr.evaluate((img) => img.complete && img.naturalWidth > 0), true)
    await expectText(dialog.getByTestId('connect-status'), 'Waiting for scan')
    await eventually(() => number.getAttribute('data-status'), 'qr_pending')
    await screenshots(page, 'whatsapp-qr')

    // The phone scans the QR.
    const evolution = await evolutionUrl(page)
    // (It answers 303 to its own page, /manager, as the page's form expects.)
    const scanned = await fetch(`${evolution}/simulator/instances/${DEMO_NUMBER}/scan`, { method: 'POST', redirect: 'manual' })
    assert.ok(scanned.status < 400, `the simulator took the scan (HTTP ${scanned.status}: ${await scanned.text()})`)

    // The page sees it at its next check, says so, and the dialog closes by itself.
    await dialog.getByTestId('connect-success').waitFor({ timeout: CONNECT_TIMEOUT_MS })
    await screenshots(page, 'whatsapp-connected')
    await dialog.waitFor({ state: 'hidden' })
    await expectText(number.getByTestId('instance-status'), 'Connected')
    assert.equal(await number.getAttribute('data-status'), 'connected')
    assert.match(await page.getByTestId('whatsapp-notice').textContent(), new RegExp(`“${DEMO_NUMBER}” is connected`))
    assert.equal(await number.getByTestId('instance-connect').count(), 0)

    // The history has the connection, newest first.
    await number.getByTestId('instance-history').click()
    const history = page.getByTestId('history-dialog')
    await history.getByTestId('history-entry').first().waitFor()
    assert.equal(await history.getByTestId('history-entry').first().getAttribute('data-to'), 'connected')
    await screenshots(page, 'whatsapp-history')
    await history.getByTestId('history-done').click()
    await history.waitFor({ state: 'hidden' })

    // Still connected after a reload.
    await page.reload()
    await afterReload(page, '/settings/whatsapp')
    await expectText(instanceRow(page, DEMO_NUMBER).getByTestId('instance-status'), 'Connected')

    // Log it out.
    await instanceRow(page, DEMO_NUMBER).getByTestId('instance-logout').click()
    const confirm = page.getByTestId('logout-dialog')
    await confirm.getByTestId('confirm-button').click()
    await confirm.waitFor({ state: 'hidden' })
    await expectText(instanceRow(page, DEMO_NUMBER).getByTestId('instance-status'), 'Disconnected')
    await expectText(page.getByTestId('whatsapp-notice'), `Logged “${DEMO_NUMBER}” out. Connect it again to use it.`)
    await done()
  })

  it('agents see the servers and numbers without the buttons that change them', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_AGENT_TOKEN })
    await goToWhatsApp(page)
    await providerRow(page, DEMO_PROVIDER).waitFor()
    await instanceRow(page, DEMO_NUMBER).getByTestId('instance-status').waitFor()
    await page.getByTestId('whatsapp-read-only').waitFor()
    for (const id of ['provider-add', 'provider-check', 'provider-edit', 'provider-delete', 'instance-add', 'instance-connect', 'instance-logout', 'instance-delete', 'instance-check']) {
      assert.equal(await page.getByTestId(id).count(), 0, `no ${id} for an agent`)
    }
    await instanceRow(page, DEMO_NUMBER).getByTestId('instance-history').click()
    await page.getByTestId('history-dialog').getByTestId('history-done').waitFor()
    await done()
  })
})
