/**
 * How a message's files show: an image's box, reserved before its thumbnail loads so the
 * list does not jump; and whether a signed link (docs/chat.md: `expires` is in its query,
 * Unix seconds) has expired, so a click reads the message again instead of failing.
 */

/** The largest box an image preview takes in a message. */
export const PREVIEW_MAX = { width: 320, height: 240 }

/** The preview's size: the image scaled to fit PREVIEW_MAX (never up); a default box without its size. */
export function previewSize(width?: number | null, height?: number | null): { width: number; height: number } {
  if (!width || !height || width <= 0 || height <= 0) return { width: 240, height: 160 }
  const scale = Math.min(1, PREVIEW_MAX.width / width, PREVIEW_MAX.height / height)
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

/** When a signed link stops working (ms), or null when it does not say. */
export function linkExpiry(url: string): number | null {
  try {
    const expires = Number(new URL(url, 'http://hub.invalid').searchParams.get('expires'))
    return Number.isFinite(expires) && expires > 0 ? expires * 1000 : null
  } catch {
    return null
  }
}

/** The link has expired (or will within `marginMs`) at `now`. */
export function linkExpired(url: string, now: number, marginMs = 15_000): boolean {
  const expiry = linkExpiry(url)
  return expiry !== null && expiry - marginMs <= now
}
