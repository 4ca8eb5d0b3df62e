// The state Settings → WhatsApp's sections share: the API clients and what the person may
// do, the servers and numbers with what the plan allows, the page's messages and the number
// the connect dialog follows. The page creates it (`provideWhatsAppLists`), which also loads
// the lists and, while the page is open, follows the account's realtime stream: a number's
// status change (`instance.status_changed`) reads that number again, a server's
// (`provider.status_changed`) the servers; (re)subscribing or a resync reads both lists.
// The periodic refresh (and a look when the tab comes back) stays as a fallback.
import { computed, inject, onBeforeUnmount, onMounted, provide, ref, type InjectionKey } from 'vue'
import { ApiError, apiBase } from '../../../api/client'
import { realtimeApi } from '../../../api/realtime'
import { followAccount, type AccountNews } from '../../../realtime/live'
import { billingApi, type Usage } from '../../../api/billing'
import { whatsappApi, type Instance, type Provider } from '../../../api/whatsapp'
import { useAuth } from '../../../auth/store'
import { formatCount } from '../../../billing/format'
import { whatsappErrorMessage } from '../../../whatsapp/messages'
import { NO_CAPABILITIES } from '../../../whatsapp/providerTypes'
import { LIST_REFRESH_MS } from '../../../whatsapp/polling'
import { nowMs } from '../../../utils/clock'

export type WhatsAppLists = ReturnType<typeof createWhatsAppLists>

const listsKey: InjectionKey<WhatsAppLists> = Symbol('whatsapp-lists')

/** Replaces the item with the same id, or adds it at the end. */
export function replaceIn<T extends { id: string }>(list: T[], item: T) {
  const index = list.findIndex((x) => x.id === item.id)
  if (index >= 0) list.splice(index, 1, item)
  else list.push(item)
}

function createWhatsAppLists() {
  const auth = useAuth()
  const whatsapp = computed(() => whatsappApi(auth.state.accountId ?? ''))
  const billing = computed(() => billingApi(auth.state.accountId ?? ''))
  const canChange = computed(() => auth.isAdmin.value)
  const canCheck = computed(() => auth.canSupervise.value)

  const now = ref(nowMs())

  // The lists.
  const providers = ref<Provider[]>([])
  const providersLoading = ref(true)
  const providersLoadError = ref<string | null>(null)
  const instances = ref<Instance[]>([])
  const instancesLoading = ref(true)
  const instancesLoadError = ref<string | null>(null)
  const usage = ref<Usage | null>(null)

  // Messages: one for the page, one for each list's actions.
  const notice = ref<{ tone: 'success' | 'warning'; text: string } | null>(null)
  const providersError = ref<string | null>(null)
  const instancesError = ref<string | null>(null)

  /** The number the connect dialog is open on: the periodic refresh waits meanwhile. */
  const connecting = ref<Instance | null>(null)
  /** That number as the live stream last showed it (for the connect dialog). */
  const connectingSeen = ref<Instance | null>(null)

  const providerById = computed(() => new Map(providers.value.map((p) => [p.id, p])))
  /** What a number's server can do; nothing while its server is not listed. */
  const capabilitiesOf = (instance: Instance | null) =>
    (instance && providerById.value.get(instance.provider_id)?.capabilities) || NO_CAPABILITIES
  const numbersOn = (provider: Provider) => instances.value.filter((i) => i.provider_id === provider.id).length

  /** "2 of 3 numbers", from the usage the hub counts (the list's length until it answers). */
  function usageLine(resource: 'providers' | 'instances', one: string, many: string) {
    const limit = usage.value?.limits?.[resource === 'providers' ? 'max_providers' : 'max_instances']
    if (typeof limit !== 'number') return null
    const counted = usage.value?.usage?.[resource]
    const current = typeof counted === 'number' ? counted : (resource === 'providers' ? providers : instances).value.length
    return {
      text: `${formatCount(current)} of ${formatCount(limit)} ${limit === 1 ? one : many}`,
      full: current >= limit,
    }
  }
  const providersUsage = computed(() => usageLine('providers', 'server', 'servers'))
  const instancesUsage = computed(() => usageLine('instances', 'number', 'numbers'))

  /** `quiet`: a live reload, which keeps the list as it is when it fails. */
  async function loadProviders(quiet = false) {
    if (!quiet) providersLoadError.value = null
    try {
      providers.value = await whatsapp.value.providers()
      providersLoadError.value = null
      now.value = nowMs()
    } catch (error) {
      if (!quiet) providersLoadError.value = whatsappErrorMessage(error)
    } finally {
      providersLoading.value = false
    }
  }

  /** `quiet`: the periodic refresh, which keeps the list as it is when it fails. */
  async function loadInstances(quiet = false) {
    if (!quiet) instancesLoadError.value = null
    try {
      instances.value = await whatsapp.value.instances()
      instancesLoadError.value = null
      now.value = nowMs()
    } catch (error) {
      if (!quiet) instancesLoadError.value = whatsappErrorMessage(error)
    } finally {
      instancesLoading.value = false
    }
  }

  async function loadUsage() {
    try {
      usage.value = await billing.value.usage()
    } catch {
      // Without usage the counts are left out; the hub still refuses what the plan does not allow.
    }
  }

  function clearMessages() {
    notice.value = null
    providersError.value = null
    instancesError.value = null
  }

  function onInstanceChanged(instance: Instance) {
    replaceIn(instances.value, instance)
    now.value = nowMs()
  }

  // ---- Live updates ----

  /** The latest read of each number asked for: older answers are dropped. */
  const reading = new Map<string, number>()
  let reads = 0

  /** Reads one number again after the stream said its status changed. */
  async function reloadInstance(instanceId: string) {
    const mine = ++reads
    reading.set(instanceId, mine)
    try {
      const fresh = await whatsapp.value.instance(instanceId)
      if (reading.get(instanceId) !== mine) return
      onInstanceChanged(fresh)
      if (connecting.value?.id === fresh.id) connectingSeen.value = fresh
    } catch (error) {
      if (reading.get(instanceId) !== mine) return
      if (error instanceof ApiError && error.code === 'not_found') {
        instances.value = instances.value.filter((i) => i.id !== instanceId)
      }
      // Otherwise the periodic refresh catches up.
    } finally {
      if (reading.get(instanceId) === mine) reading.delete(instanceId)
    }
  }

  function reloadLists() {
    void loadProviders(true)
    void loadInstances(true)
  }

  function onNews(news: AccountNews) {
    if (news.kind === 'instance.status_changed') {
      const id = news.data.instance_id
      if (typeof id === 'string') void reloadInstance(id)
      else void loadInstances(true)
    } else if (news.kind === 'provider.status_changed') {
      void loadProviders(true)
    }
  }

  let following: { close(): void } | null = null

  // The numbers' status also changes on the phone's side: look again now and then, and when
  // the person comes back to the tab (a fallback for the live stream).
  let refresh: ReturnType<typeof setInterval> | undefined

  function onFocus() {
    if (document.visibilityState === 'hidden') return
    void loadInstances(true)
  }

  onMounted(() => {
    void Promise.all([loadProviders(), loadInstances(), loadUsage()])
    window.addEventListener('focus', onFocus)
    document.addEventListener('visibilitychange', onFocus)
    refresh = setInterval(() => {
      if (document.visibilityState !== 'hidden' && connecting.value === null) void loadInstances(true)
    }, LIST_REFRESH_MS)
    const accountId = auth.state.accountId
    if (accountId) {
      following = followAccount(
        realtimeApi(accountId),
        { ready: reloadLists, resync: reloadLists, account: onNews },
        apiBase(),
      )
    }
  })

  onBeforeUnmount(() => {
    following?.close()
    following = null
    window.removeEventListener('focus', onFocus)
    document.removeEventListener('visibilitychange', onFocus)
    clearInterval(refresh)
  })

  return {
    whatsapp,
    canChange,
    canCheck,
    now,
    providers,
    providersLoading,
    providersLoadError,
    instances,
    instancesLoading,
    instancesLoadError,
    notice,
    providersError,
    instancesError,
    connecting,
    connectingSeen,
    providerById,
    capabilitiesOf,
    numbersOn,
    providersUsage,
    instancesUsage,
    loadProviders,
    loadInstances,
    loadUsage,
    clearMessages,
    onInstanceChanged,
  }
}

/** Creates the page's shared state (loading the lists and following them while mounted) for its sections. */
export function provideWhatsAppLists(): WhatsAppLists {
  const lists = createWhatsAppLists()
  provide(listsKey, lists)
  return lists
}

/** The shared state of the Settings → WhatsApp page this section is on. */
export function useWhatsAppLists(): WhatsAppLists {
  const lists = inject(listsKey)
  if (!lists) throw new Error('useWhatsAppLists: no Settings → WhatsApp page above')
  return lists
}
