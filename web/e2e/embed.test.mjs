// End-to-end: the hub living inside Chatwoot (docs/embedding.md). `serve --demo` runs the
// Chatwoot simulator, whose dashboard pages (/app/login, /app/accounts/…) carry the hub's
// dashboard script in their DASHBOARD_SCRIPTS. Two sites, as in production: Chatwoot at
// 127.0.0.1:<simulator port>, the hub at localhost:<hub port> (its PUBLIC_URL); a third
// origin (127.0.0.1:<another port>) plays a page that should get nothing.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_TOKEN, startHub } from './hub.mjs'
import { eventually, expectText, launchBrowser, openPage } from './support.mjs'

const SCREENSHOTS = process.env.E2E_SCREENSHOTS === '1'
const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))

let hub
let browser
let third
/** The origins: Chatwoot's dashboard, the hub's PUBLIC_URL, and one that is neither. */
let CHATWOOT
let HUB
let THIRD

/** A page on a third origin: either one that frames the hub, or one that forges messages. */
function thirdOrigin() {
  const server = createServer((request, response) => {
    const forged = JSON.stringify({
      source: 'whatpro-hub-loader',
      type: 'token',
      version: 1,
      instance_token: 'wphi_forged-by-a-third-origin',
      theme: 'dark',
    })
    const pages = {
      '/framer': `<!doctype html><title>framer</title><iframe id="hub" src="${HUB}/embedded/kanban"></iframe>`,
      // Inside Chatwoot's page it can reach its sibling frames, and tries to hand them a token.
      '/forger': `<!doctype html><title>forger</title><script>
        for (let i = 0; i < parent.frames.length; i++) parent.frames[i].postMessage(${forged}, '*')
        document.title = 'forged'
      </script>`,
    }
    const body = pages[request.url]
    // Anything else (the favicon) is empty, not a 404 in the console.
    response.writeHead(body ? 200 : 204, body ? { 'Content-Type': 'text/html; charset=utf-8' } : {})
    response.end(body)
  })
  server.listen(0, '127.0.0.1')
  return server
}

before(async () => {
  hub = await startHub({ demo: true })
  HUB = hub.publicUrl
  CHATWOOT = hub.chatwootUrl
  third = thirdOrigin()
  await once(third, 'listening')
  THIRD = `http://127.0.0.1:${third.address().port}`
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await hub?.stop()
  third?.close()
})

/**
 * Chatwoot's login page in a fresh context, signed in as the demo administrator; records
 * from the start where the page (frames included) sends Chatwoot's session token.
 */
async function chatwoot(options = {}) {
  const opened = await openPage(browser, CHATWOOT, '/app/login', options)
  const { page } = opened
  const requests = []
  page.on('request', (r) => requests.push({ url: r.url(), headers: r.headers(), body: r.postData() ?? '' }))
  await page.locator('input[name="email"]').fill(DEMO_ADMIN_EMAIL)
  await page.locator('input[name="password"]').fill(DEMO_ADMIN_PASSWORD)
  await page.locator('button[type="submit"]').click()
  await page.waitForURL(/\/app\/accounts\/\d+\/dashboard$/)

  /** The URLs outside Chatwoot that received Chatwoot's session token. */
  async function credentialUses() {
    const cookie = (await page.context().cookies(CHATWOOT)).find((c) => c.name === 'cw_d_session_info')
    const token = JSON.parse(decodeURIComponent(cookie.value))['access-token']
    return requests
      .filter((r) => !r.url.startsWith(`${CHATWOOT}/`))
      .filter((r) => r.body.includes(token) || Object.values(r.headers).some((v) => v.includes(token)))
      .map((r) => r.url)
  }
  return { ...opened, credentialUses }
}

const entry = (page, label) => page.locator('aside nav li.whatpro-item', { hasText: label })
const hubFrame = (page) => page.frameLocator('iframe.whatpro-frame:not([hidden])')

/** Clicks a hub entry and waits for the framed page's answer (its response headers). */
async function openEntry(page, label) {
  const response = page.waitForResponse((r) => r.url().startsWith(`${HUB}/embedded/`))
  await entry(page, label).click()
  return response
}

// One Chatwoot session for these steps, in order: the hub allows 10 token requests and
// exchanges a minute per IP, and each page load and frame costs one or two.
describe('inside Chatwoot', { timeout: 180_000 }, () => {
  let page
  let session

  before(async () => {
    session = await chatwoot()
    page = session.page
  })

  after(async () => {
    await session?.done()
  })

  it('adds the entries, and the Kanban frame gets a working session', async () => {
    await entry(page, 'Kanban').waitFor()
    // Chatwoot's own items are still there, the hub's come after them.
    const labels = (await page.locator('aside nav > ul > li').allTextContents()).map((t) => t.trim())
    assert.deepEqual(labels.slice(0, 4), ['Conversations', 'Contacts', 'Reports', 'Settings'])
    assert.ok(labels.includes('Kanban'), `sidebar ${labels}`)

    const response = await openEntry(page, 'Kanban')
    const headers = response.headers()
    assert.match(headers['content-security-policy'], new RegExp(`frame-ancestors 'self' [^;]*${CHATWOOT}`))
    assert.equal(headers['x-frame-options'], undefined)
    assert.equal(await entry(page, 'Kanban').locator('button').getAttribute('aria-current'), 'page')

    const frame = hubFrame(page)
    // The board (connecting made a default one) or, without one, the empty state.
    await frame.locator('[data-testid="kanban-board"], [data-testid="kanban-empty"]').first().waitFor()
    assert.equal(await frame.getByTestId('embedded-connecting').count(), 0)
    assert.equal(await frame.getByTestId('app-shell').count(), 0, 'Chatwoot provides the chrome')
    // The overlay covers the content area, right of the 200px sidebar.
    const box = await page.locator('.whatpro-overlay').boundingBox()
    assert.equal(Math.round(box.x), 200)

    // The Chatwoot credential went to the instance-token endpoint and nowhere else.
    const uses = await session.credentialUses()
    assert.ok(uses.length >= 2, `one token for the config, one for the frame: ${uses}`)
    for (const url of uses) assert.equal(url, `${HUB}/api/v1/instance-tokens`)
  })

  it("follows Chatwoot's theme", async () => {
    const frame = hubFrame(page)
    await frame.locator('body:not(.dark)').waitFor()
    if (SCREENSHOTS) await screenshot(page, 'embedded-kanban-light')
    await page.evaluate(() => document.body.classList.add('dark'))
    await frame.locator('body.dark').waitFor()
    if (SCREENSHOTS) await screenshot(page, 'embedded-kanban-dark')
    await page.evaluate(() => document.body.classList.remove('dark'))
    await frame.locator('body:not(.dark)').waitFor()
  })

  it('opens the team chat in its frame, on the same session', async () => {
    await entry(page, 'Team chat').waitFor()
    await openEntry(page, 'Team chat')
    const frame = hubFrame(page)
    await frame.getByTestId('chat-page').waitFor()
    await frame.getByTestId('room-list').waitFor()
    assert.equal(await frame.getByTestId('app-shell').count(), 0, 'Chatwoot provides the chrome')
    assert.equal(await entry(page, 'Team chat').locator('button').getAttribute('aria-current'), 'page')
  })

  it('keeps the entry through client-side navigation and shows Chatwoot pages', async () => {
    await page.locator('aside a', { hasText: 'Contacts' }).click()
    await page.waitForURL(/\/contacts$/)
    // The simulator re-rendered its list, as Vue does; the entry comes back.
    await entry(page, 'Kanban').waitFor()
    await page.locator('.whatpro-overlay').waitFor({ state: 'hidden' })
    assert.equal(await entry(page, 'Kanban').locator('button').getAttribute('aria-current'), null)

    // Back to the board: the same frame, still signed in.
    await entry(page, 'Kanban').click()
    await hubFrame(page).locator('[data-testid="kanban-board"], [data-testid="kanban-empty"]').first().waitFor()
  })

  it('opens a conversation in Chatwoot when the hub asks', async () => {
    const framed = page.frames().find((f) => f.url().startsWith(`${HUB}/embedded/kanban`))
    await framed.evaluate((origin) => {
      window.parent.postMessage(
        { source: 'whatpro-hub', type: 'open-conversation', version: 1, conversation_id: 2 },
        origin,
      )
    }, CHATWOOT)
    await page.waitForURL(/\/app\/accounts\/\d+\/conversations\/2$/)
    await expectText(page.locator('#title'), 'Conversation 2')
    await page.locator('.whatpro-overlay').waitFor({ state: 'hidden' })
  })

  it('removes everything on logout', async () => {
    await page.locator('#logout').click()
    await page.waitForURL(/\/app\/login$/)
    await eventually(() => page.locator('.whatpro-item, .whatpro-overlay, iframe').count(), 0)
  })
})

describe('as a Dashboard App', { timeout: 120_000 }, () => {
  it('shows the conversation in its tab', async () => {
    // Connecting the demo account registered the hub's app; register one if it did not.
    const appsUrl = `${CHATWOOT}/api/v1/accounts/1/dashboard_apps`
    const auth = { api_access_token: DEMO_ADMIN_TOKEN }
    const apps = await (await fetch(appsUrl, { headers: auth })).json()
    const isHub = (a) => a.content.some((c) => c.url.startsWith(`${HUB}/embedded/conversation`))
    let app = apps.find(isHub)
    let created = null
    if (!app) {
      const response = await fetch(appsUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...auth },
        body: JSON.stringify({
          dashboard_app: {
            title: 'Whatpro Hub',
            content: [{ type: 'frame', url: `${HUB}/embedded/conversation` }],
          },
        }),
      })
      assert.equal(response.status, 200)
      app = created = await response.json()
    }
    try {
      const { page, done } = await chatwoot()
      await page.goto(`${CHATWOOT}/app/accounts/1/conversations/1`)
      await page.locator('#tabs button', { hasText: app.title }).first().click()
      const frame = page.frameLocator('iframe.app-frame:not([hidden])')
      await frame.getByTestId('conversation-summary').waitFor()
      assert.equal((await frame.getByTestId('contact-name').textContent()).trim(), 'Joana Reis')
      assert.equal((await frame.getByTestId('conversation-id').textContent()).trim(), '#1')
      // Connecting the demo made its Pipeline board, with this open conversation's card.
      const card = frame.getByTestId('conversation-card')
      await card.waitFor()
      assert.equal((await card.getByTestId('conversation-card-title').textContent()).trim(), 'Joana Reis')
      assert.equal((await card.getByTestId('conversation-card-board').textContent()).trim(), 'Pipeline')
      await done()
    } finally {
      if (created) await fetch(`${appsUrl}/${created.id}`, { method: 'DELETE', headers: auth })
    }
  })
})

describe('outside Chatwoot', { timeout: 120_000 }, () => {
  it('a page of another origin cannot frame the hub', async () => {
    const { page, done } = await openPage(browser, THIRD, '/framer', {
      allowConsole: [/frame-ancestors/],
    })
    const refused = page.waitForEvent('console', (m) => m.text().includes('frame-ancestors'))
    await page.reload()
    await refused
    const framed = page.frames().find((f) => f !== page.mainFrame())
    await eventually(async () => (await framed.evaluate(() => document.querySelector('#app') !== null).catch(() => false)), false)
    await done()
  })

  it('a token forged by another origin is ignored', async () => {
    const { page, done } = await chatwoot({
      allowConsole: [/status of 503/],
    })
    await entry(page, 'Kanban').waitFor()
    // Chatwoot's page can no longer mint tokens, so the frame keeps waiting for one.
    await page.route(`${HUB}/api/v1/instance-tokens`, (route) =>
      route.fulfill({ status: 503, contentType: 'application/problem+json', body: '{}' }),
    )
    const exchanges = []
    page.on('request', (r) => r.url().includes('/api/v1/auth/exchange') && exchanges.push(r.url()))
    await openEntry(page, 'Kanban')
    const frame = hubFrame(page)
    await frame.getByTestId('embedded-connecting').waitFor()

    // A frame of a third origin inside Chatwoot's page posts a well-formed token to its
    // siblings: the hub's frame must not take it (wrong origin, not its parent).
    await page.evaluate((src) => {
      const forger = document.createElement('iframe')
      forger.src = src
      document.body.append(forger)
    }, `${THIRD}/forger`)
    await eventually(() => page.frames().some((f) => f.url().endsWith('/forger')), true)
    const forger = page.frames().find((f) => f.url().endsWith('/forger'))
    await eventually(() => forger.title(), 'forged')
    // Chatwoot's own page (the right parent and origin) with one key too many is ignored too.
    await page.evaluate((hubOrigin) => {
      const target = document.querySelector('iframe.whatpro-frame').contentWindow
      target.postMessage(
        { source: 'whatpro-hub-loader', type: 'token', version: 1, instance_token: 'wphi_x', theme: 'dark', extra: 1 },
        hubOrigin,
      )
    }, new URL(HUB).origin)
    await page.waitForTimeout(500)
    assert.deepEqual(exchanges, [])
    await frame.getByTestId('embedded-connecting').waitFor()
    assert.equal(await frame.locator('body.dark').count(), 0, 'the forged theme was not applied')
    await done()
  })

  it('opened on its own, the embedded page explains where to use it', async () => {
    const { page, done } = await openPage(browser, HUB, '/embedded/kanban')
    await page.getByTestId('embedded-unavailable').waitFor()
    const link = page.getByTestId('embedded-sign-in-link')
    assert.equal(await link.getAttribute('href'), '/sign-in')
    assert.equal(await link.getAttribute('target'), '_blank')
    assert.match(await page.getByTestId('embedded-unavailable').textContent(), /Open Whatpro Hub from Chatwoot's sidebar/)
    await done()
  })
})

async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  await page.evaluate(() => document.fonts.ready)
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png` })
}
