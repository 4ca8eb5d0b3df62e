import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { mountChat, press, textOf, typeInto, type MountedChat } from '../../test/chatHarness'
import type { FakeChat } from '../../test/fakeChat'
import { FakeXhr } from '../../test/fakeXhr'
import { TEST_NOW } from '../../test/clock'

let ui: MountedChat

afterEach(() => {
  ui?.unmount()
})

/** A channel "general" with one message, the only room. */
function seed(h: FakeChat) {
  const general = h.addRoom({ kind: 'channel', name: 'general' }, ['user-1', 'user-2'])
  h.addMessage(general.id, 'user-2', 'Morning')
  return general
}

const file = (name: string, size = 2048) => new File([new Uint8Array(size)], name)

async function opened(prepare: (h: FakeChat) => void = seed) {
  ui = await mountChat('/chat', prepare)
  await vi.waitFor(() => expect(ui.allTestId('chat-message').length).toBeGreaterThan(0))
  return ui.testId('room-pane')!
}

function choose(files: File[]) {
  const input = ui.testId('attach-input') as HTMLInputElement
  Object.defineProperty(input, 'files', { value: files, configurable: true })
  input.dispatchEvent(new Event('change'))
}

function paste(target: HTMLElement, files: File[], types = ['Files']) {
  const event = new Event('paste', { bubbles: true, cancelable: true })
  Object.defineProperty(event, 'clipboardData', { value: { files, types } })
  target.dispatchEvent(event)
  return event
}

function drag(target: HTMLElement, type: 'dragover' | 'drop', files: File[]) {
  const event = new Event(type, { bubbles: true, cancelable: true })
  Object.defineProperty(event, 'dataTransfer', { value: { files, types: ['Files'], dropEffect: 'none' } })
  target.dispatchEvent(event)
  return event
}

const posts = () => ui.hub.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/messages'))

describe('Team chat files', () => {
  it('uploads a chosen file at once with its progress, and sends it with no text; the message shows a thumbnail and a file chip', async () => {
    const pane = await opened()
    FakeXhr.hold = true
    choose([file('photo.png', 4096), file('<img src=x onerror=alert(1)>.pdf', 48213)])
    await vi.waitFor(() => expect(ui.allTestId('upload-item')).toHaveLength(2))
    const [photo, hostile] = ui.allTestId('upload-item')
    expect(photo!.dataset.status).toBe('uploading')
    expect(textOf(photo)).toContain('4 KB · 50%')
    expect((ui.testId('upload-progress', photo)! as HTMLProgressElement).value).toBe(50)
    // The name is text, whatever it says.
    expect(ui.testId('upload-name', hostile)!.textContent).toBe('<img src=x onerror=alert(1)>.pdf')
    expect(pane.querySelector('[data-testid="upload-list"] img')).toBeNull()
    // Sending waits for the files.
    const send = ui.testId('composer-send', pane) as HTMLButtonElement
    expect(send.disabled).toBe(true)
    expect(ui.testId('upload-wait')).not.toBeNull()
    press(ui.testId('composer-input', pane)!, 'Enter')
    expect(posts()).toHaveLength(0)

    FakeXhr.release()
    await vi.waitFor(() => expect(ui.allTestId('upload-item').map((el) => el.dataset.status)).toEqual(['done', 'done']))
    expect(send.disabled).toBe(false)
    send.click()
    await vi.waitFor(() => expect(posts()).toHaveLength(1))
    const ids = ui.hub.chat.files.map((f) => f.id)
    expect(posts()[0]!.body).toEqual({ body: '', client_id: expect.any(String), attachment_ids: ids })
    expect(ui.allTestId('upload-item')).toHaveLength(0)

    // The message shows the image as its thumbnail in a reserved box, and the file as a chip.
    const sent = await vi.waitFor(() => {
      const found = ui.allTestId('chat-message').find((el) => ui.testId('message-attachments', el))
      expect(found).toBeDefined()
      return found!
    })
    expect(ui.testId('message-body', sent)).toBeNull()
    const thumb = ui.testId('attachment-thumbnail', sent) as HTMLImageElement
    expect(thumb.getAttribute('src')).toBe(`http://hub.test/api/v1/chat/files/${ids[0]}/thumbnail?expires=1900000000&signature=g1`)
    expect([thumb.getAttribute('width'), thumb.getAttribute('height')]).toEqual(['320', '240'])
    const chip = ui.testId('attachment-file', sent)!
    expect(ui.testId('attachment-name', chip)!.textContent).toBe('<img src=x onerror=alert(1)>.pdf')
    expect(chip.querySelector('img')).toBeNull()
    expect(textOf(chip)).toContain('47 KB')
    const download = ui.testId('attachment-download', chip) as HTMLAnchorElement
    expect(download.getAttribute('href')).toBe(`http://hub.test/api/v1/chat/files/${ids[1]}?expires=1900000000&signature=g1`)
    expect(download.hasAttribute('download')).toBe(true)
  })

  it('attaches pasted and dropped files, says why the hub refused one, and removes a file with ×', async () => {
    const pane = await opened()
    const input = ui.testId('composer-input', pane)!
    // Text copied from a document (with a picture of it) pastes as text.
    expect(paste(input, [file('picture.png')], ['text/plain', 'text/html', 'Files']).defaultPrevented).toBe(false)
    expect(ui.testId('upload-list')).toBeNull()
    expect(paste(input, [file('screenshot.png'), file('huge.mov')]).defaultPrevented).toBe(true)
    const form = ui.testId('chat-composer', pane)!
    expect(drag(form, 'dragover', [file('x')]).defaultPrevented).toBe(true)
    await nextTick()
    expect(form.className).toContain('is-dropping')
    drag(form, 'drop', [file('evil.svg'), file('broken.png'), file('notes.txt')])
    await nextTick()
    expect(form.className).not.toContain('is-dropping')
    await vi.waitFor(() => expect(ui.allTestId('upload-item').every((el) => el.dataset.status !== 'uploading')).toBe(true))
    const errors = ui.allTestId('upload-error').map(textOf)
    expect(errors).toEqual([
      'huge.mov is too large to send.',
      'evil.svg cannot be sent. HTML, XML and SVG files are not accepted.',
      'broken.png: This image could not be read (damaged, or larger than 16,384 pixels a side).',
    ])
    expect(ui.allTestId('upload-item').filter((el) => el.dataset.status === 'done').map((el) => textOf(ui.testId('upload-name', el)))).toEqual([
      'screenshot.png',
      'notes.txt',
    ])
    // × removes one before sending.
    const notes = ui.allTestId('upload-item').find((el) => textOf(el).includes('notes.txt'))!
    ui.testId('upload-remove', notes)!.click()
    await nextTick()
    typeInto(input as HTMLTextAreaElement, 'here it is')
    press(input, 'Enter')
    await vi.waitFor(() => expect(posts()).toHaveLength(1))
    const screenshot = ui.hub.chat.files.find((f) => f.filename === 'screenshot.png')!
    expect(posts()[0]!.body).toMatchObject({ body: 'here it is', attachment_ids: [screenshot.id] })
    // The refused files stay, with their reasons, until removed.
    await nextTick()
    expect(ui.allTestId('upload-error')).toHaveLength(3)
  })

  it('reads the message again for fresh links when a thumbnail fails (an expired link), and opens the image in a viewer', async () => {
    await opened((h) => {
      const general = seed(h)
      const message = h.addMessage(general.id, 'user-2', 'the plan')
      h.chat.files.push({ id: 'att-a', roomId: general.id, messageId: message.id, filename: 'plan.png', size: 900, kind: 'image' })
    })
    const thumb = () => ui.testId('attachment-thumbnail') as HTMLImageElement | null
    await vi.waitFor(() => expect(thumb()?.getAttribute('src')).toContain('signature=g1'))
    ui.hub.chat.linkGeneration = 2
    thumb()!.dispatchEvent(new Event('error'))
    await nextTick()
    expect(ui.testId('attachment-refreshing')).not.toBeNull()
    await vi.waitFor(() => expect(thumb()?.getAttribute('src')).toContain('signature=g2'))
    const message = ui.hub.chat.messages.find((m) => m.body === 'the plan')!
    expect(ui.hub.calls.some((c) => c.method === 'GET' && c.path.includes(`around=${message.id}`))).toBe(true)
    expect(ui.testId('attachment-refreshing')).toBeNull()

    ui.testId('attachment-image')!.click()
    await vi.waitFor(() => expect(ui.testId('image-viewer')).not.toBeNull())
    const full = ui.testId('image-viewer-image') as HTMLImageElement
    expect(full.getAttribute('src')).toBe('http://hub.test/api/v1/chat/files/att-a?expires=1900000000&signature=g2')
    expect(full.getAttribute('alt')).toBe('plan.png')
    expect(ui.testId('image-viewer-download')!.getAttribute('href')).toBe(full.getAttribute('src'))
  })

  it('reads the message again instead of following a download link past its time', async () => {
    await opened((h) => {
      const general = seed(h)
      const message = h.addMessage(general.id, 'user-2', 'the contract')
      h.chat.files.push({ id: 'att-c', roomId: general.id, messageId: message.id, filename: 'contract.pdf', size: 900, kind: 'file' })
      // An hour-long link given well before now.
      h.chat.linkExpires = Math.floor(TEST_NOW / 1000) - 60
    })
    const link = () => ui.testId('attachment-download') as HTMLAnchorElement
    await vi.waitFor(() => expect(link()).not.toBeNull())
    /** Whether the page held the click back (the test then stops the download either way). */
    const click = () => {
      let held = false
      ui.root.addEventListener(
        'click',
        (event) => {
          held = event.defaultPrevented
          event.preventDefault()
        },
        { once: true },
      )
      link().dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }))
      return held
    }
    ui.hub.chat.linkGeneration = 2
    ui.hub.chat.linkExpires = Math.floor(TEST_NOW / 1000) + 3600
    expect(click()).toBe(true)
    await vi.waitFor(() => expect(link().getAttribute('href')).toContain('signature=g2'))
    expect(click()).toBe(false)
  })
})
