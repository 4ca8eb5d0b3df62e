/**
 * The chat's retention setting as the settings page offers it: forever, one of a few common
 * periods, or a number of days typed in (docs/chat.md: 1 to 3,650 days, null = forever).
 */

export const RETENTION_MAX_DAYS = 3650
export const RETENTION_PRESETS = [30, 90, 180, 365] as const

/** The select's value: '' forever, a preset's days, or 'custom'. */
export type RetentionChoice = '' | `${(typeof RETENTION_PRESETS)[number]}` | 'custom'

export interface RetentionForm {
  choice: RetentionChoice
  /** The days typed when `choice` is 'custom' (a number field may hand over a number). */
  custom: string | number
}

export const RETENTION_OPTIONS: { value: RetentionChoice; label: string }[] = [
  { value: '', label: 'Forever (never delete)' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '180', label: '180 days' },
  { value: '365', label: '1 year (365 days)' },
  { value: 'custom', label: 'Another number of days…' },
]

/** The form for a stored setting. */
export function retentionForm(days: number | null): RetentionForm {
  if (days === null) return { choice: '', custom: '' }
  const preset = RETENTION_PRESETS.find((p) => p === days)
  return preset ? { choice: `${preset}`, custom: '' } : { choice: 'custom', custom: String(days) }
}

/** The days to store (null forever), or why the form cannot be saved. */
export function retentionDays(form: RetentionForm): { days: number | null } | { error: string } {
  if (form.choice === '') return { days: null }
  if (form.choice !== 'custom') return { days: Number(form.choice) }
  const text = String(form.custom).trim()
  if (!/^\d+$/.test(text)) return { error: 'Enter a whole number of days.' }
  const days = Number(text)
  if (days < 1 || days > RETENTION_MAX_DAYS) return { error: `Enter 1 to ${RETENTION_MAX_DAYS.toLocaleString('en')} days.` }
  return { days }
}

/** "Forever", "30 days", "1 day". */
export function retentionLabel(days: number | null): string {
  if (days === null) return 'forever'
  return days === 1 ? '1 day' : `${days.toLocaleString()} days`
}
