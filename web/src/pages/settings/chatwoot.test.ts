import { describe, expect, it } from 'vitest'
import { ApiError } from '../../api/client'
import type { Inbox } from '../../api/chatwoot'
import {
  channelLabel,
  chatwootErrorMessage,
  connectionLabel,
  connectLines,
  countsText,
  disconnectMessage,
  healthLabel,
  inboxState,
  inboxStateLabel,
  syncLines,
  syncSummary,
} from './chatwoot'

const zero = { added: 0, updated: 0, removed: 0, skipped: 0 }

function inbox(overrides: Partial<Inbox> = {}): Inbox {
  return {
    id: 'i',
    chatwoot_inbox_id: 1,
    name: 'Inbox',
    channel_type: 'Channel::Api',
    phone_number: null,
    enabled: true,
    disabled_reason: null,
    removed_at: null,
    synced_at: '2026-11-28T12:00:00Z',
    ...overrides,
  }
}

function problem(status: number, code: string, detail: string, extra = {}) {
  return new ApiError({ type: 'about:blank', title: 'Error', status, code, detail, ...extra })
}

describe('connection labels', () => {
  it('names the three states, anything unknown as not connected', () => {
    expect(connectionLabel('connected')).toEqual({ label: 'Connected', tone: 'teal' })
    expect(connectionLabel('disconnected')).toEqual({ label: 'Not connected', tone: 'slate' })
    expect(connectionLabel('error')).toEqual({ label: 'Error', tone: 'ruby' })
    expect(connectionLabel(null).label).toBe('Not connected')
  })

  it('says whether Chatwoot answered, and nothing when it was not asked', () => {
    expect(healthLabel(true)?.label).toBe('Chatwoot answered')
    expect(healthLabel(false)?.label).toBe('Chatwoot did not answer')
    expect(healthLabel(null)).toBeNull()
  })
})

describe('channelLabel', () => {
  it('names Chatwoot channel types the way people know them', () => {
    expect(channelLabel('Channel::Whatsapp')).toBe('WhatsApp')
    expect(channelLabel('Channel::WebWidget')).toBe('Website')
    expect(channelLabel('Channel::Api')).toBe('API')
    expect(channelLabel('Channel::Email')).toBe('Email')
    expect(channelLabel('Channel::FacebookPage')).toBe('Messenger')
    expect(channelLabel('Channel::Telegram')).toBe('Telegram')
  })

  it('spells out one it does not know', () => {
    expect(channelLabel('Channel::CarrierPigeon')).toBe('Carrier Pigeon')
    expect(channelLabel('Something')).toBe('Something')
  })
})

describe('inbox state', () => {
  it('tells why an inbox is not used', () => {
    expect(inboxStateLabel(inbox())).toBe('Enabled')
    expect(inboxStateLabel(inbox({ enabled: false, disabled_reason: 'over_quota' }))).toBe(
      "Over your plan's inbox limit",
    )
    expect(inboxStateLabel(inbox({ enabled: false, disabled_reason: 'disabled_by_admin' }))).toBe(
      'Disabled by an admin',
    )
    expect(inboxStateLabel(inbox({ enabled: false, disabled_reason: null }))).toBe('Disabled')
  })

  it('a removed inbox is "Removed in Chatwoot" whatever its reason', () => {
    const removed = inbox({ enabled: false, disabled_reason: 'over_quota', removed_at: '2026-11-28T13:00:00Z' })
    expect(inboxState(removed)).toBe('removed')
    expect(inboxStateLabel(removed)).toBe('Removed in Chatwoot')
  })
})

describe('sync and connect reports', () => {
  const report = {
    inboxes: { ...zero, added: 2, skipped: 1 },
    agents: { ...zero, updated: 1 },
    teams: zero,
    synced_at: '2026-11-28T12:00:00Z',
  }

  it('lists only what changed', () => {
    expect(countsText(zero)).toBeNull()
    expect(countsText({ added: 1, removed: 3 })).toBe('1 added, 3 removed')
    expect(syncLines(report)).toEqual(['Inboxes: 2 added, 1 skipped', 'Agents: 1 updated'])
    expect(syncSummary(report)).toBe('Inboxes: 2 added, 1 skipped · Agents: 1 updated')
    expect(syncSummary({ inboxes: zero, agents: zero, teams: zero })).toBe('Everything was already up to date.')
    expect(syncLines(null)).toEqual([])
  })

  it('tells what a first connect did', () => {
    const lines = connectLines({
      webhook: { id: 30, action: 'created', url: 'http://hub/x', signed: true },
      dashboard_app: { id: 31, action: 'created' },
      sync: report,
    })
    expect(lines).toEqual([
      'Registered the hub’s webhook in Chatwoot.',
      'Chatwoot signs its deliveries, and the hub checks each signature.',
      'Added the Whatpro Hub Dashboard App to Chatwoot’s conversations.',
      'Synced from Chatwoot — Inboxes: 2 added, 1 skipped · Agents: 1 updated.',
    ])
  })

  it('tells a repeated connect changed nothing, and an unsigned webhook', () => {
    const lines = connectLines({
      webhook: { id: 30, action: 'unchanged', url: 'http://hub/x', signed: false },
      dashboard_app: { id: 31, action: 'unchanged' },
      sync: { inboxes: zero, agents: zero, teams: zero, synced_at: '2026-11-28T12:00:00Z' },
    })
    expect(lines[0]).toMatch(/already registered/)
    expect(lines[1]).toMatch(/does not sign/)
    expect(lines[2]).toMatch(/already in Chatwoot/)
    expect(lines[3]).toMatch(/already up to date/)
    expect(
      connectLines({
        webhook: { id: 30, action: 'updated', url: 'u', signed: true },
        dashboard_app: { id: 31, action: 'unchanged' },
        sync: { inboxes: zero, agents: zero, teams: zero, synced_at: '' },
      })[0],
    ).toMatch(/Updated the events/)
  })

  it('tells what a disconnect removed', () => {
    expect(
      disconnectMessage({ webhook: { id: 1, action: 'removed' }, dashboard_app: { id: 2, action: 'removed' } }),
    ).toMatch(/Removed the hub’s webhook and Dashboard App/)
    expect(
      disconnectMessage({ webhook: { id: null, action: 'unchanged' }, dashboard_app: { id: null, action: 'unchanged' } }),
    ).toBe('This account was not connected to Chatwoot.')
  })
})

describe('chatwootErrorMessage', () => {
  it("shows Chatwoot's answers as the hub words them", () => {
    expect(chatwootErrorMessage(problem(400, 'chatwoot_token_rejected', 'Chatwoot did not accept this token.'))).toBe(
      'Chatwoot did not accept this token.',
    )
    expect(chatwootErrorMessage(problem(503, 'unavailable', 'Chatwoot cannot be reached; try again.'))).toBe(
      'Chatwoot cannot be reached; try again.',
    )
    expect(chatwootErrorMessage(problem(409, 'chatwoot_not_linked', 'Not linked.'))).toBe('Not linked.')
  })

  it('explains the plan’s inbox limit with its numbers', () => {
    const quota = problem(403, 'quota_exceeded', 'The plan allows 2 inboxes; the account has 2.', {
      resource: 'inboxes',
      limit: 2,
      current: 2,
    })
    expect(chatwootErrorMessage(quota)).toBe(
      'Your plan allows 2 enabled inboxes and 2 are enabled already. Disable another inbox first, or ask to upgrade the plan.',
    )
    expect(chatwootErrorMessage(problem(403, 'quota_exceeded', 'x'))).toMatch(/inbox limit is reached/)
  })

  it('asks to connect first when syncing a disconnected account', () => {
    expect(chatwootErrorMessage(problem(409, 'chatwoot_not_connected', 'x'))).toMatch(/not connected to Chatwoot/)
  })

  it('uses the general sentences for network and validation failures', () => {
    expect(chatwootErrorMessage(problem(0, 'network_error', 'x'))).toMatch(/could not be reached/)
    expect(chatwootErrorMessage(new Error('boom'))).toBe('Something went wrong. Try again.')
  })
})
