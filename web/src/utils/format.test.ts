import { describe, expect, it } from 'vitest'
import { formatDate, formatDateTime, formatRelative, initials } from './format'
import { safeRedirect } from './redirect'

describe('initials', () => {
  it.each([
    ['Ana Admin', 'AA'],
    ['ana', 'A'],
    ['Maria da Silva Santos', 'MS'],
    ['ana.admin@demo.test', 'AA'],
    ['  ', '?'],
    [null, '?'],
    ['élodie durand', 'ÉD'],
  ])('%s → %s', (name, expected) => {
    expect(initials(name)).toBe(expected)
  })
})

describe('dates', () => {
  const now = Date.parse('2026-11-28T12:00:00Z')

  it('relative times', () => {
    expect(formatRelative('2026-11-28T11:59:30Z', now)).toBe('just now')
    expect(formatRelative('2026-11-28T11:55:00Z', now)).toMatch(/5 minutes ago/)
    expect(formatRelative('2026-11-27T12:00:00Z', now)).toMatch(/yesterday|1 day ago/)
    expect(formatRelative('2026-12-01T12:00:00Z', now)).toMatch(/in 3 days/)
  })

  it('missing or unreadable dates use the fallback', () => {
    expect(formatDateTime(null)).toBe('—')
    expect(formatDate('not a date', 'never')).toBe('never')
    expect(formatRelative(undefined, now, 'never')).toBe('never')
  })

  it('formats real dates', () => {
    expect(formatDate('2026-11-28T12:00:00Z')).toMatch(/2026/)
    expect(formatDateTime('2026-11-28T12:00:00Z')).toMatch(/2026/)
  })
})

describe('safeRedirect', () => {
  it('accepts paths inside the app only', () => {
    expect(safeRedirect('/settings/sessions?x=1')).toBe('/settings/sessions?x=1')
    expect(safeRedirect('//evil.test/')).toBeNull()
    expect(safeRedirect('/\\evil.test')).toBeNull()
    expect(safeRedirect('https://evil.test/')).toBeNull()
    expect(safeRedirect('/sign-in')).toBeNull()
    expect(safeRedirect(['/kanban'])).toBeNull()
    expect(safeRedirect(undefined)).toBeNull()
  })
})
