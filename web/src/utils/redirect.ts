/** A `?redirect=` target if it is a path inside this app (and not the sign-in page). */
export function safeRedirect(value: unknown): string | null {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) return null
  if (value.startsWith('/\\') || value.startsWith('/sign-in')) return null
  return value
}
