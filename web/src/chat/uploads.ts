/**
 * Files on their way into a message (docs/chat.md, Attachments): each file picked, pasted or
 * dropped is uploaded at once to its room, with its progress, and can be removed before
 * sending; a refused file says why (too large, a type the hub does not take, an image it
 * cannot read). Sending takes the uploaded ones (their ids go with the message).
 */
import { computed, reactive } from 'vue'
import { ApiError } from '../api/client'
import type { Attachment } from '../api/chat'

/** The hub takes up to 10 files with one message. */
export const MAX_FILES = 10

export type UploadStatus = 'uploading' | 'done' | 'failed'

export interface PendingUpload {
  key: string
  /** The name on the person's disk, shown as text. */
  name: string
  size: number
  /** 0 to 1 while it is sent. */
  progress: number
  status: UploadStatus
  error: string | null
  attachment: Attachment | null
}

export interface UploadsOptions {
  upload(file: File, onProgress: (sent: number, total: number) => void, signal: AbortSignal): Promise<Attachment>
}

/** Why `name` was not uploaded, in a sentence, from the hub's problem. */
export function uploadError(name: string, error: unknown): string {
  if (!(error instanceof ApiError)) return `${name} could not be uploaded.`
  const detail = error.problem.detail
  switch (error.code) {
    case 'payload_too_large':
      return `${name} is too large to send.`
    case 'unsupported_media_type':
      return detail ? `${name} cannot be sent. ${detail}` : `${name} is not a type of file the chat takes.`
    case 'image_unreadable':
      return detail ? `${name}: ${detail}` : `${name} is an image that could not be read.`
    case 'room_archived':
      return 'This room is archived.'
    case 'network_error':
      return `${name} was not uploaded: no connection to the hub.`
    default: {
      const field = error.fieldErrors[0]?.message
      if (field) return `${name}: ${field}.`
      return `${name} could not be uploaded${detail ? `: ${detail}` : '.'}`
    }
  }
}

/** "2.4 MB", "830 KB", "12 bytes". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`
  const units = ['KB', 'MB', 'GB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  const shown = value >= 10 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, '')
  return `${shown} ${units[unit]}`
}

let counter = 0

export function createUploads(options: UploadsOptions) {
  const items = reactive<PendingUpload[]>([])
  const aborts = new Map<string, AbortController>()

  const find = (key: string) => items.find((item) => item.key === key)

  async function start(file: File, key: string) {
    const abort = new AbortController()
    aborts.set(key, abort)
    try {
      const attachment = await options.upload(
        file,
        (sent, total) => {
          const item = find(key)
          if (item && total > 0) item.progress = Math.min(1, sent / total)
        },
        abort.signal,
      )
      const item = find(key)
      if (!item) return
      item.attachment = attachment
      item.progress = 1
      item.status = 'done'
    } catch (error) {
      const item = find(key)
      if (!item) return
      item.status = 'failed'
      item.error = uploadError(item.name, error)
    } finally {
      aborts.delete(key)
    }
  }

  return {
    items,
    /** Uploading, uploaded and refused files, in the order they were added. */
    add(files: Iterable<File>) {
      for (const file of files) {
        const key = `upload-${++counter}`
        const room = items.filter((item) => item.status !== 'failed').length < MAX_FILES
        items.push({
          key,
          name: file.name || 'pasted file',
          size: file.size,
          progress: 0,
          status: room ? 'uploading' : 'failed',
          error: room ? null : `${file.name || 'This file'} was not added: a message takes up to ${MAX_FILES} files.`,
          attachment: null,
        })
        if (room) void start(file, key)
      }
    },
    /** Removes a file (an upload still going is cancelled). */
    remove(key: string) {
      aborts.get(key)?.abort()
      aborts.delete(key)
      const index = items.findIndex((item) => item.key === key)
      if (index >= 0) items.splice(index, 1)
    },
    /** Some file is still being uploaded. */
    busy: computed(() => items.some((item) => item.status === 'uploading')),
    /** The files uploaded and ready to send. */
    ready: computed(() => items.filter((item) => item.status === 'done' && item.attachment).map((item) => item.attachment!)),
    /** Takes the uploaded files for a message (the refused ones stay, with their reason). */
    take(): Attachment[] {
      const taken = items.filter((item) => item.status === 'done' && item.attachment)
      for (const item of taken) items.splice(items.indexOf(item), 1)
      return taken.map((item) => item.attachment!)
    },
    /** Cancels and forgets everything. */
    clear() {
      for (const abort of aborts.values()) abort.abort()
      aborts.clear()
      items.splice(0, items.length)
    },
  }
}

export type Uploads = ReturnType<typeof createUploads>
