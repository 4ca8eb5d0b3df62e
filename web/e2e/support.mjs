// Shared by the end-to-end tests: the browser, pages that collect console errors and CSP
// violations, and signing in through the UI.
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const RESULTS_DIR = fileURLToPath(new URL('../test-results/', import.meta.url))

export async function launchBrowser() {
  await mkdir(RESULTS_DIR, { recursive: true })
  return chromium.launch({
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
}

// Chromium logs every 4xx fetch as a console error. A 401 is how the hub answers the
// start-up refresh without a cookie, a wrong token, or an ended session, so those are
// expected; anything else still fails the test.
const EXPECTED_CONSOLE = [/Failed to load resource: the server responded with a status of 401/]

// The billing banner reads the account's billing on every page (src/billing/accountStatus.ts);
// a hub without billing configured answers that read 503 `billing_unavailable`, which the UI
// takes as "no banner". Only that read, with that status, is expected.
function expectedFailedLoad(message) {
  if (!/Failed to load resource: the server responded with a status of 503/.test(message.text())) return false
  const { url } = message.location()
  return /\/api\/v1\/accounts\/[^/]+\/billing$/.test(new URL(url, 'http://x').pathname)
}

/**
 * A fresh browser context (empty localStorage and cookies) on `path`, collecting console
 * errors, uncaught exceptions and CSP violations; `done()` closes it and asserts there
 * were none. With `signInWith`, signs in through the sign-in page first (a protected path
 * redirects there and comes back after sign-in).
 */
export async function openPage(browser, hubUrl, path, options = {}) {
  const { colorScheme = 'light', signInWith = null, allowConsole = [] } = options
  const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  const problems = []
  const allowed = [...EXPECTED_CONSOLE, ...allowConsole]
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    if (allowed.some((pattern) => pattern.test(message.text()))) return
    if (expectedFailedLoad(message)) return
    problems.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`)
    })
  })
  const response = await page.goto(`${hubUrl}${path}`)
  if (signInWith) {
    await signIn(page, signInWith)
    await page.getByTestId('app-shell').waitFor()
  }
  await page.evaluate(() => document.fonts.ready)

  async function done() {
    await context.close()
    assert.deepEqual(problems, [], 'no console errors, exceptions or CSP violations')
  }
  return { page, context, response, problems, done }
}

/**
 * Signs in on the sign-in page (waiting for it) with a Chatwoot token and waits until the
 * app has left /sign-in. The hub allows 10 sign-ins a minute per IP; if the form says to
 * wait, this waits and tries again.
 */
export async function signIn(page, token) {
  await page.getByTestId('sign-in-page').waitFor()
  for (let attempt = 0; attempt < 4; attempt++) {
    await page.getByTestId('token-input').fill(token)
    await page.getByTestId('sign-in-submit').click()
    // A previous attempt's error goes away as soon as the form is sent again.
    await page.getByTestId('sign-in-error').waitFor({ state: 'detached' })
    const outcome = await Promise.race([
      page
        .waitForURL((url) => url.pathname !== '/sign-in')
        .then(() => 'in')
        .catch(() => 'timeout'),
      page
        .getByTestId('sign-in-error')
        .waitFor()
        .then(() => 'error')
        .catch(() => 'timeout'),
    ])
    if (outcome === 'timeout') throw new Error('sign-in neither succeeded nor showed an error')
    if (outcome === 'in') return
    const message = await page.getByTestId('sign-in-error').textContent()
    const wait = /Try again in (\d+) second/.exec(message ?? '')
    if (!wait) throw new Error(`sign-in failed: ${message}`)
    await page.waitForTimeout((Number(wait[1]) + 1) * 1000)
  }
  throw new Error('sign-in kept being rate limited')
}

/** Remembers the last bearer token the page sent to the API. */
export function recordBearer(page) {
  const seen = { token: null }
  page.on('request', (request) => {
    const header = request.headers().authorization
    if (header?.startsWith('Bearer ')) seen.token = header.slice('Bearer '.length)
  })
  return seen
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms))

/**
 * Waits until `read()` returns `expected` (the UI updates a tick after a click or a URL
 * change), then asserts it, so a failure shows the last value seen.
 */
export async function eventually(read, expected, timeout = 10_000) {
  const deadline = Date.now() + timeout // wall-clock: a real timeout
  let actual = await read()
  while (actual !== expected && Date.now() < deadline) { // wall-clock: a real timeout
    await sleep(50)
    actual = await read()
  }
  assert.equal(actual, expected)
}

/** The trimmed text of `locator` becomes `expected`. */
export function expectText(locator, expected, timeout) {
  return eventually(async () => (await locator.textContent())?.trim(), expected, timeout)
}

/** The document title becomes `expected`. */
export function expectTitle(page, expected, timeout) {
  return eventually(() => page.title(), expected, timeout)
}

/** Screenshots of `page` in light and dark, as `<name>-light.png` and `<name>-dark.png`. */
export async function screenshots(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.waitForFunction((dark) => document.body.classList.contains('dark') === dark, scheme === 'dark')
    await page.waitForTimeout(300) // colours transition when the theme changes
    await page.screenshot({ path: `${RESULTS_DIR}${name}-${scheme}.png` })
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await page.waitForFunction(() => !document.body.classList.contains('dark'))
}
