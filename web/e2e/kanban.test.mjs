// End-to-end: the Kanban against `whatpro-hub serve --demo`, signed in as the demo admin:
// create a board, add cards, drag a card to another column with the mouse (HTML5 drag and
// drop in Chromium), see the move persisted after a reload, edit a card in its drawer, and
// lose a deal with a reason that shows in the card's history.
// With E2E_SCREENSHOTS=1, saves docs/screenshots/kanban-board-{light,dark}.png.
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, startHub } from './hub.mjs'
import { eventually, expectText, launchBrowser, openPage, RESULTS_DIR } from './support.mjs'

const SCREENSHOTS = process.env.E2E_SCREENSHOTS === '1'
const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))

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
const cardIn = (page, stage, title) =>
  column(page, stage).getByTestId('kanban-card').filter({ hasText: title })

async function addCard(page, stage, title) {
  const col = column(page, stage)
  if (!(await col.getByTestId('add-card-input').isVisible())) await col.getByTestId('add-card').click()
  await col.getByTestId('add-card-input').fill(title)
  await col.getByTestId('add-card-input').press('Enter')
  await cardIn(page, stage, title).waitFor()
}

/** Drags `source` onto `target` with the real mouse, in small steps like a person. */
async function mouseDrag(page, source, target, { at = 'bottom', side = 'middle' } = {}) {
  const from = await source.boundingBox()
  const to = await target.boundingBox()
  assert.ok(from && to, 'both ends of the drag are on screen')
  const x = side === 'left' ? to.x + 24 : to.x + to.width / 2
  const y = at === 'top' ? to.y + 8 : to.y + to.height - 8
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
  await page.mouse.down()
  await page.mouse.move(from.x + from.width / 2 + 12, from.y + from.height / 2 + 6, { steps: 4 })
  await page.mouse.move(x, y, { steps: 12 })
  await page.mouse.move(x, y + 1, { steps: 2 })
  await page.mouse.up()
}

function moveResponse(page) {
  return page.waitForResponse((r) => r.request().method() === 'POST' && /\/cards\/[^/]+\/move$/.test(r.url()))
}

/** A few more deals through the API (signed in as the demo admin), for the screenshots. */
async function seedDeals(boardId) {
  const signIn = await fetch(`${hub.url}/api/v1/auth/sso`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ chatwoot_api_token: DEMO_ADMIN_TOKEN }),
  })
  assert.equal(signIn.status, 200)
  const { access_token: token, account } = await signIn.json()
  const board = await (
    await fetch(`${hub.url}/api/v1/accounts/${account.id}/boards/${boardId}`, {
      headers: { Authorization: `Bearer ${token}` },
    })
  ).json()
  const stage = (name) => board.stages.find((s) => s.name === name).id
  const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString() // wall-clock: the real hub's clock decides what is overdue
  const deals = [
    { title: 'Umbrella Corp. pilot', stage_id: stage('New'), contact_name: 'Marina Costa', value_minor: 850_000, priority: 'urgent', labels: ['lead', 'enterprise'], due_at: day(-2) },
    { title: 'Stark Industries quote', stage_id: stage('In progress'), contact_name: 'Pedro Alves', value_minor: 320_000, priority: 'medium', labels: ['quote'], due_at: day(0.05) },
    { title: 'Initech onboarding', stage_id: stage('Waiting'), contact_name: 'Joana Reis', value_minor: 129_900, priority: 'low', labels: ['onboarding'], due_at: day(5) },
    { title: 'Wayne Enterprises upgrade', stage_id: stage('Won'), contact_name: 'Lucas Lima', value_minor: 2_400_000, labels: ['upsell'] },
  ]
  for (const deal of deals) {
    const response = await fetch(`${hub.url}/api/v1/accounts/${account.id}/boards/${boardId}/cards`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(deal),
    })
    assert.equal(response.status, 201, await response.clone().text())
  }
}

async function screenshots(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.waitForFunction((dark) => document.body.classList.contains('dark') === dark, scheme === 'dark')
    await page.evaluate(() => document.fonts.ready)
    await page.screenshot({ path: `${SCREENSHOT_DIR}${name}-${scheme}.png` })
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

describe('kanban', { timeout: 180_000 }, () => {
  it('creates a board, drags cards between columns, and keeps a lost reason in the history', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await page.setViewportSize({ width: 1680, height: 900 })

    // The admin creates a board with the default pipeline (connecting Chatwoot may have
    // made one already: then the picker shows it and "New board" is next to it).
    await page.locator('[data-testid="kanban-board"], [data-testid="kanban-empty"]').first().waitFor()
    await page.getByTestId('new-board').click()
    await page.getByTestId('board-name-input').fill('Sales pipeline')
    await page.getByTestId('board-create-submit').click()
    await page.getByTestId('new-board-form').waitFor({ state: 'detached' })
    await eventually(() => page.getByTestId('board-picker').evaluate((s) => s.selectedOptions[0]?.textContent), 'Sales pipeline')
    await page.getByTestId('kanban-board').waitFor()
    await expectText(page.getByTestId('board-summary'), '0 cards')
    const names = await page.getByTestId('column-name').allTextContents()
    assert.deepEqual(names, ['New', 'In progress', 'Waiting', 'Won', 'Lost'])
    assert.ok(new URL(page.url()).searchParams.get('board'), 'the board is in the URL')

    // Two cards in New.
    await addCard(page, 'New', 'Acme renewal')
    await addCard(page, 'New', 'Globex expansion')
    await page.keyboard.press('Escape')
    await expectText(column(page, 'New').getByTestId('column-count'), '2')

    // Drag "Globex expansion" to In progress with the mouse.
    const moved = moveResponse(page)
    await mouseDrag(page, cardIn(page, 'New', 'Globex expansion'), column(page, 'In progress').getByTestId('column-cards'))
    assert.equal((await moved).status(), 200)
    await cardIn(page, 'In progress', 'Globex expansion').waitFor()
    await expectText(column(page, 'New').getByTestId('column-count'), '1')
    await expectText(column(page, 'In progress').getByTestId('column-count'), '1')

    // Still there after a reload.
    await page.reload()
    await page.getByTestId('kanban-board').waitFor()
    await cardIn(page, 'In progress', 'Globex expansion').waitFor()
    await expectText(column(page, 'In progress').getByTestId('column-count'), '1')
    await expectText(column(page, 'New').getByTestId('column-count'), '1')

    // Edit it in the drawer: value, priority and a label (PATCH with the version).
    await cardIn(page, 'In progress', 'Globex expansion').click()
    const drawer = page.getByTestId('card-drawer')
    await drawer.waitFor()
    await drawer.getByTestId('drawer-value-input').fill('1500.50')
    await drawer.getByTestId('drawer-priority-select').selectOption('high')
    await drawer.getByTestId('drawer-label-input').fill('vip')
    await drawer.getByTestId('drawer-label-input').press('Enter')
    await drawer.getByTestId('drawer-save').click()
    await drawer.getByText('Saved').waitFor()
    assert.match(await drawer.getByTestId('conversation-none').textContent(), /Not linked/)
    await drawer.getByTestId('drawer-close').click()
    await drawer.waitFor({ state: 'detached' })
    const globex = cardIn(page, 'In progress', 'Globex expansion')
    assert.match(await globex.getByTestId('card-value').textContent(), /1,500\.50|1\.500,50/)
    assert.equal((await globex.getByTestId('card-priority').textContent()).trim(), 'high')
    assert.match(await column(page, 'In progress').getByTestId('column-total').textContent(), /1,500\.50|1\.500,50/)

    // Lose "Acme renewal": dragging it into Lost asks why.
    await mouseDrag(page, cardIn(page, 'New', 'Acme renewal'), column(page, 'Lost').getByTestId('column-cards'))
    await page.getByTestId('lost-reason-input').waitFor()
    await page.getByTestId('lost-reason-input').fill('Chose a competitor')
    const lost = moveResponse(page)
    await page.getByTestId('lost-reason-submit').click()
    assert.equal((await lost).status(), 200)
    await cardIn(page, 'Lost', 'Acme renewal').waitFor()
    await expectText(column(page, 'Lost').getByTestId('column-count'), '1')
    await expectText(column(page, 'New').getByTestId('column-count'), '0')

    // The drawer's history has the loss and its reason.
    await cardIn(page, 'Lost', 'Acme renewal').click()
    await drawer.waitFor()
    await drawer.getByTestId('history-event').filter({ hasText: 'Lost: moved to Lost' }).waitFor()
    await expectText(drawer.getByTestId('history-reason').first(), '“Chose a competitor”')
    const history = await drawer.getByTestId('history-event').allTextContents()
    assert.ok(history.some((e) => e.includes('Created in New')), history.join(' | '))
    assert.match(await drawer.getByTestId('drawer-lost-reason').textContent(), /Chose a competitor/)
    await drawer.getByTestId('drawer-close').click()
    await drawer.waitFor({ state: 'detached' })

    if (SCREENSHOTS) {
      await seedDeals(new URL(page.url()).searchParams.get('board'))
      await page.reload()
      await page.getByTestId('kanban-board').waitFor()
      await cardIn(page, 'Waiting', 'Initech onboarding').waitFor()
      await screenshots(page, 'kanban-board')
      // The drawer too, for a look (not kept in docs/).
      await cardIn(page, 'New', 'Umbrella Corp. pilot').click()
      await drawer.getByTestId('history-event').first().waitFor()
      await page.screenshot({ path: `${RESULTS_DIR}kanban-drawer-light.png` })
      await drawer.getByTestId('drawer-close').click()
      await drawer.waitFor({ state: 'detached' })
    }

    // Columns move too: "Waiting" dragged by its header before "New", kept after a reload.
    const stageMoved = page.waitForResponse((r) => r.request().method() === 'POST' && /\/stages\/[^/]+\/move$/.test(r.url()))
    await mouseDrag(page, column(page, 'Waiting').getByTestId('column-header'), column(page, 'New'), { at: 'top', side: 'left' })
    assert.equal((await stageMoved).status(), 200)
    const order = ['Waiting', 'New', 'In progress', 'Won', 'Lost']
    await eventually(async () => (await page.getByTestId('column-name').allTextContents()).join(), order.join())
    await page.reload()
    await page.getByTestId('kanban-board').waitFor()
    await eventually(async () => (await page.getByTestId('column-name').allTextContents()).join(), order.join())
    await cardIn(page, 'In progress', 'Globex expansion').waitFor()

    await done()
  })
})
