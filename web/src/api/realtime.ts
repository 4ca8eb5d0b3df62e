/**
 * The account's realtime stream (`GET /realtime/events?ticket=…`, see realtime/live.ts) opens
 * with a one-use ticket from `POST /accounts/{accountId}/realtime/tickets`.
 */
import { api } from './client'

export interface RealtimeTicket {
  ticket: string
  expires_in: number
}

export function realtimeApi(accountId: string) {
  return {
    /**
     * A one-use ticket to open the account's realtime stream; for the chat's socket, with the
     * last `event_seq` the page has per room, replayed before anything live.
     */
    realtimeTicket: (resume?: Record<string, number>) =>
      api.post<RealtimeTicket>(
        `/accounts/${encodeURIComponent(accountId)}/realtime/tickets`,
        resume ? { resume } : {},
      ),
  }
}

export type RealtimeApi = ReturnType<typeof realtimeApi>
