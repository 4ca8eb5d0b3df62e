// One "Are you sure?" at a time for a section's destructive actions: what is being confirmed
// (`kind` and its `target`), and the confirmed action running (busy, its error in the dialog).
import { shallowReactive } from 'vue'
import { whatsappErrorMessage } from '../../../whatsapp/messages'

export function useConfirmation<Kind extends string, Target>() {
  const confirm = shallowReactive({
    kind: null as Kind | null,
    target: null as Target | null,
    busy: false,
    error: null as string | null,
  })

  function ask(kind: Kind, target: Target) {
    Object.assign(confirm, { kind, target, busy: false, error: null })
  }

  function close() {
    if (!confirm.busy) confirm.kind = null
  }

  /** Runs the confirmed action and closes; on failure the dialog stays open with `explain(error)`. */
  async function run(action: () => Promise<void>, explain: (error: unknown) => string = (e) => whatsappErrorMessage(e)) {
    confirm.busy = true
    confirm.error = null
    try {
      await action()
      confirm.kind = null
    } catch (error) {
      confirm.error = explain(error)
    } finally {
      confirm.busy = false
    }
  }

  return { confirm, ask, close, run }
}
