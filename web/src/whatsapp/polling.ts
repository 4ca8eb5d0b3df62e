/** How often Settings → WhatsApp asks the hub again while something is under way. */

/** The session's status, while the connect dialog waits for the phone. */
export const CHECK_MS = 5_000
/** A new QR, while one is on screen (providers show a new one every 20 to 60 s). */
export const QR_REFRESH_MS = 20_000
/** How long "Connected" shows before the connect dialog closes by itself. */
export const CLOSE_AFTER_MS = 3_000
/** The list of numbers, while the page is open (their status changes on the phone's side too). */
export const LIST_REFRESH_MS = 15_000
