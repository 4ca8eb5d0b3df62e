/**
 * Offline-safe sending. Each message gets a `client_id` when it is written and shows at
 * once as pending; a send that fails for a passing reason (no network, the hub busy or
 * restarting) is tried again with the SAME `client_id` after 1 s, 2 s, 4 s…, so the hub
 * stores it once however many tries reach it (a retry of a send that did arrive answers
 * 200 with the stored message, which settles it like the first 201). After a few tries, or
 * at once for a refusal that waiting will not change, it shows as failed with a retry.
 * Files go up before the message is queued (chat/uploads.ts): a message carries the ids of
 * its uploaded files, and every try sends the same ids with the same `client_id`.
 */
import { reactive } from 'vue'
import { ApiError } from '../api/client'
import type { Attachment } from '../api/chat'

export type OutgoingStatus = 'pending' | 'failed'

export interface Outgoing {
  clientId: string
  roomId: string
  parentId: string | null
  body: string
  /** Files already uploaded to the room, sent by id with the message. */
  attachments: Attachment[]
  status: OutgoingStatus
  /** Tries made so far in this round (a manual retry starts a new round). */
  attempts: number
  /** Why it failed, for the failed mark's tooltip. */
  error: string | null
  /** When it was written (ms), to place it among the messages. */
  createdAt: number
}

export interface SendQueueOptions<M> {
  send(item: Outgoing): Promise<M>
  /** The hub has the message (201, or 200 for a `client_id` it had already stored). */
  settled(item: Outgoing, message: M): void
  /** Tries per round before it shows as failed (default 4). */
  maxAttempts?: number
  /** Milliseconds before try `attempt + 1` after `attempt` failed. */
  delay?(attempt: number): number
  newId?(): string
  now?(): number
}

/** 1 s, 2 s, 4 s, 8 s… up to 30 s. */
export function retryDelay(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1))
}

/** Worth trying again: no answer, a timeout, too many requests or the hub unavailable. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true
  return error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500
}

function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return 'Not sent: no connection to the hub.'
    if (error.code === 'room_archived') return 'Not sent: this room is archived.'
    if (error.fieldErrors.some((field) => field.field === 'attachment_ids')) {
      return 'Not sent: its files are no longer there to send (uploads not sent within a day are removed). Attach them again.'
    }
    return `Not sent: ${error.message}`
  }
  return 'Not sent.'
}

function randomId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  return `c-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`
}

export function createSendQueue<M>(options: SendQueueOptions<M>) {
  const maxAttempts = options.maxAttempts ?? 4
  const delay = options.delay ?? retryDelay
  const items = reactive<Outgoing[]>([])
  const timers = new Map<string, ReturnType<typeof setTimeout>>()
  const inFlight = new Set<string>()
  let disposed = false

  const find = (clientId: string) => items.find((item) => item.clientId === clientId)

  function remove(clientId: string) {
    const index = items.findIndex((item) => item.clientId === clientId)
    if (index >= 0) items.splice(index, 1)
    const timer = timers.get(clientId)
    if (timer) clearTimeout(timer)
    timers.delete(clientId)
  }

  async function attempt(clientId: string) {
    timers.delete(clientId)
    const item = find(clientId)
    if (!item || disposed || inFlight.has(clientId)) return
    item.status = 'pending'
    item.attempts += 1
    inFlight.add(clientId)
    try {
      const message = await options.send({ ...item })
      inFlight.delete(clientId)
      if (disposed) return
      const current = find(clientId)
      if (!current) return
      remove(clientId)
      options.settled(current, message)
    } catch (error) {
      inFlight.delete(clientId)
      if (disposed) return
      const current = find(clientId)
      if (!current) return
      current.error = describe(error)
      if (isTransient(error) && current.attempts < maxAttempts) {
        const after = error instanceof ApiError && error.retryAfter !== undefined ? error.retryAfter * 1000 : 0
        timers.set(clientId, setTimeout(() => void attempt(clientId), Math.max(after, delay(current.attempts))))
      } else {
        current.status = 'failed'
      }
    }
  }

  return {
    items,
    /** Queues a message and sends it; answers its `client_id`. */
    enqueue(roomId: string, body: string, parentId: string | null = null, attachments: Attachment[] = []): string {
      const clientId = (options.newId ?? randomId)()
      items.push({
        clientId,
        roomId,
        parentId,
        body,
        attachments: [...attachments],
        status: 'pending',
        attempts: 0,
        error: null,
        createdAt: (options.now ?? (() => 0))(),
      })
      void attempt(clientId)
      return clientId
    },
    /** Sends a failed message again, with its own `client_id`. */
    retry(clientId: string) {
      const item = find(clientId)
      if (!item || inFlight.has(clientId)) return
      const timer = timers.get(clientId)
      if (timer) clearTimeout(timer)
      item.attempts = 0
      item.error = null
      void attempt(clientId)
    },
    /** Every failed message again (the browser is back online). */
    retryFailed() {
      for (const item of [...items]) if (item.status === 'failed') this.retry(item.clientId)
    },
    /** The hub's message with this `client_id` arrived another way (the socket): done. */
    acknowledge(clientId: string) {
      remove(clientId)
    },
    /** Drops a message that was not sent. */
    discard(clientId: string) {
      if (!inFlight.has(clientId)) remove(clientId)
    },
    dispose() {
      disposed = true
      for (const timer of timers.values()) clearTimeout(timer)
      timers.clear()
    },
  }
}

export type SendQueue<M> = ReturnType<typeof createSendQueue<M>>
