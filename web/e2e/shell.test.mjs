// End-to-end: the built UI as the hub serves it, in Debian's Chromium. The shell needs a
// session, so the hub runs with its Chatwoot simulator (`serve --demo`) and each test
// signs in with the demo administrator's token.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, startHub } from './hub.mjs'
import { expectText, expectTitle, launchBrowser, openPage, RESULTS_DIR } from './support.mjs'

const LIGHT_BACKGROUND = 'rgb(247, 247, 247)'
const DARK_BACKGROUND = 'rgb(28, 29, 32)'

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

/** `path`, signed in as the demo administrator, with the shell on screen. */
function open(path, options = {}) {
  return openPage(browser, hub.url, path, { signInWith: DEMO_ADMIN_TOKEN, ...options })
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

describe('app shell', { timeout: 180_000 }, () => {
  it('is served under the strict CSP', async () => {
    const { page, response, done } = await openPage(browser, hub.url, '/kanban')
    const csp = response.headers()['content-security-policy'] ?? ''
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'"]) {
      assert.ok(csp.includes(directive), `CSP ${JSON.stringify(csp)} has ${directive}`)
    }
    // Without a session the app shows the sign-in page instead.
    await page.getByTestId('sign-in-page').waitFor()
    assert.equal(new URL(page.url()).pathname, '/sign-in')
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
    await expectText(page.getByTestId('page-title'), 'Kanban')
    for (const id of ['nav-kanban', 'nav-chat', 'nav-settings', 'theme-toggle', 'user-menu']) {
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
    assert.equal(new URL(dark.page.url()).search, '?theme=dark')
    assert.equal((await shellLooks(dark.page)).background, DARK_BACKGROUND)
    await dark.done()

    const light = await open('/kanban?theme=light', { colorScheme: 'dark' })
    assert.equal((await shellLooks(light.page)).background, LIGHT_BACKGROUND)
    await light.done()
  })

  it('the theme toggle cycles and is remembered across loads (the session too)', async () => {
    const { page, done } = await open('/kanban', { colorScheme: 'light' })
    const toggle = page.getByTestId('theme-toggle')
    await toggle.click() // auto → light
    await toggle.click() // light → dark
    assert.equal((await shellLooks(page)).background, DARK_BACKGROUND)
    assert.equal(await page.evaluate(() => localStorage.getItem('color_scheme')), 'dark')

    // The reload keeps the session through the hub's HttpOnly refresh cookie.
    await page.reload()
    await page.getByTestId('app-shell').waitFor()
    assert.equal(new URL(page.url()).pathname, '/kanban')
    assert.equal((await shellLooks(page)).darkClass, true)
    await done()
  })

  it('navigates with the sidebar and updates the page title', async () => {
    // From the public URL: the team chat opens the realtime WebSocket, whose handshake
    // carries the page's Origin, and the hub accepts only its own.
    const { page, done } = await openPage(browser, hub.publicUrl, '/', { signInWith: DEMO_ADMIN_TOKEN })
    assert.equal(new URL(page.url()).pathname, '/kanban')

    await page.getByTestId('nav-chat').click()
    await page.waitForURL('**/chat')
    await expectText(page.getByTestId('page-title'), 'Team chat')

    await page.getByTestId('nav-settings').click()
    await page.waitForURL('**/settings/profile')
    await expectText(page.getByTestId('page-title'), 'Settings')
    await expectTitle(page, 'Profile · Settings · Whatpro Hub')
    await done()
  })

  it('loads /settings directly, after signing in', async () => {
    const { page, response, done } = await open('/settings')
    assert.equal(response.status(), 200)
    await page.waitForURL('**/settings/profile')
    await expectText(page.getByTestId('page-title'), 'Settings')
    await page.locator('[data-testid="nav-settings"].is-active').waitFor()
    await done()
  })
})
