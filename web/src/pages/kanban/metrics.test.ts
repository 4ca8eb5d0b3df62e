import { describe, expect, it } from 'vitest'
import { axisTicks, fillWeeks, formatWeek, metricsRange, niceStep, truncate, winRate } from './metrics'

describe('metrics logic', () => {
  it('asks for the last N days up to the end of the current second', () => {
    const now = Date.parse('2026-11-30T15:20:30.789Z')
    expect(metricsRange(7, now)).toEqual({ from: '2026-11-23T15:20:31.000Z', to: '2026-11-30T15:20:31.000Z' })
    expect(metricsRange(90, now).from).toBe('2026-09-01T15:20:31.000Z')
    expect(metricsRange(7, Date.parse('2026-11-30T15:20:30.000Z')).to).toBe('2026-11-30T15:20:31.000Z')
  })

  it('fills the weeks the hub left out, in order', () => {
    const weeks = fillWeeks([
      { week_start: '2026-11-23', won: 2, lost: 1 },
      { week_start: '2026-11-02', won: 1, lost: 0 },
    ])
    expect(weeks).toEqual([
      { week_start: '2026-11-02', won: 1, lost: 0 },
      { week_start: '2026-11-09', won: 0, lost: 0 },
      { week_start: '2026-11-16', won: 0, lost: 0 },
      { week_start: '2026-11-23', won: 2, lost: 1 },
    ])
    expect(fillWeeks([])).toEqual([])
    expect(fillWeeks([{ week_start: 'soon', won: 1, lost: 1 }])).toEqual([])
  })

  it('fills across the end of a year', () => {
    const weeks = fillWeeks([
      { week_start: '2026-12-21', won: 1, lost: 0 },
      { week_start: '2027-01-11', won: 0, lost: 1 },
    ])
    expect(weeks.map((w) => w.week_start)).toEqual(['2026-12-21', '2026-12-28', '2027-01-04', '2027-01-11'])
  })

  it('picks round axis ticks', () => {
    expect(niceStep(0)).toBe(1)
    expect(niceStep(0.75)).toBe(1)
    expect(niceStep(3)).toBe(5)
    expect(niceStep(13)).toBe(20)
    expect(niceStep(200)).toBe(200)
    expect(axisTicks(0)).toEqual([0, 1])
    expect(axisTicks(3)).toEqual([0, 1, 2, 3])
    expect(axisTicks(13)).toEqual([0, 5, 10, 15])
    expect(axisTicks(100)).toEqual([0, 50, 100])
  })

  it('formats weeks as written, win rates and long names', () => {
    const expected = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
      new Date(Date.UTC(2026, 10, 23)),
    )
    expect(formatWeek('2026-11-23')).toBe(expected)
    expect(formatWeek('later')).toBe('later')
    expect(winRate(2, 1)).toBe('67%')
    expect(winRate(0, 0)).toBe('—')
    expect(truncate('Proposal sent to the client', 12)).toBe('Proposal se…')
    expect(truncate('New', 12)).toBe('New')
    expect(truncate('A stage with a rather long name', 16)).toBe('A stage with a…')
  })
})
