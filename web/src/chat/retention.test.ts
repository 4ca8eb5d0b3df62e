import { describe, expect, it } from 'vitest'
import { retentionDays, retentionForm, retentionLabel } from './retention'

describe('retention setting', () => {
  it('shows a stored setting as a choice, or as a number of days', () => {
    expect(retentionForm(null)).toEqual({ choice: '', custom: '' })
    expect(retentionForm(90)).toEqual({ choice: '90', custom: '' })
    expect(retentionForm(365)).toEqual({ choice: '365', custom: '' })
    expect(retentionForm(45)).toEqual({ choice: 'custom', custom: '45' })
  })

  it('stores forever as null, and takes 1 to 3650 whole days', () => {
    expect(retentionDays({ choice: '', custom: '12' })).toEqual({ days: null })
    expect(retentionDays({ choice: '180', custom: '' })).toEqual({ days: 180 })
    expect(retentionDays({ choice: 'custom', custom: ' 7 ' })).toEqual({ days: 7 })
    expect(retentionDays({ choice: 'custom', custom: '3650' })).toEqual({ days: 3650 })
    for (const bad of ['', '0', '3651', '1.5', '-3', 'ten']) {
      expect(retentionDays({ choice: 'custom', custom: bad }), bad).toHaveProperty('error')
    }
  })

  it('names a period', () => {
    expect(retentionLabel(null)).toBe('forever')
    expect(retentionLabel(1)).toBe('1 day')
    expect(retentionLabel(30)).toBe('30 days')
  })
})
