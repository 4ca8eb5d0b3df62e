// End-to-end: the team chat between two people of one account, each in a browser of their
// own (the demo's administrator and agent). One opens a channel and a direct message, both
// write, and each sees what the other wrote at once (and that the other is online), through
// the realtime WebSocket (the page also reads on opening a room and after sending, and every
// 15 s while the socket is down). Pages load from the hub's public URL: a browser sends an Origin with every
// WebSocket handshake, and the hub accepts only its own (and the configured ones).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN, startHub } from './hub.mjs'
import { eventually, expectText, launchBrowser, openPage, RESULTS_DIR, screenshots } from './support.mjs'

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

// Well under the page's periodic read (15 s): what arrives within it came by the socket.
const SEEN_WITHIN = 5_000

async function openChat(token) {
  const opened = await openPage(browser, hub.publicUrl, '/chat', { signInWith: token })
  await opened.page.getByTestId('chat-page').waitFor()
  await opened.page.getByTestId('room-list').waitFor()
  return opened
}

/** The room's live indicator says the socket is up. */
const live = (page) => expectText(page.locator('[data-testid="chat-live"]'), 'Live', 10_000)

const room = (page, name) => page.getByTestId('room-item').filter({ has: page.locator('.name', { hasText: name }) })
const message = (page, body) => page.getByTestId('message-body').filter({ hasText: body })

/** Sends `text` from the room's composer; `shown` is how it reads once rendered. */
async function send(page, text, shown = text) {
  const input = page.getByTestId('room-pane').getByTestId('composer-input')
  await input.fill(text)
  await input.press('Enter')
  await message(page, shown).waitFor().catch(async (error) => {
    await page.screenshot({ path: `${RESULTS_DIR}chat-send-failed.png` })
    throw error
  })
  // Sent and stored: no longer pending, and the focus stays in the composer.
  await eventually(() => page.getByTestId('outgoing-message').count(), 0)
  assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'focus stays in the composer')
}

describe('team chat', { timeout: 180_000 }, () => {
  it('two people of one account talk in a channel and a direct message', async () => {
    const ana = await openChat(DEMO_ADMIN_TOKEN)
    // The agent signs in once so the directory knows them.
    const bruno = await openChat(DEMO_AGENT_TOKEN)
    const brunoName = (await bruno.page.getByTestId('current-user-name').textContent()).trim()
    const anaName = (await ana.page.getByTestId('current-user-name').textContent()).trim()

    // Ana opens a public channel and writes in it.
    await ana.page.getByTestId('new-channel').click()
    await ana.page.getByTestId('channel-name-input').fill('e2e-team')
    await ana.page.getByTestId('channel-topic-input').fill('Where the e2e test talks')
    await ana.page.getByTestId('new-channel-submit').click()
    await expectText(ana.page.getByTestId('room-name'), '#e2e-team')
    await expectText(ana.page.getByTestId('room-topic'), 'Where the e2e test talks')
    await live(ana.page)
    await send(ana.page, 'Hello from Ana')

    // Bruno finds the channel (public: in everyone's list), reads Ana and answers.
    // A public channel sends nothing to those not in it: it reaches their list with the
    // list's next read (every minute with the socket up), or at once on reloading.
    await bruno.page.reload()
    await room(bruno.page, 'e2e-team').click()
    await message(bruno.page, 'Hello from Ana').waitFor()
    await live(bruno.page)
    // Writing joins the channel.
    await send(bruno.page, 'Hi Ana, Bruno here')

    // Ana sees the answer without doing anything.
    await message(ana.page, 'Hi Ana, Bruno here').waitFor({ timeout: SEEN_WITHIN })

    // Ana types (at a person's pace: the hint is repeated every few seconds while typing
    // goes on, and the hub passes one per person every 2 s): Bruno sees it, and it goes
    // when her message comes.
    const anaInput = ana.page.getByTestId('room-pane').getByTestId('composer-input')
    const typing = anaInput.pressSequentially('Great news', { delay: 400 })
    await expectText(bruno.page.getByTestId('typing'), `${anaName} is typing…`, SEEN_WITHIN)
    await typing
    await anaInput.press('Enter')
    await message(bruno.page, 'Great news').waitFor({ timeout: SEEN_WITHIN })
    await expectText(bruno.page.getByTestId('typing'), '', SEEN_WITHIN)
    // Both see both messages in the order they were sent, with their authors.
    for (const page of [ana.page, bruno.page]) {
      const bodies = await page.getByTestId('room-pane').getByTestId('message-body').allTextContents()
      assert.deepEqual(bodies.map((b) => b.trim()), ['Hello from Ana', 'Hi Ana, Bruno here', 'Great news'])
      const authors = await page.getByTestId('room-pane').getByTestId('message-author').allTextContents()
      assert.deepEqual(authors.map((a) => a.trim()), [anaName, brunoName, anaName])
    }

    // Ana mentions Bruno: the textarea shows the name, the message is stored with the id.
    const input = ana.page.getByTestId('room-pane').getByTestId('composer-input')
    await input.fill('')
    await input.pressSequentially(`ping @${brunoName.slice(0, 3)}`)
    await ana.page.getByTestId('mention-option').filter({ hasText: brunoName }).waitFor()
    await input.press('Enter')
    await eventually(() => input.inputValue(), `ping @${brunoName} `)
    await input.press('Enter')
    await message(ana.page, `ping @${brunoName}`).waitFor()
    await message(bruno.page, `ping @${brunoName}`).waitFor({ timeout: SEEN_WITHIN })

    // Ana writes to Bruno directly; the room shows up in Bruno's list, unread.
    await ana.page.getByTestId('new-direct').click()
    await ana.page.getByTestId('person-option').filter({ hasText: brunoName }).locator('input').check()
    await ana.page.getByTestId('new-direct-submit').click()
    await expectText(ana.page.getByTestId('room-name'), brunoName)
    await send(ana.page, 'Just between us')
    const dm = room(bruno.page, anaName)
    await dm.waitFor({ timeout: SEEN_WITHIN })
    // Both have the chat open: each one's direct room shows the other online.
    const online = '[data-testid="presence-dot"][data-status="online"]'
    await dm.locator(online).waitFor({ timeout: SEEN_WITHIN })
    await room(ana.page, brunoName).locator(online).waitFor({ timeout: SEEN_WITHIN })
    await dm.getByTestId('room-unread').waitFor({ timeout: SEEN_WITHIN })
    await dm.click()
    await message(bruno.page, 'Just between us').waitFor()
    // Read: the badge goes.
    await dm.getByTestId('room-unread').waitFor({ state: 'detached', timeout: SEEN_WITHIN })

    // After a reload each still sees the conversation.
    await bruno.page.reload()
    await message(bruno.page, 'Just between us').waitFor()
    await ana.page.reload()
    await message(ana.page, 'Just between us').waitFor()

    await screenshots(ana.page, 'chat')
    await bruno.done()
    await ana.done()
  })

  it('renders Markdown and mentions, and follows reactions, edits, threads and deletes live', async () => {
    const ana = await openChat(DEMO_ADMIN_TOKEN)
    const bruno = await openChat(DEMO_AGENT_TOKEN)
    const brunoName = (await bruno.page.getByTestId('current-user-name').textContent()).trim()

    await ana.page.getByTestId('new-channel').click()
    await ana.page.getByTestId('channel-name-input').fill('e2e-messages')
    await ana.page.getByTestId('new-channel-submit').click()
    await expectText(ana.page.getByTestId('room-name'), '#e2e-messages')
    await live(ana.page)
    await send(ana.page, 'Read **this** in [the handbook](https://example.com/x) <b>not bold</b>', 'Read this in the handbook')
    // The hub's sanitised html: bold, a safe link, raw HTML as text.
    const first = ana.page.getByTestId('chat-message').first()
    assert.equal(await first.locator('strong').textContent(), 'this')
    assert.equal(await first.locator('a').getAttribute('href'), 'https://example.com/x')
    assert.match(await first.locator('a').getAttribute('rel'), /noopener/)
    assert.equal(await first.locator('b').count(), 0)
    assert.match(await first.getByTestId('message-body').textContent(), /<b>not bold<\/b>/)

    await bruno.page.reload()
    await room(bruno.page, 'e2e-messages').click()
    await live(bruno.page)
    await send(bruno.page, 'Joined')

    // A mention picked from the list: a highlighted name for Bruno.
    const input = ana.page.getByTestId('room-pane').getByTestId('composer-input')
    await input.pressSequentially(`@${brunoName.slice(0, 3)}`)
    await ana.page.getByTestId('mention-option').filter({ hasText: brunoName }).waitFor()
    await input.press('Enter')
    await input.pressSequentially('please check')
    await input.press('Enter')
    const mention = bruno.page.getByTestId('chat-message').filter({ hasText: 'please check' })
    await mention.waitFor({ timeout: SEEN_WITHIN })
    await expectText(mention.locator('.mention'), `@${brunoName}`)
    assert.match(await mention.getAttribute('class'), /is-mention/)

    // Bruno reacts to Ana's first message; Ana sees the count.
    const target = bruno.page.getByTestId('chat-message').filter({ hasText: 'Read this' })
    await target.hover()
    await target.getByTestId('react-button').click()
    await target.getByTestId('reaction-picker').getByRole('button', { name: 'React with 👍' }).click()
    await expectText(ana.page.getByTestId('chat-message').filter({ hasText: 'Read this' }).getByTestId('reaction'), '👍1', SEEN_WITHIN)

    // Ana edits her last message with ↑; Bruno sees the new text, marked edited.
    await input.press('ArrowUp')
    await ana.page.getByTestId('editing-bar').waitFor()
    // The mention comes back as the name, and stays a mention when saved.
    assert.equal(await input.inputValue(), `@${brunoName} please check`)
    await input.press('End')
    await input.pressSequentially(' the queue')
    await input.press('Enter')
    await expectText(mention.getByTestId('message-body'), `@${brunoName} please check the queue`, SEEN_WITHIN)
    await mention.getByTestId('message-edited').waitFor()

    // Bruno answers in a thread; Ana sees the reply count and opens it.
    await target.hover()
    await target.getByTestId('reply-button').click()
    const pane = bruno.page.getByTestId('thread-pane')
    await pane.getByTestId('composer-input').fill('Replying in the thread')
    await pane.getByTestId('composer-input').press('Enter')
    await pane.getByTestId('message-body').filter({ hasText: 'Replying in the thread' }).waitFor()
    const link = ana.page.getByTestId('chat-message').filter({ hasText: 'Read this' }).getByTestId('thread-link')
    await link.waitFor({ timeout: SEEN_WITHIN })
    assert.match(await link.textContent(), /1 reply/)
    await link.click()
    await ana.page.getByTestId('thread-pane').getByTestId('message-body').filter({ hasText: 'Replying in the thread' }).waitFor()
    await ana.page.keyboard.press('Escape')
    await ana.page.getByTestId('thread-pane').waitFor({ state: 'detached' })

    // Ana deletes her "Read this" message: a tombstone for Bruno, the thread kept.
    const own = ana.page.getByTestId('chat-message').filter({ hasText: 'Read this' })
    await own.hover()
    await own.getByTestId('message-menu-button').click()
    await own.getByTestId('delete-message').click()
    await ana.page.getByTestId('confirm-button').click()
    await bruno.page.getByTestId('room-pane').getByTestId('message-deleted').waitFor({ timeout: SEEN_WITHIN })
    await bruno.page.getByTestId('thread-pane').getByTestId('message-deleted').waitFor()

    // Bruno marks unread from Ana's mention: the room counts it again.
    await mention.hover()
    await mention.getByTestId('message-menu-button').click()
    await mention.getByTestId('mark-unread').click()
    await room(bruno.page, 'e2e-messages').getByTestId('room-unread').waitFor({ timeout: SEEN_WITHIN })

    await bruno.done()
    await ana.done()
  })
})
