/** API-key scopes: `<resource>:<read|write>`, as the hub accepts them. */
export const ALL_SCOPES = [
  'account:read',
  'account:write',
  'users:read',
  'users:write',
  'teams:read',
  'teams:write',
  'audit:read',
  'inboxes:read',
  'inboxes:write',
  'kanban:read',
  'kanban:write',
  'chat:read',
  'chat:write',
  'providers:read',
  'providers:write',
  'billing:read',
  'billing:write',
] as const

const RESOURCE_LABELS: Record<string, string> = {
  account: 'Account',
  users: 'Users',
  teams: 'Teams',
  audit: 'Audit log',
  inboxes: 'Inboxes',
  kanban: 'Kanban',
  chat: 'Team chat',
  providers: 'WhatsApp providers',
  billing: 'Billing',
}

export interface ScopeGroup {
  resource: string
  label: string
  /** The resource's `read` scope, if it has one. */
  read: string | null
  /** The resource's `write` scope, if it has one. */
  write: string | null
}

/**
 * Groups scopes by resource, in the order resources first appear; scopes that are not
 * `<resource>:<read|write>` are dropped.
 */
export function groupScopes(scopes: readonly string[] = ALL_SCOPES): ScopeGroup[] {
  const groups = new Map<string, ScopeGroup>()
  for (const scope of scopes) {
    const match = /^([a-z_]+):(read|write)$/.exec(scope)
    if (!match) continue
    const [, resource, action] = match
    let group = groups.get(resource)
    if (!group) {
      group = { resource, label: RESOURCE_LABELS[resource] ?? resource, read: null, write: null }
      groups.set(resource, group)
    }
    group[action as 'read' | 'write'] = scope
  }
  return [...groups.values()]
}

/** Scopes in the hub's order (unknown ones last, alphabetically), without duplicates. */
export function sortScopes(scopes: Iterable<string>): string[] {
  const rank = (scope: string) => {
    const index = (ALL_SCOPES as readonly string[]).indexOf(scope)
    return index === -1 ? ALL_SCOPES.length : index
  }
  return [...new Set(scopes)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}
