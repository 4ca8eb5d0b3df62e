/** Shapes of the hub's auth and account API (see the OpenAPI document at /docs). */

export interface User {
  id: string
  email: string
  name: string
  avatar_url: string | null
  chatwoot_user_id?: number | null
  is_super_admin: boolean
}

export interface Account {
  id: string
  name: string
  chatwoot_account_id?: number | null
  locale?: string
  status?: string
}

/** `admin`, `supervisor` or `agent`. */
export type Role = 'admin' | 'supervisor' | 'agent' | (string & {})

export interface Membership {
  account_id: string
  account_name: string
  role: Role
}

export interface TokenPair {
  access_token: string
  token_type: 'Bearer'
  /** Seconds until the access token expires. */
  expires_in: number
  refresh_token: string
  session_id: string
}

export interface SignInResponse extends TokenPair {
  user: User
  account: Account
}

export interface Me {
  user: User
  session_id: string
  account_id: string | null
  memberships: Membership[]
}

export interface Page<T> {
  items: T[]
  next_cursor?: string | null
}

export interface SessionInfo {
  id: string
  account_id: string | null
  /** `chatwoot_sso`, `instance_token` or `cli`. */
  method: string
  device: string | null
  ip: string | null
  user_agent: string | null
  created_at: string
  last_seen_at: string
  expires_at: string
  current: boolean
}

export interface ApiKey {
  id: string
  name: string
  prefix: string
  scopes: string[]
  created_by: string | null
  created_at: string
  expires_at: string | null
  last_used_at: string | null
  revoked_at: string | null
}

/** A key just created: the only time `key` (the secret) is sent. */
export interface CreatedApiKey extends ApiKey {
  key: string
}
