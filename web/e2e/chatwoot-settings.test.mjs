// End-to-end: Settings → Chatwoot against `whatpro-hub serve --demo`, whose demo account
// "Demo Co" is connected to the built-in Chatwoot simulator at start (2 inboxes synced).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, startHub } from './hub.mjs'
import { expectText, expectTitle, eventually, launchBrowser, openPage, signIn, screenshots } from './support.mjs'

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

function inboxRow(page, name) {
  return page.getByTestId('inbox-row').filter({ has: page.getByTestId('inbox-name').getByText(name, { exact: true }) })
}

/** After a reload: signs in again if the session did not survive it, and waits for the page. */
async function afterReload(page) {
  const where = await Promise.race([
    page.getByTestId('sign-in-page').waitFor().then(() => 'sign-in'),
    page.getByTestId('inboxes-table').waitFor().then(() => 'page'),
  ])
  if (where === 'sign-in') {
    await signIn(page, DEMO_ADMIN_TOKEN)
    await page.waitForURL('**/settings/chatwoot')
  }
  await page.getByTestId('inboxes-table').waitFor()
}

describe('Settings → Chatwoot', { timeout: 180_000 }, () => {
  it('shows the connection and inboxes, disables an inbox, disconnects and reconnects', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await page.getByTestId('nav-settings').click()
    await page.getByTestId('settings-nav-chatwoot').click()
    await page.waitForURL('**/settings/chatwoot')
    await expectTitle(page, 'Chatwoot · Settings · Whatpro Hub')

    // Connected at start, with the webhook signed and the Dashboard App registered.
    await expectText(page.getByTestId('chatwoot-status'), 'Connected')
    await expectText(page.getByTestId('chatwoot-health'), 'Chatwoot answered')
    await expectText(page.getByTestId('chatwoot-webhook-signed'), 'Signed')
    assert.match(
      await page.getByTestId('chatwoot-webhook-url').textContent(),
      /^http:\/\/localhost:\d+\/api\/v1\/webhooks\/chatwoot\/[0-9a-f-]{36}$/,
    )
    assert.match(await page.getByTestId('chatwoot-dashboard-app').textContent(), /Registered in Chatwoot/)
    assert.match(await page.getByTestId('chatwoot-last-sync').textContent(), /Inboxes: 2 added/)

    // The two synced inboxes.
    await page.getByTestId('inboxes-table').waitFor()
    assert.equal(await page.getByTestId('inbox-row').count(), 2)
    const vendas = inboxRow(page, 'WhatsApp Vendas')
    const website = inboxRow(page, 'Website chat')
    await expectText(vendas.getByTestId('inbox-phone'), '+5511999990000')
    await expectText(vendas.getByTestId('inbox-channel'), 'WhatsApp')
    await expectText(vendas.getByTestId('inbox-state'), 'Enabled')
    await expectText(website.getByTestId('inbox-channel'), 'Website')
    await expectText(website.getByTestId('inbox-state'), 'Enabled')
    await screenshots(page, 'chatwoot-settings')

    // Disable one; it stays disabled after a reload.
    const toggle = website.getByTestId('inbox-toggle')
    assert.equal(await toggle.getAttribute('aria-checked'), 'true')
    await toggle.click()
    await expectText(website.getByTestId('inbox-state'), 'Disabled by an admin')
    await eventually(() => toggle.getAttribute('aria-checked'), 'false')
    await page.getByTestId('inboxes-notice').filter({ hasText: 'Disabled “Website chat”' }).waitFor()
    await page.getByTestId('chatwoot-inboxes').scrollIntoViewIfNeeded()
    await screenshots(page, 'chatwoot-settings-inboxes')

    await page.reload()
    await afterReload(page)
    await expectText(inboxRow(page, 'Website chat').getByTestId('inbox-state'), 'Disabled by an admin')
    assert.equal(await inboxRow(page, 'Website chat').getByTestId('inbox-toggle').getAttribute('aria-checked'), 'false')
    await expectText(inboxRow(page, 'WhatsApp Vendas').getByTestId('inbox-state'), 'Enabled')

    // Disconnect, after confirming.
    await expectText(page.getByTestId('chatwoot-status'), 'Connected')
    await page.getByTestId('chatwoot-disconnect').click()
    await page.getByTestId('confirm-button').click()
    await expectText(page.getByTestId('chatwoot-status'), 'Not connected')
    await page.getByTestId('chatwoot-notice').filter({ hasText: 'Removed the hub’s webhook and Dashboard App' }).waitFor()
    await expectText(page.getByTestId('chatwoot-webhook-signed'), 'Not registered')
    await expectText(page.getByTestId('chatwoot-dashboard-app'), 'Not registered')
    assert.equal(await page.getByTestId('chatwoot-health').count(), 0)
    assert.equal(await page.getByTestId('chatwoot-sync').isDisabled(), true)
    await screenshots(page, 'chatwoot-settings-disconnected')

    // Reconnect with the administrator's token.
    const input = page.getByTestId('chatwoot-token-input')
    assert.equal(await input.getAttribute('type'), 'password')
    await input.fill(DEMO_ADMIN_TOKEN)
    await page.getByTestId('chatwoot-connect').click()
    await expectText(page.getByTestId('chatwoot-status'), 'Connected')
    await expectText(page.getByTestId('chatwoot-health'), 'Chatwoot answered')
    const report = page.getByTestId('chatwoot-connect-report')
    await report.waitFor()
    assert.match(await report.textContent(), /Registered the hub’s webhook in Chatwoot\./)
    assert.match(await report.textContent(), /Added the Whatpro Hub Dashboard App/)
    await expectText(page.getByTestId('chatwoot-webhook-signed'), 'Signed')
    assert.equal(await page.getByTestId('chatwoot-connect-form').count(), 0)
    assert.equal(await page.getByTestId('chatwoot-sync').isDisabled(), false)

    // The token was not kept in the browser.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))
    assert.ok(!stored.includes(DEMO_ADMIN_TOKEN), 'the Chatwoot token is not in web storage')

    // Sync now answers, and the inbox disabled by the admin stays disabled.
    await page.getByTestId('chatwoot-sync').click()
    await page.getByTestId('inboxes-notice').filter({ hasText: 'Synced with Chatwoot.' }).waitFor()
    await expectText(inboxRow(page, 'Website chat').getByTestId('inbox-state'), 'Disabled by an admin')
    await screenshots(page, 'chatwoot-settings-reconnected')
    await done()
  })
})
