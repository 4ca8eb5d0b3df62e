import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../api/client'
import type { Attachment } from '../api/chat'
import { createUploads, formatSize, MAX_FILES, uploadError } from './uploads'

const problem = (status: number, code: string, detail = '', errors?: { field: string; message: string }[]) =>
  new ApiError({ type: 'about:blank', title: 'x', status, detail, code, ...(errors ? { errors } : {}) })

function file(name: string, size = 100) {
  return new File([new Uint8Array(size)], name)
}

function attachment(id: string, name: string): Attachment {
  return { id, filename: name, content_type: 'image/png', size: 100, kind: 'image', url: `u/${id}` }
}

interface Call {
  name: string
  progress: (sent: number, total: number) => void
  signal: AbortSignal
  resolve: (a: Attachment) => void
  reject: (e: unknown) => void
}

function setup() {
  const calls: Call[] = []
  const uploads = createUploads({
    upload: (f, progress, signal) =>
      new Promise<Attachment>((resolve, reject) => calls.push({ name: f.name, progress, signal, resolve, reject })),
  })
  return { uploads, calls }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('uploads', () => {
  it('uploads each file at once with its progress, then has it ready to send', async () => {
    const { uploads, calls } = setup()
    uploads.add([file('a.png', 2048), file('b.pdf')])
    expect(calls.map((c) => c.name)).toEqual(['a.png', 'b.pdf'])
    expect(uploads.items.map((i) => [i.name, i.status, i.size])).toEqual([
      ['a.png', 'uploading', 2048],
      ['b.pdf', 'uploading', 100],
    ])
    expect(uploads.busy.value).toBe(true)
    calls[0]!.progress(512, 2048)
    expect(uploads.items[0]!.progress).toBe(0.25)
    calls[0]!.resolve(attachment('att-1', 'a.png'))
    await Promise.resolve()
    expect(uploads.items[0]!.status).toBe('done')
    expect(uploads.busy.value).toBe(true)
    expect(uploads.ready.value.map((a) => a.id)).toEqual(['att-1'])
    calls[1]!.resolve(attachment('att-2', 'b.pdf'))
    await Promise.resolve()
    expect(uploads.busy.value).toBe(false)
    expect(uploads.take().map((a) => a.id)).toEqual(['att-1', 'att-2'])
    expect(uploads.items).toHaveLength(0)
  })

  it('cancels an upload removed while it goes, and keeps a refused file with its reason until removed', async () => {
    const { uploads, calls } = setup()
    uploads.add([file('a.png'), file('evil.svg')])
    uploads.remove(uploads.items[0]!.key)
    expect(calls[0]!.signal.aborted).toBe(true)
    calls[0]!.resolve(attachment('att-1', 'a.png'))
    calls[1]!.reject(problem(415, 'unsupported_media_type', 'HTML, XML and SVG files are not accepted.'))
    await Promise.resolve()
    await Promise.resolve()
    expect(uploads.items.map((i) => [i.name, i.status, i.error])).toEqual([
      ['evil.svg', 'failed', 'evil.svg cannot be sent. HTML, XML and SVG files are not accepted.'],
    ])
    // Sending takes none of it, and it stays to be read.
    expect(uploads.take()).toEqual([])
    expect(uploads.items).toHaveLength(1)
    uploads.remove(uploads.items[0]!.key)
    expect(uploads.items).toHaveLength(0)
  })

  it(`takes up to ${MAX_FILES} files for one message`, () => {
    const { uploads, calls } = setup()
    uploads.add(Array.from({ length: MAX_FILES + 2 }, (_, i) => file(`f${i}.png`)))
    expect(calls).toHaveLength(MAX_FILES)
    const refused = uploads.items.filter((i) => i.status === 'failed')
    expect(refused.map((i) => i.name)).toEqual([`f${MAX_FILES}.png`, `f${MAX_FILES + 1}.png`])
    expect(refused[0]!.error).toMatch(/up to 10 files/)
  })

  it('says why the hub refused a file', () => {
    expect(uploadError('big.mov', problem(413, 'payload_too_large', 'the request body is too large'))).toBe('big.mov is too large to send.')
    expect(uploadError('run.exe', problem(415, 'unsupported_media_type', 'This type of file is not accepted.'))).toBe(
      'run.exe cannot be sent. This type of file is not accepted.',
    )
    expect(uploadError('x.png', problem(422, 'image_unreadable', 'This image could not be read.'))).toBe('x.png: This image could not be read.')
    expect(uploadError('e.txt', problem(422, 'validation_failed', 'invalid', [{ field: 'file', message: 'the file is empty' }]))).toBe(
      'e.txt: the file is empty.',
    )
    expect(uploadError('a.png', problem(409, 'room_archived'))).toBe('This room is archived.')
    expect(uploadError('a.png', problem(0, 'network_error'))).toBe('a.png was not uploaded: no connection to the hub.')
    expect(uploadError('a.png', new TypeError('x'))).toBe('a.png could not be uploaded.')
  })

  it('formats sizes', () => {
    expect(formatSize(1)).toBe('1 byte')
    expect(formatSize(900)).toBe('900 bytes')
    expect(formatSize(1536)).toBe('1.5 KB')
    expect(formatSize(48213)).toBe('47 KB')
    expect(formatSize(25 * 1024 * 1024)).toBe('25 MB')
    expect(formatSize(2.4 * 1024 * 1024)).toBe('2.4 MB')
  })
})
