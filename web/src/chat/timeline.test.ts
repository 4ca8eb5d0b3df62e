import { describe, expect, it } from 'vitest'
import { TEST_NOW } from '../test/clock'
import { buildTimeline, dayLabel, mergeMessages, type TimelineMessage } from './timeline'

const at = (minutesAgo: number) => new Date(TEST_NOW - minutesAgo * 60_000).toISOString()

function msg(seq: number, author: string | null, minutesAgo: number, extra: Partial<TimelineMessage> = {}): TimelineMessage {
  return { id: `m${seq}`, seq, author_id: author, created_at: at(minutesAgo), ...extra }
}

const shape = (rows: ReturnType<typeof buildTimeline>) =>
  rows.map((row) => (row.kind === 'message' ? `${row.message.id}${row.grouped ? '+' : ''}` : row.kind === 'day' ? `[${row.label}]` : '--new--'))

describe('buildTimeline', () => {
  it('groups one author within five minutes and separates days', () => {
    const rows = buildTimeline(
      [
        msg(1, 'ana', 2 * 24 * 60 + 10),
        msg(2, 'ana', 24 * 60 + 5),
        msg(3, 'ana', 24 * 60 + 3),
        msg(4, 'bruno', 24 * 60 + 2),
        msg(5, 'bruno', 30),
        msg(6, 'bruno', 28),
        msg(7, 'bruno', 10),
      ],
      { now: TEST_NOW },
    )
    const labels = rows.filter((r) => r.kind === 'day').map((r) => r.kind === 'day' && r.label)
    expect(labels.slice(1)).toEqual(['Yesterday', 'Today'])
    expect(shape(rows).slice(1)).toEqual(['m1', `[Yesterday]`, 'm2', 'm3+', 'm4', '[Today]', 'm5', 'm6+', 'm7'])
  })

  it('puts the new-messages divider before the first unread message of someone else', () => {
    const rows = buildTimeline([msg(1, 'ana', 9), msg(2, 'me', 8), msg(3, 'ana', 7), msg(4, 'ana', 6)], {
      now: TEST_NOW,
      lastReadSeq: 1,
      me: 'me',
    })
    expect(shape(rows).slice(1)).toEqual(['m1', 'm2', '--new--', 'm3', 'm4+'])
  })

  it('has no divider when everything is read, and never groups deleted messages', () => {
    const rows = buildTimeline([msg(1, 'ana', 3), msg(2, 'ana', 2, { deleted: true }), msg(3, 'ana', 1)], {
      now: TEST_NOW,
      lastReadSeq: 3,
    })
    expect(shape(rows).slice(1)).toEqual(['m1', 'm2', 'm3'])
  })

  it('labels older days with the date', () => {
    expect(dayLabel(at(10 * 24 * 60), TEST_NOW)).not.toMatch(/Today|Yesterday/)
  })
})

describe('mergeMessages', () => {
  it('replaces by id and keeps seq order', () => {
    const merged = mergeMessages([{ id: 'a', seq: 2, v: 1 }, { id: 'b', seq: 3, v: 1 }], [{ id: 'a', seq: 2, v: 2 }, { id: 'c', seq: 1, v: 1 }])
    expect(merged.map((m) => `${m.id}${m.v}`)).toEqual(['c1', 'a2', 'b1'])
  })
})
