// End-to-end: the built UI as the hub serves it, in Debian's Chromium.
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { startHub } from './hub.mjs'

const RESULTS_DIR = fileURLToPath(new URL('../test-results/', import.meta.url))
const LIGHT_BACKGROUND = 'rgb(247, 247, 247)'
const DARK_BACKGROUND = 'rgb(28, 29, 32)'

let hub
let browser

before(async () => {
  await mkdir(RESULTS_DIR, { recursive: true })
  hub = await startHub()
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

after(async () => {
  await browser?.close()
  await hub?.stop()
})

/**
 * Opens `path` in a fresh context (so localStorage starts empty) and collects console
 * errors, uncaught exceptions and CSP violations; `done()` asserts there were none.
 */
async function open(path, { colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  const problems = []
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`)
    })
  })
  const response = await page.goto(`${hub.url}${path}`)
  await page.getByTestId('app-shell').waitFor()
  await page.evaluate(() => document.fonts.ready)

  async function done() {
    await context.close()
    assert.deepEqual(problems, [], 'no console errors, exceptions or CSP violations')
  }
  return { page, response, done }
}

/** Computed styles and state the tests check, read in the page. */
function shellLooks(page) {
  return page.evaluate(() => {
    const body = getComputedStyle(document.body)
    const sidebar = document.querySelector('[data-testid="sidebar"]')
    return {
      background: body.backgroundColor,
      fontFamily: body.fontFamily,
      fontSize: body.fontSize,
      darkClass: document.body.classList.contains('dark'),
      colorScheme: document.documentElement.style.colorScheme,
      sidebarWidth: sidebar.getBoundingClientRect().width,
      interLoaded: [...document.fonts].some((f) => f.family === 'Inter' && f.status === 'loaded'),
    }
  })
}

describe('app shell', { timeout: 120_000 }, () => {
  it('is served under the strict CSP', async () => {
    const { response, done } = await open('/kanban')
    const csp = response.headers()['content-security-policy'] ?? ''
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'"]) {
      assert.ok(csp.includes(directive), `CSP ${JSON.stringify(csp)} has ${directive}`)
    }
    await done()
  })

  it('renders in light', async () => {
    const { page, done } = await open('/kanban')
    const { fontFamily, ...looks } = await shellLooks(page)
    assert.match(fontFamily, /^"?Inter"?,/)
    assert.deepEqual(looks, {
      background: LIGHT_BACKGROUND,
      fontSize: '14px',
      darkClass: false,
      colorScheme: 'light',
      sidebarWidth: 200,
      interLoaded: true,
    })
    assert.equal(await page.getByTestId('page-title').textContent(), 'Kanban')
    for (const id of ['nav-kanban', 'nav-chat', 'nav-settings', 'theme-toggle']) {
      assert.ok(await page.getByTestId(id).isVisible(), `${id} is visible`)
    }
    await page.screenshot({ path: `${RESULTS_DIR}shell-light.png` })
    await done()
  })

  it('renders in dark when the OS prefers dark', async () => {
    const { page, done } = await open('/kanban', { colorScheme: 'dark' })
    const looks = await shellLooks(page)
    assert.equal(looks.background, DARK_BACKGROUND)
    assert.equal(looks.darkClass, true)
    assert.equal(looks.colorScheme, 'dark')
    assert.equal(looks.sidebarWidth, 200)
    await page.screenshot({ path: `${RESULTS_DIR}shell-dark.png` })
    await done()
  })

  it('?theme= overrides the OS preference', async () => {
    const dark = await open('/kanban?theme=dark', { colorScheme: 'light' })
    assert.equal((await shellLooks(dark.page)).background, DARK_BACKGROUND)
    await dark.done()

    const light = await open('/kanban?theme=light', { colorScheme: 'dark' })
    assert.equal((await shellLooks(light.page)).background, LIGHT_BACKGROUND)
    await light.done()
  })

  it('the theme toggle cycles and is remembered across loads', async () => {
    const { page, done } = await open('/kanban', { colorScheme: 'light' })
    const toggle = page.getByTestId('theme-toggle')
    await toggle.click() // auto → light
    await toggle.click() // light → dark
    assert.equal((await shellLooks(page)).background, DARK_BACKGROUND)
    assert.equal(await page.evaluate(() => localStorage.getItem('color_scheme')), 'dark')

    await page.reload()
    await page.getByTestId('app-shell').waitFor()
    assert.equal((await shellLooks(page)).darkClass, true)
    await done()
  })

  it('navigates with the sidebar and updates the page title', async () => {
    const { page, done } = await open('/')
    assert.equal(new URL(page.url()).pathname, '/kanban')

    await page.getByTestId('nav-chat').click()
    await page.waitForURL('**/chat')
    assert.equal(await page.getByTestId('page-title').textContent(), 'Team chat')

    await page.getByTestId('nav-settings').click()
    await page.waitForURL('**/settings')
    assert.equal(await page.getByTestId('page-title').textContent(), 'Settings')
    assert.equal(await page.title(), 'Settings · Whatpro Hub')
    await done()
  })

  it('loads /settings directly', async () => {
    const { page, response, done } = await open('/settings')
    assert.equal(response.status(), 200)
    assert.equal(await page.getByTestId('page-title').textContent(), 'Settings')
    assert.match(await page.getByTestId('nav-settings').getAttribute('class'), /is-active/)
    await done()
  })
})
