import { ref, type Ref } from 'vue'
import type { Page } from '../api/types'
import { problemMessage } from '../auth/messages'

interface Options {
  /** Runs after every first-page load (pages use it to refresh relative times). */
  onLoaded?: () => void
  /** Where a failed "load more" is reported; by default it replaces the list with the error. */
  onMoreError?: (message: string) => void
}

/** A list read page by page through the API's `next_cursor`. */
export function useCursorList<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, options: Options = {}) {
  const items = ref([]) as Ref<T[]>
  const nextCursor = ref<string | null>(null)
  const loading = ref(true)
  const loadingMore = ref(false)
  const loadError = ref<string | null>(null)

  async function load() {
    loadError.value = null
    try {
      const page = await fetchPage(null)
      items.value = page.items
      nextCursor.value = page.next_cursor ?? null
      options.onLoaded?.()
    } catch (error) {
      loadError.value = problemMessage(error)
    } finally {
      loading.value = false
    }
  }

  async function loadMore() {
    if (!nextCursor.value) return
    loadingMore.value = true
    try {
      const page = await fetchPage(nextCursor.value)
      items.value = [...items.value, ...page.items]
      nextCursor.value = page.next_cursor ?? null
    } catch (error) {
      const message = problemMessage(error)
      if (options.onMoreError) options.onMoreError(message)
      else loadError.value = message
    } finally {
      loadingMore.value = false
    }
  }

  return { items, nextCursor, loading, loadingMore, loadError, load, loadMore }
}
