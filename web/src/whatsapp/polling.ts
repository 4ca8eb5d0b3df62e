/** How often Settings → WhatsApp asks the hub again while something is under way. */

/** The session's status, while the connect dialog waits for the phone. */
export const CHECK_MS = 5_000
/** A new QR, while one is on screen, when the hub says not when it expires (providers show a new one every 20 to 60 s). */
export const QR_REFRESH_MS = 20_000
/** How long before a QR expires the dialog asks for the next one. */
export const QR_LEAD_MS = 3_000
/** The soonest and latest the dialog asks for a new QR (clocks differ; a QR may live minutes). */
export const QR_MIN_MS = 2_000
export const QR_MAX_MS = 60_000

/**
 * When to read the QR again: QR_LEAD_MS before `expiresAt` (RFC 3339), kept within
 * QR_MIN_MS..QR_MAX_MS; every QR_REFRESH_MS without an expiry.
 */
export function qrRefreshDelay(expiresAt: string | null | undefined, now: number): number {
  const at = expiresAt ? Date.parse(expiresAt) : Number.NaN
  if (Number.isNaN(at)) return QR_REFRESH_MS
  return Math.min(QR_MAX_MS, Math.max(QR_MIN_MS, at - now - QR_LEAD_MS))
}
/** How long "Connected" shows before the connect dialog closes by itself. */
export const CLOSE_AFTER_MS = 3_000
/** The list of numbers, while the page is open (their status changes on the phone's side too). */
export const LIST_REFRESH_MS = 15_000
