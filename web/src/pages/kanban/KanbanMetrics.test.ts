import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, reactive, type App as VueApp } from 'vue'
import type { BoardMetrics } from '../../api/kanban'
import KanbanMetrics from './KanbanMetrics.vue'

let app: VueApp | undefined
let root: HTMLElement

const $ = (selector: string) => root.querySelector<HTMLElement>(selector)
const $$ = (selector: string) => [...root.querySelectorAll<HTMLElement>(selector)]
const byTestId = (id: string) => $(`[data-testid="${id}"]`)
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''
/** The text of each child: a tile's lines, a table row's cells. */
const parts = (el: Element | null | undefined) => [...(el?.children ?? [])].map(text)

const dollars = (amount: number) => new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' }).format(amount)
const none = { count: 0, mean_seconds: null, median_seconds: null, p90_seconds: null }

function metrics(extra: Partial<BoardMetrics> = {}): BoardMetrics {
  return {
    board_id: 'board-1',
    from: '2026-11-01T00:00:00Z',
    to: '2026-12-01T00:00:00Z',
    currency: 'USD',
    lead_time: none,
    cycle_time: none,
    won: { count: 0, value_minor: 0 },
    lost: { count: 0, value_minor: 0 },
    throughput: [],
    stages: [
      {
        stage_id: 's1',
        name: 'A stage with a rather long name indeed',
        kind: 'open',
        color: '#2781f6',
        sla_hours: 24,
        wip: 3,
        wip_value_minor: 12_345,
        time_in_stage: { count: 4, mean_seconds: 5400, median_seconds: 3600, p90_seconds: 90_000 },
        sla: { over_now: 2, breaches: 5 },
      },
      {
        stage_id: 's2',
        name: 'Won',
        kind: 'won',
        color: '#12a594',
        sla_hours: null,
        wip: 0,
        wip_value_minor: 0,
        time_in_stage: none,
        sla: null,
      },
    ],
    ...extra,
  }
}

function mount(load: (from: string, to: string) => Promise<BoardMetrics>, boardId = 'board-1') {
  const props = reactive({ boardId, load })
  app = createApp({ render: () => h(KanbanMetrics, { boardId: props.boardId, load: props.load }) })
  app.mount(root)
  return props
}

beforeEach(() => {
  root = document.createElement('div')
  document.body.append(root)
})

afterEach(() => {
  app?.unmount()
  app = undefined
  root.remove()
})

describe('KanbanMetrics', () => {
  it('shows dashes and an empty chart when nothing closed', async () => {
    mount(async () => metrics())
    await vi.waitFor(() => expect(byTestId('metric-won')).not.toBeNull())
    expect(text(byTestId('metric-won'))).toContain('win rate —')
    expect(parts(byTestId('metric-lead'))).toEqual(['Lead time (median)', '—', 'Nothing closed in this range'])
    expect(byTestId('throughput-chart')).toBeNull()
    expect(text(byTestId('throughput-empty'))).toBe('Nothing was won or lost in this range.')
  })

  it('tabulates time in stage and the SLA per stage, and charts the WIP', async () => {
    mount(async () => metrics())
    await vi.waitFor(() => expect($$('[data-testid="metrics-stage-row"]')).toHaveLength(2))
    const [open, won] = $$('[data-testid="metrics-stage-row"]').map(parts)
    const usd = dollars(123.45)
    expect(open).toEqual(['A stage with a rather long name indeed', `3 ${usd}`, '1h 30m', '1h', '1d 1h', '24h', '2', '5'])
    expect(won).toEqual(['Won Won', `0 ${dollars(0)}`, '—', '—', '—', '—', '—', '—'])
    // SVG with a title, a description, a tooltip per row, and the same numbers as a table.
    const svg = $('[data-testid="wip-chart"] svg')!
    expect(svg.getAttribute('role')).toBe('img')
    const [titleId, descId] = svg.getAttribute('aria-labelledby')!.split(' ')
    expect(text(root.querySelector(`[id="${titleId}"]`))).toBe('Cards in each stage now')
    expect(text(root.querySelector(`[id="${descId}"]`))).toBe('3 cards in 2 stages.')
    const rows = $$('[data-testid="wip-row"]')
    expect(text(rows[0]!.querySelector('title'))).toBe(`A stage with a rather long name indeed: 3 cards, ${usd}`)
    expect(text(rows[0]!.querySelector('.kb-chart-label'))).toBe('A stage with a…')
    // A stage without cards has no bar, only its track.
    expect(rows[1]!.querySelectorAll('rect')).toHaveLength(1)
    expect($$('[data-testid="wip-chart"] table tbody tr').map(parts)).toEqual([
      ['A stage with a rather long name indeed', '3', usd],
      ['Won', '0', dollars(0)],
    ])
  })

  it('draws bars to scale on round ticks, with a table behind them', async () => {
    mount(async () =>
      metrics({
        won: { count: 13, value_minor: 0 },
        throughput: [
          { week_start: '2026-11-02', won: 13, lost: 2 },
          { week_start: '2026-11-09', won: 0, lost: 0 },
        ],
      }),
    )
    await vi.waitFor(() => expect(byTestId('throughput-chart')).not.toBeNull())
    const ticks = $$('[data-testid="throughput-chart"] .kb-chart-grid text').map(text)
    expect(ticks).toEqual(['0', '5', '10', '15'])
    const won = $('[data-testid="throughput-chart"] rect.won')!
    const lost = $('[data-testid="throughput-chart"] rect.lost')!
    expect(Number(won.getAttribute('height')) / Number(lost.getAttribute('height'))).toBeCloseTo(13 / 2)
    expect($$('[data-testid="throughput-chart"] table tbody tr')).toHaveLength(2)
  })

  it('asks again for another range and for another board, keeping only the latest answer', async () => {
    const calls: { from: string; to: string; answer: (m: BoardMetrics) => void }[] = []
    const props = mount((from, to) => new Promise((answer) => calls.push({ from, to, answer })))
    await nextTick()
    expect(calls).toHaveLength(1)
    expect(byTestId('metrics-view')!.getAttribute('aria-busy')).toBe('true')
    const range = byTestId('metrics-range') as HTMLSelectElement
    range.value = '90'
    range.dispatchEvent(new Event('change'))
    await nextTick()
    expect(calls).toHaveLength(2)
    expect(Date.parse(calls[1]!.to) - Date.parse(calls[1]!.from)).toBe(90 * 86_400_000)
    // The older answer arrives last: it is not shown.
    calls[1]!.answer(metrics({ won: { count: 9, value_minor: 0 } }))
    calls[0]!.answer(metrics({ won: { count: 1, value_minor: 0 } }))
    await vi.waitFor(() => expect(text(byTestId('metric-won-count'))).toBe('9'))
    props.boardId = 'board-2'
    await nextTick()
    expect(calls).toHaveLength(3)
    expect(byTestId('metric-won')).toBeNull()
  })

  it('says why the metrics cannot be read, and tries again', async () => {
    let fail = true
    mount(async () => {
      if (fail) throw new Error('boom')
      return metrics()
    })
    await vi.waitFor(() => expect(byTestId('metrics-error')).not.toBeNull())
    expect(text(byTestId('metrics-error'))).toContain('Something went wrong. Try again.')
    fail = false
    ;(byTestId('metrics-error')!.querySelector('button') as HTMLButtonElement).click()
    await vi.waitFor(() => expect(byTestId('metric-won')).not.toBeNull())
    expect(byTestId('metrics-error')).toBeNull()
  })
})
