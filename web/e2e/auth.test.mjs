// End-to-end: signing in with a Chatwoot token, sessions and API keys, against
// `whatpro-hub serve --demo` (a built-in Chatwoot simulator with an admin and an agent).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN, startHub } from './hub.mjs'
import {
  eventually,
  expectText,
  expectTitle,
  launchBrowser,
  openPage,
  recordBearer,
  RESULTS_DIR,
  signIn,
} from './support.mjs'

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

/** Both themes of the current page, via the OS preference (the theme follows it on auto). */
async function screenshots(page, name) {
  await page.emulateMedia({ colorScheme: 'light' })
  await page.waitForFunction(() => !document.body.classList.contains('dark'))
  await page.screenshot({ path: `${RESULTS_DIR}${name}-light.png` })
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.waitForFunction(() => document.body.classList.contains('dark'))
  await page.screenshot({ path: `${RESULTS_DIR}${name}-dark.png` })
  await page.emulateMedia({ colorScheme: 'light' })
  await page.waitForFunction(() => !document.body.classList.contains('dark'))
}

function eventuallyAttr(locator, name, expected) {
  return eventually(() => locator.getAttribute(name), expected)
}

async function goToSettings(page, section) {
  await page.getByTestId('nav-settings').click()
  await page.getByTestId(`settings-nav-${section}`).click()
  await page.waitForURL(`**/settings/${section}`)
}

/** Calls the hub directly (outside the browser) with a bearer credential. */
async function hubFetch(path, credential, init = {}) {
  const response = await fetch(`${hub.url}/api/v1${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${credential}`, ...init.headers },
  })
  const body = response.status === 204 ? null : await response.json()
  return { status: response.status, body }
}

describe('sign-in', { timeout: 120_000 }, () => {
  it('with the demo admin token lands on Kanban with the user shown', async () => {
    const { page, done } = await openPage(browser, hub.url, '/')
    await page.getByTestId('sign-in-page').waitFor()
    assert.equal(new URL(page.url()).pathname, '/sign-in')
    await expectTitle(page, 'Sign in · Whatpro Hub')
    assert.equal(await page.getByTestId('token-input').getAttribute('type'), 'password')
    assert.match(await page.getByTestId('sign-in-page').textContent(), /Profile settings/)
    await page.getByTestId('token-input').fill('a-token-that-stays-secret')
    await screenshots(page, 'sign-in')
    await page.getByTestId('token-input').fill('')

    await signIn(page, DEMO_ADMIN_TOKEN)
    await page.waitForURL('**/kanban')
    await page.getByTestId('app-shell').waitFor()
    await expectText(page.getByTestId('current-user-name'), 'Ana Admin')
    await expectText(page.getByTestId('current-account-name'), 'Demo Co')
    await expectText(page.getByTestId('page-title'), 'Kanban')
    // Tokens stay in memory: nothing in web storage, and no cookie readable by script.
    const stored = await page.evaluate(() => ({
      local: Object.keys(localStorage),
      session: Object.keys(sessionStorage),
      cookie: document.cookie,
    }))
    assert.deepEqual(stored, { local: [], session: [], cookie: '' })
    await done()
  })

  it('a wrong token shows why, and an empty one asks for it', async () => {
    const { page, done } = await openPage(browser, hub.url, '/sign-in')
    await page.getByTestId('sign-in-page').waitFor()

    await page.getByTestId('sign-in-submit').click()
    await page.getByText('Enter your Chatwoot access token.').waitFor()

    await page.getByTestId('token-input').fill('notARealChatwootToken123')
    await page.getByTestId('sign-in-submit').click()
    const error = page.getByTestId('sign-in-error')
    await error.waitFor()
    assert.match(await error.textContent(), /Chatwoot did not accept this access token/)
    assert.equal(new URL(page.url()).pathname, '/sign-in')
    await done()
  })

  it('a protected page sends a signed-out visitor to sign-in and back', async () => {
    const { page, done } = await openPage(browser, hub.url, '/chat')
    // The hub is reached at 127.0.0.1 while PUBLIC_URL says localhost: its own page still
    // opens the realtime socket (the handshake's Origin matches the Host it asked for).
    const socketReady = new Promise((resolve) => {
      page.on('websocket', (socket) =>
        socket.on('framereceived', ({ payload }) => {
          if (String(payload).includes('"type":"ready"')) resolve()
        }),
      )
    })
    await page.getByTestId('sign-in-page').waitFor()
    assert.equal(new URL(page.url()).searchParams.get('redirect'), '/chat')
    await signIn(page, DEMO_ADMIN_TOKEN)
    await page.waitForURL('**/chat')
    await socketReady
    await done()
  })
})

describe('sessions', { timeout: 120_000 }, () => {
  it('Settings → Sessions lists the current session', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await goToSettings(page, 'sessions')
    await expectTitle(page, 'Sessions · Settings · Whatpro Hub')
    const current = page.locator('[data-testid="session-row"][data-current="true"]')
    await current.waitFor()
    await expectText(current.getByTestId('current-badge'), 'This device')
    await expectText(current.getByTestId('session-device'), 'Chrome on Linux')
    await expectText(current.getByTestId('session-ip'), '127.0.0.1')
    assert.equal(await current.getByTestId('session-end').count(), 0, 'no End on this device')
    await screenshots(page, 'sessions')
    await done()
  })

  it("ending another session sends that browser to sign-in on its next API call", async () => {
    const first = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    const second = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    const secondBearer = recordBearer(second.page)
    // An API call from the second browser, so its token is known and works.
    await goToSettings(second.page, 'sessions')
    await second.page.locator('[data-testid="session-row"][data-current="true"]').waitFor()
    const secondSession = await second.page
      .locator('[data-testid="session-row"][data-current="true"]')
      .getAttribute('data-session-id')
    assert.ok(secondBearer.token, 'the second browser sent a bearer token')
    assert.equal((await hubFetch('/auth/me', secondBearer.token)).status, 200)

    await goToSettings(first.page, 'sessions')
    const other = first.page.locator(`[data-testid="session-row"][data-session-id="${secondSession}"]`)
    await other.waitFor()
    await other.getByTestId('session-end').click()
    await first.page.getByTestId('sessions-notice').waitFor()
    await other.waitFor({ state: 'detached' })
    assert.equal(new URL(first.page.url()).pathname, '/settings/sessions', 'the first stays signed in')

    // The second browser still shows the app until it next talks to the hub.
    await second.page.getByTestId('settings-nav-profile').click()
    await second.page.getByTestId('settings-nav-sessions').click()
    await second.page.getByTestId('sign-in-page').waitFor()
    const url = new URL(second.page.url())
    assert.equal(url.pathname, '/sign-in')
    assert.equal(url.searchParams.get('redirect'), '/settings/sessions')
    await second.page.getByTestId('sign-in-notice').filter({ hasText: 'session was ended' }).waitFor()
    assert.equal((await hubFetch('/auth/me', secondBearer.token)).status, 401)

    await second.done()
    await first.done()
  })

  it('"End all other sessions" asks first, then ends them', async () => {
    const first = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    const second = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await goToSettings(first.page, 'sessions')
    await first.page.locator('[data-testid="session-row"][data-current="false"]').first().waitFor()

    await first.page.getByTestId('end-other-sessions').click()
    const confirm = first.page.getByTestId('confirm-button')
    await confirm.waitFor()
    await confirm.click()
    await first.page.getByTestId('sessions-notice').filter({ hasText: /Ended \d+ other session/ }).waitFor()
    await first.page.locator('[data-testid="session-row"][data-current="false"]').first().waitFor({ state: 'detached' })
    assert.equal(await first.page.getByTestId('session-row').count(), 1)

    await second.page.getByTestId('nav-settings').click()
    await second.page.getByTestId('settings-nav-sessions').click()
    await second.page.getByTestId('sign-in-page').waitFor()
    await second.done()
    await first.done()
  })
})

describe('API keys', { timeout: 120_000 }, () => {
  it('an admin creates a key, sees its secret once, and revokes it', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    await goToSettings(page, 'api-keys')
    await expectTitle(page, 'API keys · Settings · Whatpro Hub')
    await page.getByTestId('api-keys-empty').waitFor()

    await page.getByTestId('create-api-key').click()
    const dialog = page.getByTestId('api-key-dialog')
    await dialog.getByTestId('api-key-name').waitFor()
    await dialog.getByTestId('api-key-create').click()
    await dialog.getByText('Give the key a name', { exact: false }).waitFor()
    await dialog.getByText('Choose at least one scope.').waitFor()

    await dialog.getByTestId('api-key-name').fill('CRM sync')
    await dialog.locator('input[data-scope="kanban:read"]').check()
    await dialog.locator('input[data-scope="chat:write"]').check()
    await dialog.getByTestId('api-key-create').click()

    const secretInput = dialog.getByTestId('api-key-secret')
    await secretInput.waitFor()
    const secret = await secretInput.inputValue()
    assert.match(secret, /^wph_[A-Za-z0-9]{20,}$/)
    assert.match(await dialog.getByTestId('api-key-warning').textContent(), /only time the key is shown/)
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
    await dialog.getByTestId('copy-api-key').click()
    await expectText(dialog.getByTestId('copy-api-key'), 'Copied')
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret)
    await page.screenshot({ path: `${RESULTS_DIR}api-key-created-light.png` })

    // The key works, within its scopes.
    const listUrl = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => e.name).find((n) => n.includes('/api-keys')),
    )
    const accountId = /\/accounts\/([^/]+)\/api-keys/.exec(listUrl)[1]
    const unscoped = await hubFetch(`/accounts/${accountId}/users`, secret)
    assert.equal(unscoped.status, 403)
    assert.equal(unscoped.body.code, 'insufficient_scope')

    await dialog.getByTestId('api-key-done').click()
    await dialog.waitFor({ state: 'hidden' })
    const row = page.getByTestId('api-key-row').filter({ hasText: 'CRM sync' })
    await row.waitFor()
    await expectText(row.getByTestId('api-key-name-cell'), 'CRM sync')
    assert.equal(await row.getAttribute('data-state'), 'active')
    assert.deepEqual(await row.getByTestId('scope-chip').allTextContents().then((t) => t.map((s) => s.trim())), [
      'kanban:read',
      'chat:write',
    ])
    assert.equal(await row.getByTestId('api-key-prefix').textContent(), `${secret.slice(0, 10)}…`)
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page')
    await screenshots(page, 'api-keys')

    await row.getByTestId('api-key-revoke').click()
    await page.getByTestId('confirm-button').click()
    await page.getByTestId('api-keys-notice').waitFor()
    await row.getByTestId('api-key-revoked').waitFor()
    await eventuallyAttr(row, 'data-state', 'revoked')
    assert.equal(await row.getByTestId('api-key-revoke').count(), 0)
    const revoked = await hubFetch(`/accounts/${accountId}/users`, secret)
    assert.equal(revoked.status, 401)
    assert.equal(revoked.body.code, 'api_key_revoked')
    await page.screenshot({ path: `${RESULTS_DIR}api-keys-revoked-light.png` })
    await done()
  })

  it('agents do not see API keys', async () => {
    const { page, done } = await openPage(browser, hub.url, '/settings/api-keys', {
      signInWith: DEMO_AGENT_TOKEN,
    })
    await page.waitForURL('**/settings/profile')
    await expectText(page.getByTestId('profile-role'), 'Agent')
    await page.getByTestId('settings-nav-sessions').waitFor()
    assert.equal(await page.getByTestId('settings-nav-api-keys').count(), 0)
    await done()
  })
})

describe('sign-out', { timeout: 120_000 }, () => {
  it('returns to sign-in and the old access token stops working', async () => {
    const { page, done } = await openPage(browser, hub.url, '/kanban', { signInWith: DEMO_ADMIN_TOKEN })
    const bearer = recordBearer(page)
    await goToSettings(page, 'sessions')
    await page.getByTestId('session-row').first().waitFor()
    const oldToken = bearer.token
    assert.ok(oldToken, 'the page sent a bearer token')
    assert.equal((await hubFetch('/auth/me', oldToken)).status, 200)

    await page.getByTestId('user-menu').click()
    await page.getByTestId('sign-out').click()
    await page.getByTestId('sign-in-page').waitFor()
    const url = new URL(page.url())
    assert.equal(url.pathname, '/sign-in')
    assert.equal(url.search, '', 'no redirect back after signing out on purpose')
    assert.equal(await page.getByTestId('sign-in-notice').count(), 0)

    const after = await hubFetch('/auth/me', oldToken)
    assert.equal(after.status, 401)
    assert.equal(after.body.code, 'session_revoked')

    // A reload stays signed out: the refresh cookie went with the session.
    await page.reload()
    await page.getByTestId('sign-in-page').waitFor()
    await done()
  })
})
