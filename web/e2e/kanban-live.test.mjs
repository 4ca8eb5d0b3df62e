// End-to-end: the Kanban follows changes live. With the board open in one browser, a
// Chatwoot webhook (the demo's Chatwoot reopening a resolved conversation, signed as
// Chatwoot signs) makes its card appear, and a move made in a second browser shows up in
// the first, neither with a reload.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, startHub } from './hub.mjs'
import { expectText, launchBrowser, openPage } from './support.mjs'

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

const column = (page, name) => page.locator(`[data-testid="kanban-column"][data-stage-name="${name}"]`)
const cardIn = (page, stage, title) => column(page, stage).getByTestId('kanban-card').filter({ hasText: title })

/** A call to the demo's Chatwoot API as its administrator. */
async function chatwoot(path, init = {}) {
  const response = await fetch(`${hub.chatwootUrl}${path}`, {
    ...init,
    headers: { api_access_token: DEMO_ADMIN_TOKEN, 'Content-Type': 'application/json' },
  })
  assert.ok(response.ok, `${path}: ${response.status}`)
  return response.json()
}

async function openBoard() {
  const opened = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
  await opened.page.getByTestId('kanban-board').waitFor()
  await expectText(opened.page.getByTestId('live-status'), 'Live')
  return opened
}

describe('kanban live', { timeout: 120_000 }, () => {
  it('shows cards that webhooks and other people change, without a reload', async () => {
    const first = await openBoard()
    const { page } = first
    let reloads = 0
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) reloads += 1
    })

    // The demo has one resolved conversation, so no card: Chatwoot reopens it.
    const profile = await chatwoot('/api/v1/profile')
    const accountId = profile.accounts[0].id
    const resolved = await chatwoot(`/api/v1/accounts/${accountId}/conversations?status=resolved`)
    const conversation = resolved.data.payload[0]
    const name = conversation.meta.sender.name
    assert.equal(await cardIn(page, 'New', name).count(), 0, 'no card before the webhook')
    await chatwoot(`/api/v1/accounts/${accountId}/conversations/${conversation.id}/toggle_status`, {
      method: 'POST',
      body: JSON.stringify({ status: 'open' }),
    })
    await cardIn(page, 'New', name).waitFor({ timeout: 10_000 })

    // Someone else, in another browser, moves the card; the first board follows.
    const second = await openBoard()
    await second.page.getByTestId('kanban-card').filter({ hasText: name }).click()
    await second.page.getByTestId('card-drawer').waitFor()
    await second.page.getByTestId('drawer-stage-select').selectOption({ label: 'Waiting' })
    await cardIn(page, 'Waiting', name).waitFor({ timeout: 10_000 })
    assert.equal(await cardIn(page, 'New', name).count(), 0)
    assert.equal(reloads, 0, 'the first page never reloaded')

    await second.done()
    await first.done()
  })
})
