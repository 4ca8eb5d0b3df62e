import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { applyPresence, AWAY_AFTER_MS, createAwayReporter, type PresenceMap, type PresenceStatus } from './presence'

describe('applyPresence', () => {
  it('takes a snapshot whole, then single changes and batches of them', () => {
    const map: PresenceMap = { gone: 'online' }
    applyPresence(map, { online: ['ana', 'bia'], away: ['caio'] })
    expect(map).toEqual({ ana: 'online', bia: 'online', caio: 'away' })
    applyPresence(map, { user_id: 'bia', status: 'away' })
    applyPresence(map, { user_id: 'ana', status: 'offline' })
    expect(map).toEqual({ bia: 'away', caio: 'away' })
    applyPresence(map, {
      changes: [
        { user_id: 'caio', status: 'online' },
        { user_id: 'bia', status: 'offline' },
        { user_id: 'dan', status: 'online' },
      ],
    })
    expect(map).toEqual({ caio: 'online', dan: 'online' })
  })

  it('ignores what it cannot read', () => {
    const map: PresenceMap = { ana: 'online' }
    for (const data of [null, 'x', { user_id: 7, status: 'online' }, { user_id: 'bia', status: 'busy' }, { changes: [null] }]) {
      applyPresence(map, data)
    }
    expect(map).toEqual({ ana: 'online' })
  })
})

describe('createAwayReporter', () => {
  let hidden: boolean
  let sent: PresenceStatus[]
  let live: boolean

  function reporter() {
    return createAwayReporter({
      hidden: () => hidden,
      send: (status) => {
        if (!live) return false
        sent.push(status)
        return true
      },
    })
  }

  beforeEach(() => {
    vi.useFakeTimers()
    hidden = false
    sent = []
    live = true
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('says away once the page has been hidden a minute, and online as soon as it is shown', async () => {
    const away = reporter()
    hidden = true
    away.update()
    await vi.advanceTimersByTimeAsync(AWAY_AFTER_MS - 1)
    expect(sent).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(sent).toEqual(['away'])
    hidden = false
    away.update()
    expect(sent).toEqual(['away', 'online'])
    away.stop()
  })

  it('says nothing for a quick look away', async () => {
    const away = reporter()
    hidden = true
    away.update()
    await vi.advanceTimersByTimeAsync(5_000)
    hidden = false
    away.update()
    await vi.advanceTimersByTimeAsync(AWAY_AFTER_MS)
    expect(sent).toEqual([])
    away.stop()
  })

  it('tells a new socket (which starts online) that the page is still hidden', async () => {
    const away = reporter()
    hidden = true
    away.update()
    live = false
    await vi.advanceTimersByTimeAsync(AWAY_AFTER_MS)
    expect(sent).toEqual([])
    live = true
    away.reconnected()
    expect(sent).toEqual(['away'])
    away.reconnected()
    expect(sent).toEqual(['away', 'away'])
    away.stop()
  })
})
