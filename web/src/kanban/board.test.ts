import { describe, expect, it } from 'vitest'
import type { Card, CardEvent, Stage } from '../api/kanban'
import {
  applyMove,
  dateInput,
  placeCard,
  removeCard,
  describeEvent,
  dropPosition,
  dueFromDateInput,
  formatDue,
  formatDuration,
  formatMoney,
  formatTotals,
  groupByStage,
  isOverdue,
  moneyInput,
  normalizeLabel,
  parseMoney,
  reorder,
  slaDescription,
  slaLabel,
  slaState,
  sumValues,
} from './board'

function stage(id: string, position: number, kind: Stage['kind'] = 'open'): Stage {
  return { id, board_id: 'b', name: id, color: '#2781f6', position, sla_hours: null, kind, created_at: '', updated_at: '' }
}

function card(id: string, stage_id: string, position: number, extra: Partial<Card> = {}): Card {
  return {
    id,
    board_id: 'b',
    stage_id,
    position,
    stage_entered_at: '2026-11-28T12:00:00Z',
    title: id,
    chatwoot_conversation_id: null,
    chatwoot_contact_id: null,
    chatwoot_inbox_id: null,
    contact_name: null,
    contact_avatar_url: null,
    last_message: null,
    last_message_at: null,
    value_minor: null,
    currency: null,
    priority: null,
    due_at: null,
    assignee_id: null,
    labels: [],
    custom_fields: {},
    status: 'open',
    lost_reason: null,
    version: 1,
    created_at: '',
    updated_at: '',
    ...extra,
  }
}

/** `stage: ids in order` for every stage, as a readable picture of the board. */
function picture(cards: Card[], stages = ['new', 'doing', 'lost']) {
  const columns = groupByStage(stages.map((s, i) => stage(s, i)), cards)
  return Object.fromEntries([...columns].map(([id, list]) => [id, list.map((c) => `${c.id}@${c.position}`).join(' ')]))
}

describe('columns', () => {
  it('groups cards by stage in position order, with empty stages', () => {
    const cards = [card('b', 'new', 1), card('a', 'new', 0), card('c', 'doing', 0)]
    expect(picture(cards)).toEqual({ new: 'a@0 b@1', doing: 'c@0', lost: '' })
  })

  it('sums values per currency, a card without one counting in the board currency', () => {
    const cards = [
      card('a', 'new', 0, { value_minor: 150_050 }),
      card('b', 'new', 1, { value_minor: 49_950, currency: 'BRL' }),
      card('c', 'new', 2, { value_minor: 1_000, currency: 'USD' }),
      card('d', 'new', 3),
    ]
    expect(sumValues(cards, 'BRL')).toEqual([
      { currency: 'BRL', minor: 200_000 },
      { currency: 'USD', minor: 1_000 },
    ])
    expect(sumValues([], 'BRL')).toEqual([])
    expect(formatTotals(sumValues(cards, 'BRL'), 'en-US')).toBe('R$2,000.00 + $10.00')
  })
})

describe('money', () => {
  it('formats minor units in the currency, with its own decimals', () => {
    expect(formatMoney(123_450, 'BRL', 'pt-BR')).toBe('R$\u00a01.234,50')
    expect(formatMoney(123_450, 'USD', 'en-US')).toBe('$1,234.50')
    expect(formatMoney(5_000, 'JPY', 'en-US')).toBe('¥5,000')
  })

  it('reads typed amounts in either decimal style', () => {
    expect(parseMoney('1234.5', 'BRL')).toBe(123_450)
    expect(parseMoney('1.234,50', 'BRL')).toBe(123_450)
    expect(parseMoney('1,234.50', 'USD')).toBe(123_450)
    expect(parseMoney('0,1', 'BRL')).toBe(10)
    expect(parseMoney('5000', 'JPY')).toBe(5_000)
    expect(parseMoney('  ', 'BRL')).toBeNull()
    expect(parseMoney('abc', 'BRL')).toBeNaN()
    expect(parseMoney('-3', 'BRL')).toBeNaN()
    expect(moneyInput(123_450, 'BRL')).toBe('1234.50')
    expect(moneyInput(null, 'BRL')).toBe('')
  })
})

describe('due dates', () => {
  const now = new Date(2026, 10, 28, 15, 0).getTime()

  it('is overdue only when past due and still open', () => {
    const past = new Date(2026, 10, 27).toISOString()
    const future = new Date(2026, 10, 30).toISOString()
    expect(isOverdue({ due_at: past, status: 'open' }, now)).toBe(true)
    expect(isOverdue({ due_at: past, status: 'won' }, now)).toBe(false)
    expect(isOverdue({ due_at: future, status: 'open' }, now)).toBe(false)
    expect(isOverdue({ due_at: null, status: 'open' }, now)).toBe(false)
  })

  it('says today, tomorrow, yesterday or the day', () => {
    expect(formatDue(new Date(2026, 10, 28, 9).toISOString(), now)).toBe('Today')
    expect(formatDue(new Date(2026, 10, 29, 9).toISOString(), now)).toBe('Tomorrow')
    expect(formatDue(new Date(2026, 10, 27, 9).toISOString(), now)).toBe('Yesterday')
    expect(formatDue(new Date(2026, 11, 3, 9).toISOString(), now)).toMatch(/3/)
    expect(formatDue(null, now)).toBe('')
  })

  it('round-trips a picked day through noon local time', () => {
    const iso = dueFromDateInput('2026-12-03')!
    expect(new Date(iso).getHours()).toBe(12)
    expect(dateInput(iso)).toBe('2026-12-03')
    expect(dueFromDateInput('nope')).toBeNull()
  })
})

describe('moves', () => {
  const board = () => [
    card('a', 'new', 0),
    card('b', 'new', 1),
    card('c', 'new', 2),
    card('x', 'doing', 0),
    card('y', 'doing', 1),
  ]

  it('turns a drop index into the position the API expects', () => {
    const cards = board()
    const shown = groupByStage([stage('new', 0), stage('doing', 1)], cards)
    const a = cards[0]!
    const c = cards[2]!
    // Into another stage: the index among its cards.
    expect(dropPosition(shown.get('doing')!, a, 'doing', 0)).toBe(0)
    expect(dropPosition(shown.get('doing')!, a, 'doing', 1)).toBe(1)
    expect(dropPosition(shown.get('doing')!, a, 'doing', 2)).toBe(2)
    // Within its stage: the index once the card is taken out.
    expect(dropPosition(shown.get('new')!, a, 'new', 3)).toBe(2)
    expect(dropPosition(shown.get('new')!, a, 'new', 2)).toBe(1)
    expect(dropPosition(shown.get('new')!, c, 'new', 0)).toBe(0)
    expect(dropPosition(shown.get('new')!, a, 'new', 0)).toBe(0)
    // Into an empty stage: the bottom.
    expect(dropPosition([], a, 'lost', 0)).toBeUndefined()
  })

  it('uses real positions when the column is filtered', () => {
    const cards = [card('a', 'new', 0), card('c', 'new', 4), card('d', 'new', 7), card('x', 'doing', 2)]
    const shown = cards.filter((c) => c.stage_id === 'new')
    // Before "d" (position 7) from another stage: position 7.
    expect(dropPosition(shown, cards[3]!, 'new', 2)).toBe(7)
    // After the last shown card: just below it.
    expect(dropPosition(shown, cards[3]!, 'new', 3)).toBe(8)
    // "a" (0) moved before "d" (7) in the same stage: 6 once "a" is taken out.
    expect(dropPosition(shown, cards[0]!, 'new', 2)).toBe(6)
  })

  it('applies a move like the hub: closes up, makes room, takes the stage kind', () => {
    const moved = applyMove(board(), 'b', { id: 'doing', kind: 'open' }, 1)
    expect(picture(moved)).toEqual({ new: 'a@0 c@1', doing: 'x@0 b@1 y@2', lost: '' })
    const down = applyMove(board(), 'a', { id: 'new', kind: 'open' }, 2)
    expect(picture(down)).toEqual({ new: 'b@0 c@1 a@2', doing: 'x@0 y@1', lost: '' })
    const bottom = applyMove(board(), 'a', { id: 'doing', kind: 'open' }, undefined)
    expect(picture(bottom)).toEqual({ new: 'b@0 c@1', doing: 'x@0 y@1 a@2', lost: '' })
    const lost = applyMove(board(), 'c', { id: 'lost', kind: 'lost' }, undefined, 'Too expensive')
    expect(lost.find((c) => c.id === 'c')).toMatchObject({ stage_id: 'lost', position: 0, status: 'lost', lost_reason: 'Too expensive' })
  })

  it('starts the stage clock of a card that changes stage, not of one moved within it', () => {
    const at = '2026-12-01T09:00:00.000Z'
    const across = applyMove(board(), 'b', { id: 'doing', kind: 'open' }, 0, null, at)
    expect(across.find((c) => c.id === 'b')!.stage_entered_at).toBe(at)
    const within = applyMove(board(), 'a', { id: 'new', kind: 'open' }, 2, null, at)
    expect(within.find((c) => c.id === 'a')!.stage_entered_at).toBe('2026-11-28T12:00:00Z')
  })

  it('leaves the cards it does not touch as they were (same objects)', () => {
    const cards = board()
    const moved = applyMove(cards, 'c', { id: 'doing', kind: 'open' }, 2)
    expect(moved).not.toBe(cards)
    expect(moved[0]).toBe(cards[0])
    expect(moved[3]).toBe(cards[3])
  })

  it('reorders columns', () => {
    expect(reorder(['a', 'b', 'c', 'd'], 0, 2)).toEqual(['b', 'c', 'a', 'd'])
    expect(reorder(['a', 'b', 'c', 'd'], 3, 0)).toEqual(['d', 'a', 'b', 'c'])
  })
})

describe('labels and history', () => {
  it('normalizes labels like Chatwoot', () => {
    expect(normalizeLabel('  Hot Lead ')).toBe('hot-lead')
  })

  it('describes history events with stage names', () => {
    const names: Record<string, string> = { s1: 'New', s2: 'In progress', s3: 'Lost' }
    const name = (id: string | null) => (id ? names[id] ?? '' : '')
    const event = (kind: string, extra: Partial<CardEvent> = {}): CardEvent => ({
      id: 'e',
      card_id: 'c',
      kind,
      from_stage_id: null,
      to_stage_id: null,
      actor_type: 'user',
      actor_user_id: 'u',
      reason: null,
      changes: null,
      created_at: '',
      ...extra,
    })
    expect(describeEvent(event('created', { to_stage_id: 's1' }), name)).toBe('Created in New')
    expect(describeEvent(event('moved', { from_stage_id: 's1', to_stage_id: 's2' }), name)).toBe(
      'Moved from New to In progress',
    )
    expect(describeEvent(event('lost', { from_stage_id: 's2', to_stage_id: 's3' }), name)).toBe('Lost: moved to Lost')
    expect(
      describeEvent(event('updated', { changes: { value_minor: { from: null, to: 1 }, due_at: { from: null, to: 'x' } } }), name),
    ).toBe('Changed value, due date')
  })
})

describe('durations', () => {
  it('shows the largest unit and the next one, rounded down', () => {
    expect(formatDuration(0)).toBe('0s')
    expect(formatDuration(45.9)).toBe('45s')
    expect(formatDuration(12 * 60 + 5)).toBe('12m 5s')
    expect(formatDuration(3 * 3600)).toBe('3h')
    expect(formatDuration(3 * 3600 + 20 * 60 + 59)).toBe('3h 20m')
    expect(formatDuration(2 * 86_400 + 4 * 3600 + 59 * 60)).toBe('2d 4h')
    expect(formatDuration(2 * 86_400 + 30 * 60)).toBe('2d')
    expect(formatDuration(400 * 86_400)).toBe('400d')
  })

  it('shows one unit when asked, and a dash for nothing', () => {
    expect(formatDuration(3 * 3600 + 20 * 60, 1)).toBe('3h')
    expect(formatDuration(2 * 86_400 + 23 * 3600, 1)).toBe('2d')
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(undefined)).toBe('—')
    expect(formatDuration(Number.NaN)).toBe('—')
    expect(formatDuration(-5)).toBe('0s')
  })
})

describe('SLA', () => {
  const entered = Date.parse('2026-11-28T12:00:00Z')
  const HOUR = 3_600_000
  const open = { kind: 'open' as const, sla_hours: 10 }
  const at = (hours: number) => entered + hours * HOUR
  const inStage = card('a', 'new', 0)

  it('is quiet within the first 80% of the SLA', () => {
    expect(slaState(inStage, open, at(0))).toBeNull()
    expect(slaState(inStage, open, at(7.99))).toBeNull()
  })

  it('warns (amber) in the last 20%, with the time left', () => {
    expect(slaState(inStage, open, at(8))).toEqual({ level: 'warning', seconds: 2 * 3600, slaHours: 10 })
    const sla = slaState(inStage, open, at(9.5))!
    expect(sla.level).toBe('warning')
    expect(slaLabel(sla)).toBe('SLA 30m left')
    expect(slaDescription(sla)).toBe('30m left of the 10h SLA')
    // Exactly at the limit is still within it.
    expect(slaState(inStage, open, at(10))?.level).toBe('warning')
  })

  it('is breached (red) past the SLA, with how long it has been over', () => {
    const sla = slaState(inStage, open, at(13.25))!
    expect(sla).toEqual({ level: 'breached', seconds: 3.25 * 3600, slaHours: 10 })
    expect(slaLabel(sla)).toBe('SLA +3h')
    expect(slaDescription(sla)).toBe('Over the 10h SLA by 3h 15m')
    expect(slaLabel(slaState(inStage, { kind: 'open', sla_hours: 24 }, at(24 + 50))!)).toBe('SLA +2d')
  })

  it('counts only open cards in open stages with an SLA and a known entry time', () => {
    const late = at(100)
    expect(slaState(inStage, { kind: 'open', sla_hours: null }, late)).toBeNull()
    expect(slaState(inStage, { kind: 'won', sla_hours: 10 }, late)).toBeNull()
    expect(slaState(inStage, { kind: 'lost', sla_hours: 10 }, late)).toBeNull()
    expect(slaState(card('w', 'new', 0, { status: 'won' }), open, late)).toBeNull()
    expect(slaState(inStage, null, late)).toBeNull()
    expect(slaState(card('x', 'new', 0, { stage_entered_at: '' }), open, late)).toBeNull()
    expect(slaState(card('y', 'new', 0, { stage_entered_at: 'yesterday' }), open, late)).toBeNull()
    // A card from an older hub, without the field at all.
    const { stage_entered_at: _gone, ...old } = inStage
    expect(slaState(old as Card, open, late)).toBeNull()
  })
})

describe('placeCard and removeCard', () => {
  const at = card

  it('puts a card at its position and renumbers both stages', () => {
    const cards = [at('a', 's1', 0), at('b', 's1', 1), at('c', 's1', 2), at('x', 's2', 0)]
    const placed = placeCard(cards, at('b', 's2', 0))
    const order = (stage: string) =>
      placed.filter((c) => c.stage_id === stage).sort((p, q) => p.position - q.position).map((c) => [c.id, c.position])
    expect(order('s1')).toEqual([['a', 0], ['c', 1]])
    expect(order('s2')).toEqual([['b', 0], ['x', 1]])
  })

  it('adds a new card, clamping a position past the end', () => {
    const placed = placeCard([at('a', 's1', 0)], at('n', 's1', 9))
    expect(placed.map((c) => [c.id, c.position])).toEqual([['a', 0], ['n', 1]])
  })

  it('closes the gap a removed card leaves', () => {
    const left = removeCard([at('a', 's1', 0), at('b', 's1', 1), at('x', 's2', 0)], 'a')
    expect(left.map((c) => [c.id, c.position])).toEqual([['b', 0], ['x', 0]])
    expect(removeCard(left, 'missing')).toEqual(left)
  })
})
