/**
 * The account's Chatwoot connection and its inbox mirror (admins):
 * `/accounts/{accountId}/chatwoot/{status,connect,disconnect}` and
 * `/accounts/{accountId}/inboxes` (see the OpenAPI document at /api/openapi.json).
 */
import { api } from './client'
import type { Page } from './types'

/** `connected`, `disconnected` (never connected, or disconnected) or `error`. */
export type ConnectionState = 'connected' | 'disconnected' | 'error' | (string & {})

/** What a sync found for one kind of thing. */
export interface SyncCounts {
  added: number
  updated: number
  removed: number
  /** Seen in Chatwoot but not taken in (over the plan's limit, or not usable). */
  skipped: number
}

export interface SyncReport {
  inboxes: SyncCounts
  agents: SyncCounts
  teams: SyncCounts
  synced_at: string
}

export interface ConnectionStatus {
  status: ConnectionState
  installation_id: string | null
  chatwoot_account_id: number | null
  /** `access_token` or `platform`. */
  token_source: string | null
  webhook_id: number | null
  webhook_url: string
  webhook_signed: boolean
  dashboard_app_id: number | null
  /** Whether Chatwoot answered with the stored token just now (null when not connected). */
  healthy: boolean | null
  last_error: string | null
  connected_at: string | null
  last_sync_at: string | null
  last_sync: Partial<SyncReport> | null
}

export type RegistrationAction = 'created' | 'updated' | 'unchanged' | 'removed' | (string & {})

export interface Registration {
  id: number | null
  action: RegistrationAction
}

export interface WebhookRegistration extends Registration {
  url: string
  /** Whether Chatwoot gave the webhook a signing secret (4.11.2 and later). */
  signed: boolean
}

export interface ConnectReport {
  webhook: WebhookRegistration
  dashboard_app: Registration
  sync: SyncReport
}

export interface DisconnectReport {
  webhook: Registration
  dashboard_app: Registration
}

/** `over_quota` (the plan's inbox limit) or `disabled_by_admin`. */
export type DisabledReason = 'over_quota' | 'disabled_by_admin' | (string & {})

export interface Inbox {
  id: string
  chatwoot_inbox_id: number
  name: string
  /** Chatwoot's channel type, e.g. `Channel::Whatsapp`. */
  channel_type: string
  phone_number: string | null
  enabled: boolean
  disabled_reason: DisabledReason | null
  /** When the inbox disappeared from Chatwoot; it stays for history, disabled. */
  removed_at: string | null
  synced_at: string
  created_at?: string
  updated_at?: string
}

/** The calls of one account. */
export function chatwootApi(accountId: string) {
  const account = `/accounts/${encodeURIComponent(accountId)}`
  return {
    status: () => api.get<ConnectionStatus>(`${account}/chatwoot/status`),
    /** With a token: an administrator's personal access token; without: the platform token. */
    connect: (chatwootApiToken?: string) =>
      api.post<ConnectReport>(
        `${account}/chatwoot/connect`,
        chatwootApiToken === undefined ? {} : { chatwoot_api_token: chatwootApiToken },
      ),
    disconnect: () => api.post<DisconnectReport>(`${account}/chatwoot/disconnect`),
    inboxes: (cursor: string | null, limit = 100) => {
      const query = new URLSearchParams({ limit: String(limit) })
      if (cursor) query.set('cursor', cursor)
      return api.get<Page<Inbox>>(`${account}/inboxes?${query}`)
    },
    setInboxEnabled: (inboxId: string, enabled: boolean) =>
      api.patch<Inbox>(`${account}/inboxes/${encodeURIComponent(inboxId)}`, { enabled }),
    sync: () => api.post<SyncReport>(`${account}/inboxes/sync`),
  }
}
