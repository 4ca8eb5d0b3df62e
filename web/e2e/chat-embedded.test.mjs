// End-to-end: the team chat inside Chatwoot, as its people use it. Two browsers, each
// signed in to the simulator's Chatwoot dashboard (the demo's administrator and agent),
// open the Team chat entry that the hub's dashboard script adds, and talk through the
// hub's UI in its frame: messages, typing and unread counts arrive live, a pasted image
// shows as a thumbnail on the other side, and search finds a message and opens it.
// Two sites, as in production: Chatwoot at 127.0.0.1:<simulator port>, the hub at
// localhost:<hub port> (its PUBLIC_URL, where the frame and the files' links live).
import assert from 'node:assert/strict'
import { deflateSync, crc32 } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD, startHub } from './hub.mjs'
import { eventually, expectText, launchBrowser, openPage, RESULTS_DIR } from './support.mjs'

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

/** A `width`×`height` PNG of one colour, made here (no file on disk). */
function png(width, height, [r, g, b]) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8 bits, RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())])
  const pixels = Buffer.concat(Array.from({ length: height }, () => row))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** A fresh browser signed in to Chatwoot as `email`, with the hub's Team chat open in its frame. */
async function chatInChatwoot(email, password) {
  // The hub refuses an SVG with 415, which Chromium logs like any failed load.
  const opened = await openPage(browser, hub.chatwootUrl, '/app/login', { allowConsole: [/status of 415/] })
  const { page } = opened
  // The frame's realtime socket has said `ready` (before a room is open, nothing on screen says so).
  const socketReady = new Promise((ready) => {
    page.on('websocket', (socket) => {
      socket.on('framereceived', ({ payload }) => {
        if (String(payload).includes('"type":"ready"')) ready()
      })
    })
  })
  await page.locator('input[name="email"]').fill(email)
  await page.locator('input[name="password"]').fill(password)
  await page.locator('button[type="submit"]').click()
  await page.waitForURL(/\/app\/accounts\/\d+\/dashboard$/)
  const entry = page.locator('aside nav li.whatpro-item', { hasText: 'Team chat' })
  await entry.waitFor()
  await entry.click()
  const frame = page.frameLocator('iframe.whatpro-frame:not([hidden])')
  await frame.getByTestId('chat-page').waitFor()
  await frame.getByTestId('room-list').waitFor()
  assert.equal(await frame.getByTestId('app-shell').count(), 0, 'Chatwoot provides the chrome')
  await socketReady
  return { ...opened, frame }
}

const live = (frame) => expectText(frame.getByTestId('chat-live'), 'Live', 10_000)
const roomItem = (frame, name) => frame.getByTestId('room-item').filter({ has: frame.locator('.name', { hasText: name }) })
const body = (frame, text) => frame.getByTestId('room-pane').getByTestId('message-body').filter({ hasText: text })
const composerOf = (frame) => frame.getByTestId('room-pane').getByTestId('composer-input')

async function send(frame, text) {
  const input = composerOf(frame)
  await input.fill(text)
  await input.press('Enter')
  await body(frame, text).waitFor()
  await eventually(() => frame.getByTestId('outgoing-message').count(), 0)
}

describe('team chat inside Chatwoot', { timeout: 240_000 }, () => {
  it('two people talk live in the frame: messages, typing, unread, a pasted image, and search', async () => {
    const bruno = await chatInChatwoot(DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD)
    const ana = await chatInChatwoot(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    const anaName = 'Ana Admin'
    const brunoName = 'Bruno Agent'

    try {
      // Ana opens a direct conversation with Bruno and writes.
      await ana.frame.getByTestId('new-direct').click()
      await ana.frame.getByTestId('person-option').filter({ hasText: brunoName }).locator('input').check()
      await ana.frame.getByTestId('new-direct-submit').click()
      await expectText(ana.frame.getByTestId('room-name'), brunoName)
      await live(ana.frame)
      await send(ana.frame, 'Hello from inside Chatwoot, the quarterly forecast is attached soon')

      // Bruno's list gets the room, unread, without reloading anything.
      const dm = roomItem(bruno.frame, anaName)
      await dm.getByTestId('room-unread').waitFor({ timeout: SEEN_WITHIN })
      assert.equal((await dm.getByTestId('room-unread').textContent()).trim(), '1')
      await dm.click()
      await body(bruno.frame, 'Hello from inside Chatwoot').waitFor()
      // Read: the badge goes.
      await dm.getByTestId('room-unread').waitFor({ state: 'detached', timeout: SEEN_WITHIN })

      // Bruno answers; Ana sees it at once.
      await send(bruno.frame, 'Got it, waiting for the file')
      await body(ana.frame, 'Got it, waiting for the file').waitFor({ timeout: SEEN_WITHIN })

      // Ana types at a person's pace: Bruno sees it, and it goes when her message comes.
      const typing = composerOf(ana.frame).pressSequentially('Here it comes', { delay: 400 })
      await expectText(bruno.frame.getByTestId('typing'), `${anaName} is typing…`, SEEN_WITHIN)
      await typing
      await composerOf(ana.frame).fill('')

      // Ana pastes a screenshot: it uploads at once, and goes with a message.
      const image = png(400, 300, [39, 129, 246])
      await composerOf(ana.frame).evaluate((el, bytes) => {
        const data = new DataTransfer()
        data.items.add(new File([new Uint8Array(bytes)], 'forecast.png', { type: 'image/png' }))
        el.focus()
        el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
      }, [...image])
      const upload = ana.frame.getByTestId('upload-item')
      await upload.waitFor()
      await eventually(() => upload.getAttribute('data-status'), 'done')
      assert.equal((await upload.getByTestId('upload-name').textContent()).trim(), 'forecast.png')
      // A file the hub refuses says why, and stays out of the message.
      await ana.frame.getByTestId('attach-input').setInputFiles({
        name: 'page.svg',
        mimeType: 'image/svg+xml',
        buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      })
      await expectText(ana.frame.getByTestId('upload-error'), 'page.svg cannot be sent. HTML, XML and SVG files are not accepted.')
      await ana.frame.getByRole('button', { name: 'Remove page.svg' }).click()
      await composerOf(ana.frame).fill('The forecast')
      await composerOf(ana.frame).press('Enter')
      await eventually(() => ana.frame.getByTestId('upload-item').count(), 0)

      // Bruno sees the thumbnail (loaded, in the box reserved for it) and opens the image.
      const sent = bruno.frame.getByTestId('chat-message').filter({ hasText: 'The forecast' })
      const thumbnail = sent.getByTestId('attachment-thumbnail')
      await thumbnail.waitFor({ timeout: SEEN_WITHIN })
      await eventually(() => thumbnail.evaluate((img) => img.complete && img.naturalWidth), 320)
      assert.deepEqual(await thumbnail.evaluate((img) => [img.getAttribute('width'), img.getAttribute('height')]), ['320', '240'])
      const src = await thumbnail.getAttribute('src')
      assert.ok(src.startsWith(`${hub.publicUrl}/api/v1/chat/files/`), src)
      await sent.getByTestId('attachment-image').click()
      const full = bruno.frame.getByTestId('image-viewer-image')
      await eventually(() => full.evaluate((img) => img.complete && img.naturalWidth), 400)
      await bruno.page.keyboard.press('Escape')
      await bruno.frame.getByTestId('image-viewer').waitFor({ state: 'detached' })
      await bruno.page.screenshot({ path: `${RESULTS_DIR}chat-embedded-image.png` })

      // More talk, so the first message scrolls away; then Bruno searches for it.
      for (let i = 1; i <= 12; i++) await send(bruno.frame, `Filler line ${i}`)
      const search = bruno.frame.getByTestId('chat-search-input')
      await search.fill('quarterly forec')
      const hit = bruno.frame.getByTestId('search-hit')
      await hit.first().waitFor()
      assert.equal(await hit.count(), 1)
      assert.equal((await hit.getByTestId('search-hit-snippet').locator('mark').first().textContent()).trim(), 'quarterly')
      assert.equal((await hit.getByTestId('search-hit-author').textContent()).trim(), anaName)
      await bruno.page.screenshot({ path: `${RESULTS_DIR}chat-embedded-search.png` })
      await hit.click()
      const found = bruno.frame.locator('[data-testid="chat-message"].is-focused')
      await found.waitFor()
      assert.match(await found.textContent(), /the quarterly forecast is attached soon/)
      assert.equal(await found.isVisible(), true)
      await eventually(
        () =>
          found.evaluate((el) => {
            const list = el.closest('[data-testid="message-list"]').getBoundingClientRect()
            const box = el.getBoundingClientRect()
            return box.top >= list.top && box.bottom <= list.bottom
          }),
        true,
      )
    } finally {
      await bruno.done()
      await ana.done()
    }
  })
})
