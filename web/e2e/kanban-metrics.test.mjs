// End-to-end: the Kanban's stage editing, SLA badges and metrics against
// `whatpro-hub serve --demo`, signed in as the demo admin: rename a stage and give it an SLA
// from the column menu (kept after a reload), add and delete a stage, win a deal and read it
// in the metrics view (tiles, charts, stage table, another range); then, in a browser whose
// clock runs ahead, see a card's SLA badge turn amber and then red. Each test has a hub of
// its own (a fresh data directory: the demo's "Pipeline" board and nothing else; the plan
// allows two boards) and makes its own board, so neither depends on what the other did.
// The hub accepts `sla_hours` from 1 to 8760, so the badge cannot be reached in real time
// here: the page's clock (Playwright's page.clock) is moved on instead; the hub's is not.
// With E2E_SCREENSHOTS=1, saves docs/screenshots/kanban-metrics-{light,dark}.png.
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { after, afterEach, before, beforeEach, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, startHub } from './hub.mjs'
import { eventually, expectText, launchBrowser, openPage } from './support.mjs'

const SCREENSHOTS = process.env.E2E_SCREENSHOTS === '1'
const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
const MINUTE = 60_000

let hub
let browser

before(async () => {
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
})

beforeEach(async () => {
  hub = await startHub({ demo: true })
})

afterEach(async () => {
  await hub?.stop()
  hub = undefined
})

const column = (page, name) => page.locator(`[data-testid="kanban-column"][data-stage-name="${name}"]`)
const cardIn = (page, stage, title) =>
  column(page, stage).getByTestId('kanban-card').filter({ hasText: title })
const columnNames = (page) => page.getByTestId('column-name').allTextContents()

async function addCard(page, stage, title) {
  const col = column(page, stage)
  if (!(await col.getByTestId('add-card-input').isVisible())) await col.getByTestId('add-card').click()
  await col.getByTestId('add-card-input').fill(title)
  await col.getByTestId('add-card-input').press('Enter')
  await cardIn(page, stage, title).waitFor()
}

function stageResponse(page, method) {
  return page.waitForResponse((r) => r.request().method() === method && /\/boards\/[^/]+\/stages(\/[^/?]+)?(\?.*)?$/.test(r.url()))
}

/** Creates a board named `name` (default stages) from the toolbar and waits until it is shown; its id. */
async function createBoard(page, name) {
  await page.locator('[data-testid="kanban-board"], [data-testid="kanban-empty"]').first().waitFor()
  await page.getByTestId('new-board').click()
  await page.getByTestId('board-name-input').fill(name)
  await page.getByTestId('board-create-submit').click()
  await page.getByTestId('new-board-form').waitFor({ state: 'detached' })
  await eventually(() => page.getByTestId('board-picker').evaluate((s) => s.selectedOptions[0]?.textContent), name)
  await page.getByTestId('kanban-board').waitFor()
  await eventually(async () => (await columnNames(page)).join(), 'New,In progress,Waiting,Won,Lost')
  const boardId = new URL(page.url()).searchParams.get('board')
  assert.ok(boardId, 'the board is in the URL')
  return boardId
}

/** Opens a column's menu and picks `item` (edit, add or delete). */
async function stageMenu(page, stage, item) {
  await column(page, stage).getByTestId('stage-menu-button').click()
  await page.getByTestId(`stage-menu-${item}`).click()
}

/** Sets the page's clock `ms` ahead of the real time and lets the board notice (window focus). */
async function clockAhead(page, ms) {
  await page.clock.setFixedTime(new Date(Date.now() + ms)) // wall-clock: the page's clock is moved relative to the real hub's
  await page.evaluate(() => window.dispatchEvent(new Event('focus')))
}

async function screenshots(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.waitForFunction((dark) => document.body.classList.contains('dark') === dark, scheme === 'dark')
    await page.evaluate(() => document.fonts.ready)
    await page.screenshot({ path: `${SCREENSHOT_DIR}${name}-${scheme}.png`, fullPage: true })
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

describe('kanban stages and metrics', { timeout: 180_000 }, () => {
  it('edits stages (kept after a reload) and shows a won deal in the metrics', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await page.setViewportSize({ width: 1680, height: 1000 })
    const boardId = await createBoard(page, 'Metrics pipeline')

    // Rename "In progress" and give it a 24-hour SLA from its menu.
    await stageMenu(page, 'In progress', 'edit')
    const form = page.getByTestId('stage-form')
    await form.waitFor()
    assert.equal(await page.getByTestId('stage-name-input').inputValue(), 'In progress')
    await page.getByTestId('stage-name-input').fill('Negotiation')
    await page.getByTestId('stage-sla-input').fill('24')
    const patched = stageResponse(page, 'PATCH')
    await page.getByTestId('stage-save').click()
    assert.equal((await patched).status(), 200)
    await form.waitFor({ state: 'detached' })
    await eventually(async () => (await columnNames(page)).join(), 'New,Negotiation,Waiting,Won,Lost')
    await expectText(column(page, 'Negotiation').getByTestId('column-sla'), 'SLA 24h')

    // Kept after a reload.
    await page.reload()
    await page.getByTestId('kanban-board').waitFor()
    await eventually(async () => (await columnNames(page)).join(), 'New,Negotiation,Waiting,Won,Lost')
    await expectText(column(page, 'Negotiation').getByTestId('column-sla'), 'SLA 24h')

    // Add a stage to the right of "Waiting", then delete it.
    await stageMenu(page, 'Waiting', 'add')
    await form.waitFor()
    await page.getByTestId('stage-name-input').fill('Proposal sent')
    const created = stageResponse(page, 'POST')
    await page.getByTestId('stage-save').click()
    assert.equal((await created).status(), 201)
    await eventually(async () => (await columnNames(page)).join(), 'New,Negotiation,Waiting,Proposal sent,Won,Lost')
    // The stage has no cards, so the dialog asks nothing: its form is empty (and hidden);
    // the dialog shows its title, description and buttons.
    await stageMenu(page, 'Proposal sent', 'delete')
    const deleteDialog = page.getByRole('dialog', { name: 'Delete Proposal sent' })
    await deleteDialog.waitFor()
    await deleteDialog.getByText('“Proposal sent” has no cards.', { exact: false }).waitFor()
    assert.equal(await page.getByTestId('delete-stage-target').count(), 0)
    const deleted = stageResponse(page, 'DELETE')
    await deleteDialog.getByTestId('delete-stage-submit').click()
    assert.equal((await deleted).status(), 204)
    await deleteDialog.waitFor({ state: 'hidden' })
    await eventually(async () => (await columnNames(page)).join(), 'New,Negotiation,Waiting,Won,Lost')

    // A deal won, through its drawer.
    await addCard(page, 'New', 'Hooli contract')
    await addCard(page, 'New', 'Pied Piper pilot')
    await page.keyboard.press('Escape')
    await cardIn(page, 'New', 'Hooli contract').click()
    const drawer = page.getByTestId('card-drawer')
    await drawer.waitFor()
    const moved = page.waitForResponse((r) => r.request().method() === 'POST' && /\/cards\/[^/]+\/move$/.test(r.url()))
    await drawer.getByTestId('drawer-stage-select').selectOption({ label: 'Won' })
    assert.equal((await moved).status(), 200)
    await drawer.getByTestId('drawer-close').click()
    await drawer.waitFor({ state: 'detached' })
    await cardIn(page, 'Won', 'Hooli contract').waitFor()

    // The metrics view: last 30 days by default.
    const firstMetrics = page.waitForResponse((r) => /\/boards\/[^/]+\/metrics\?/.test(r.url()))
    await page.getByTestId('view-metrics').click()
    assert.equal((await firstMetrics).status(), 200)
    await page.getByTestId('metrics-view').waitFor()
    assert.equal(new URL(page.url()).searchParams.get('view'), 'metrics')
    await expectText(page.getByTestId('metric-won-count'), '1')
    await expectText(page.getByTestId('metric-lost-count'), '0')
    assert.match(await page.getByTestId('metric-lead').textContent(), /p90 \d+[smhd].*· 1 close/)
    assert.equal(await page.getByTestId('throughput-chart').locator('rect.won').count(), 1)
    assert.equal(await page.getByTestId('wip-row').count(), 5)
    const rows = page.getByTestId('metrics-stage-row')
    assert.equal(await rows.count(), 5)
    assert.match(await rows.nth(1).textContent(), /Negotiation/)
    assert.match(await rows.nth(1).textContent(), /24h/)
    assert.match(await rows.nth(0).locator('td').first().textContent(), /^\s*1\b/)

    if (SCREENSHOTS) await screenshots(page, 'kanban-metrics')

    // Another range.
    const week = page.waitForResponse((r) => /\/boards\/[^/]+\/metrics\?/.test(r.url()))
    await page.getByTestId('metrics-range').selectOption('7')
    const weekly = await week
    assert.equal(weekly.status(), 200)
    const query = new URL(weekly.url()).searchParams
    assert.equal(Date.parse(query.get('to')) - Date.parse(query.get('from')), 7 * 86_400_000)
    await expectText(page.getByTestId('metric-won-count'), '1')

    // Back to the board, the metrics reached by the URL too.
    await page.getByTestId('view-board').click()
    await page.getByTestId('kanban-board').waitFor()
    assert.equal(new URL(page.url()).searchParams.get('view'), null)
    await page.goto(`${hub.url}/kanban?board=${boardId}&view=metrics`)
    await page.getByTestId('metric-won').waitFor()

    await done()
  })

  it('turns a card’s SLA badge amber near the SLA and red past it', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await page.setViewportSize({ width: 1680, height: 900 })
    const boardId = await createBoard(page, 'SLA pipeline')
    // Opened by its URL too.
    await page.goto(`${hub.url}/kanban?board=${boardId}`)
    await page.getByTestId('kanban-board').waitFor()
    await eventually(() => page.getByTestId('board-picker').evaluate((s) => s.selectedOptions[0]?.textContent), 'SLA pipeline')
    assert.equal(new URL(page.url()).searchParams.get('board'), boardId)

    // "New" gets the shortest SLA the hub accepts: one hour.
    await stageMenu(page, 'New', 'edit')
    await page.getByTestId('stage-form').waitFor()
    await page.getByTestId('stage-sla-input').fill('1')
    const patched = stageResponse(page, 'PATCH')
    await page.getByTestId('stage-save').click()
    assert.equal((await patched).status(), 200)
    await expectText(column(page, 'New').getByTestId('column-sla'), 'SLA 1h')

    // Two fresh cards, the board's only ones: no badge yet.
    await addCard(page, 'New', 'Raviga follow-up')
    await addCard(page, 'New', 'Bream-Hall intro')
    await page.keyboard.press('Escape')
    assert.equal(await column(page, 'New').getByTestId('kanban-card').count(), 2)
    const card = cardIn(page, 'New', 'Raviga follow-up')
    assert.equal(await card.getByTestId('card-sla').count(), 0)
    assert.equal(await column(page, 'New').getByTestId('card-sla').count(), 0)
    await expectText(column(page, 'New').getByTestId('column-sla'), 'SLA 1h')

    // 50 minutes on: in the SLA's last fifth, amber.
    await clockAhead(page, 50 * MINUTE)
    const badge = card.getByTestId('card-sla')
    await badge.waitFor()
    assert.match((await badge.textContent()).trim(), /^SLA \d+m left$/)
    assert.equal(await badge.getAttribute('data-sla'), 'warning')

    // Two hours on: an hour over, red, and the column counts both cards.
    await clockAhead(page, 2 * 60 * MINUTE + MINUTE)
    await eventually(async () => badge.getAttribute('data-sla'), 'breached')
    await expectText(badge, 'SLA +1h')
    assert.match(await badge.getAttribute('title'), /^Over the 1h SLA by 1h/)
    await expectText(column(page, 'New').getByTestId('column-sla'), 'SLA 1h · 2 over')

    await done()
  })
})
