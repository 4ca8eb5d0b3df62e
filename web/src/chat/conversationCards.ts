/**
 * The Chatwoot conversation cards of one chat page: each conversation is fetched once,
 * however many messages (or people's messages) refer to it, and kept while the page lives.
 * ChatPage provides one; a component outside it gets its own.
 */
import { inject, reactive, type InjectionKey } from 'vue'
import { ApiError } from '../api/client'
import type { ConversationCard } from '../api/chat'

export type CardEntry =
  | { state: 'loading' }
  | { state: 'ready'; card: ConversationCard }
  /** Not there, not the caller's to see, or no Chatwoot: only the number is shown. */
  | { state: 'unavailable' }
  /** Chatwoot or the hub could not be reached: asked again when the card is shown again. */
  | { state: 'failed' }

/** Answers that will not change while the page is open (404, 403, 409, 422). */
function final(error: unknown): boolean {
  return error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429
}

export function createConversationCards(load: (conversationId: number) => Promise<ConversationCard>) {
  const entries = reactive(new Map<number, CardEntry>())

  return {
    /** Fetches the card unless it is here, on its way, or known to be unavailable. */
    request(conversationId: number) {
      const known = entries.get(conversationId)
      if (known && known.state !== 'failed') return
      entries.set(conversationId, { state: 'loading' })
      load(conversationId).then(
        (card) => entries.set(conversationId, { state: 'ready', card }),
        (error: unknown) => entries.set(conversationId, { state: final(error) ? 'unavailable' : 'failed' }),
      )
    },
    entry(conversationId: number): CardEntry {
      return entries.get(conversationId) ?? { state: 'loading' }
    },
  }
}

export type ConversationCards = ReturnType<typeof createConversationCards>

export const conversationCardsKey: InjectionKey<ConversationCards> = Symbol('conversationCards')

/** The page's cards, or `fallback()` where no page provides them. */
export function useConversationCards(fallback: () => ConversationCards): ConversationCards {
  return inject(conversationCardsKey, null) ?? fallback()
}
