/**
 * The account's WhatsApp provider servers (Evolution API, WAHA, UazAPI, Z-API, Meta's Cloud
 * API) and its numbers on them ("instances"): `/accounts/{accountId}/providers` and
 * `/accounts/{accountId}/instances` (see the OpenAPI document at /api/openapi.json). Any
 * member reads them; admins change them; supervisors may also check a number. What a number
 * can do depends on its server's type: `Provider.capabilities`.
 * Credentials go to the hub and never come back: a provider shows `credentials_hint`.
 */
import { api } from './client'

export type ProviderType = 'evolution' | 'waha' | 'uazapi' | 'zapi' | 'cloud_api'

/** The outcome of the server's last check. */
export type ProviderStatus = 'ok' | 'unreachable' | 'credentials_invalid' | (string & {})

/**
 * What numbers on a type of server can do; the UI offers nothing else (the hub answers 409
 * `not_supported_by_provider` for the rest).
 */
export interface Capabilities {
  /** The hub makes numbers on the server; otherwise they are made in the provider's panel and registered. */
  creates_instances: boolean
  /** The keys a registration takes (Z-API `instance_id`, `instance_token`; Cloud API `phone_number_id`). */
  instance_credentials: string[]
  qr: boolean
  /** How long one QR lives before the provider shows another. */
  qr_seconds: number
  pairing_code: boolean
  /** How long a pairing code may be typed. */
  pairing_seconds: number
  restart: boolean
  logout: boolean
  /** The behaviour settings the type applies (`reject_calls`, `ignore_groups`, …). */
  settings: string[]
  send_text: boolean
  /** The number can feed a Chatwoot inbox (Evolution through its own bridge, Cloud API as Chatwoot's WhatsApp Cloud inbox). */
  chatwoot_inbox: boolean
}

export interface Provider {
  id: string
  type: ProviderType | (string & {})
  capabilities: Capabilities
  name: string
  base_url: string
  status: ProviderStatus
  last_checked_at: string | null
  has_credentials: boolean
  /** The last characters of the main credential, e.g. "…a1b2". */
  credentials_hint: string
  created_at: string
  updated_at: string
}

/** The server's own keys, by type: evolution and waha `api_key`, uazapi `admin_token`, … */
export type ProviderCredentials =
  | { api_key: string }
  | { admin_token: string }
  | { client_token: string }
  | { access_token: string; app_secret: string }

export interface NewProvider {
  type: ProviderType
  name: string
  base_url: string
  credentials: ProviderCredentials
}

/** What a change may carry; a new server URL or credentials are checked by the hub first. */
export interface ProviderChange {
  name?: string
  base_url?: string
  credentials?: ProviderCredentials
}

export type InstanceStatus =
  | 'disconnected'
  | 'connecting'
  | 'qr_pending'
  | 'connected'
  | 'stale'
  | 'failed'
  | (string & {})

export type SettingName = 'reject_calls' | 'call_message' | 'ignore_groups' | 'always_online' | 'read_messages' | 'read_status'

/** How a number behaves on WhatsApp, as pushed to its provider. */
export interface Behaviour {
  reject_calls: boolean
  /** Sent to a caller whose call was refused (only with `reject_calls`). */
  call_message?: string | null
  ignore_groups: boolean
  always_online: boolean
  read_messages: boolean
  read_status: boolean
}

export interface Instance {
  id: string
  provider_id: string
  /** Its name on the provider server: letters, digits, - and _. */
  name: string
  /** The number, once connected. */
  phone: string | null
  status: InstanceStatus
  /** The provider's own word for it (Evolution: close, connecting, open). */
  provider_status: string | null
  settings: Behaviour
  /** The Chatwoot inbox the number feeds (one only: one bridge per number). */
  chatwoot_inbox_id: number | null
  last_event_at: string | null
  created_at: string
  updated_at: string
}

export interface NewInstance {
  provider_id: string
  name: string
  /** For types whose numbers are made in the provider's panel: the keys of `capabilities.instance_credentials`. */
  credentials?: Record<string, string>
  settings?: Behaviour
}

/** A text the provider took: accepted, which is not delivered. */
export interface TextAccepted {
  message_id: string
  status: 'accepted' | (string & {})
}

export type ConnectMethod = 'qr' | 'pairing_code'

export interface Qr {
  code: string
  /** The QR as an image, a `data:` URL. */
  image: string
}

export interface Connecting {
  instance: Instance
  /** The number's status now. */
  status?: InstanceStatus
  /** The QR to scan as an image (`data:image/png;base64,…`), while one is shown. */
  qr_code?: string | null
  /** The QR to scan while one is shown, with its raw code; providers rotate it. */
  qr: Qr | null
  pairing_code: string | null
  /** When the QR or pairing code shown stops working (RFC 3339): ask `qr()` again before then. */
  expires_at?: string | null
}

/** What linking a number to a Chatwoot inbox takes. */
export interface InboxLink {
  /** The inbox's name in Chatwoot (default: the number's name). */
  name?: string
  /** Cloud API only: the WhatsApp Business Account id Chatwoot's inbox needs (digits). */
  business_account_id?: string
}

/** One change of a number's status (several in quick succession fold into one, counted). */
export interface StatusChange {
  id: string
  from_status: InstanceStatus
  to_status: InstanceStatus
  /** The provider's value when it changed. */
  raw: string | null
  /** Why: `created`, `connect`, `check`, `logout`, … */
  reason: string
  /** Who saw it: `user`, `check` or `webhook`. */
  source: string
  /** How many changes this entry stands for. */
  changes: number
  first_at: string
  last_at: string
}

const id = (value: string) => encodeURIComponent(value)

/** The calls of one account. */
export function whatsappApi(accountId: string) {
  const account = `/accounts/${id(accountId)}`
  const providers = `${account}/providers`
  const instances = `${account}/instances`
  return {
    providers: () => api.get<Provider[]>(providers),
    provider: (providerId: string) => api.get<Provider>(`${providers}/${id(providerId)}`),
    createProvider: (body: NewProvider) => api.post<Provider>(providers, body),
    updateProvider: (providerId: string, body: ProviderChange) =>
      api.patch<Provider>(`${providers}/${id(providerId)}`, body),
    deleteProvider: (providerId: string) => api.delete(`${providers}/${id(providerId)}`),
    /** Checks the server now; the answer's `status` says the outcome. */
    checkProvider: (providerId: string) => api.post<Provider>(`${providers}/${id(providerId)}/check`),

    instances: () => api.get<Instance[]>(instances),
    instance: (instanceId: string) => api.get<Instance>(`${instances}/${id(instanceId)}`),
    createInstance: (body: NewInstance) => api.post<Instance>(instances, body),
    deleteInstance: (instanceId: string) => api.delete(`${instances}/${id(instanceId)}`),
    /** Starts (or resumes) the session: a QR to scan, or with `phone` a pairing code. */
    connect: (instanceId: string, method: ConnectMethod, phone?: string) =>
      api.post<Connecting>(`${instances}/${id(instanceId)}/connect`, {
        method,
        ...(method === 'pairing_code' && phone ? { phone } : {}),
      }),
    /** The QR the provider shows now, while the number waits for a scan (admins; 409 `no_qr_shown` otherwise). */
    qr: (instanceId: string) => api.get<Connecting>(`${instances}/${id(instanceId)}/qr`),
    /** Links the number to a Chatwoot inbox (admins; one inbox per number, one number per inbox). */
    linkInbox: (instanceId: string, body: InboxLink) =>
      api.post<Instance>(`${instances}/${id(instanceId)}/chatwoot-inbox`, body),
    /** Asks the provider where the session stands now (admins and supervisors). */
    check: (instanceId: string) => api.post<Instance>(`${instances}/${id(instanceId)}/check`),
    /** The whole set of behaviour settings (admins). */
    updateInstance: (instanceId: string, settings: Behaviour) =>
      api.patch<Instance>(`${instances}/${id(instanceId)}`, { settings }),
    /** Restarts the session without a new scan (admins; a connected or stale number). */
    restart: (instanceId: string) => api.post<Instance>(`${instances}/${id(instanceId)}/restart`),
    logout: (instanceId: string) => api.post<Instance>(`${instances}/${id(instanceId)}/logout`),
    /** Sends a text through the number (admins); `to` is digits with country code. */
    sendText: (instanceId: string, to: string, text: string) =>
      api.post<TextAccepted>(`${instances}/${id(instanceId)}/messages`, { to, text }),
    /** Newest first. */
    history: (instanceId: string) => api.get<StatusChange[]>(`${instances}/${id(instanceId)}/history`),
  }
}

export type WhatsAppApi = ReturnType<typeof whatsappApi>
