import { describe, expect, it } from 'vitest'
import { ALL_SCOPES, groupScopes, sortScopes } from './scopes'

describe('groupScopes', () => {
  it('groups every scope the hub accepts by resource, read and write', () => {
    const groups = groupScopes()
    expect(groups.map((g) => g.resource)).toEqual([
      'account',
      'users',
      'teams',
      'audit',
      'inboxes',
      'kanban',
      'chat',
      'providers',
      'billing',
    ])
    expect(groups.find((g) => g.resource === 'kanban')).toEqual({
      resource: 'kanban',
      label: 'Kanban',
      read: 'kanban:read',
      write: 'kanban:write',
    })
    const flattened = groups.flatMap((g) => [g.read, g.write]).filter(Boolean)
    expect(flattened).toEqual([...ALL_SCOPES])
  })

  it('leaves out actions a resource does not have', () => {
    expect(groupScopes().find((g) => g.resource === 'audit')).toEqual({
      resource: 'audit',
      label: 'Audit log',
      read: 'audit:read',
      write: null,
    })
  })

  it('groups any list, dropping what is not resource:read|write', () => {
    expect(groupScopes(['chat:write', 'bogus', 'chat:read', 'reports:read', 'x:delete'])).toEqual([
      { resource: 'chat', label: 'Team chat', read: 'chat:read', write: 'chat:write' },
      { resource: 'reports', label: 'reports', read: 'reports:read', write: null },
    ])
  })
})

describe('sortScopes', () => {
  it("puts scopes in the hub's order, unknown ones last, without duplicates", () => {
    expect(sortScopes(['chat:write', 'zeta:read', 'kanban:read', 'account:read', 'chat:write'])).toEqual([
      'account:read',
      'kanban:read',
      'chat:write',
      'zeta:read',
    ])
  })
})
