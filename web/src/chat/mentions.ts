/**
 * Mentions as the hub stores them and as people type them (docs/chat.md). A person is
 * `<@USER_ID>` in a body; the composer shows `@Name`. Only people picked from the
 * autocomplete become ids: a name typed by hand stays text (the hub never trusts names
 * either). `@room` (everyone in the room) is written as it is.
 */

export interface Mentioned {
  id: string
  name: string
}

export const ROOM_MENTION = '@room'
const TOKEN = /<@([^<>\s]{1,64})>/g

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The body to send for what the composer shows: each `@Name` of a person picked from the
 * autocomplete becomes `<@id>` (the longest names first, so "@Ana Maria" wins over "@Ana"),
 * when it stands as a whole word.
 */
export function encodeMentions(text: string, picked: readonly Mentioned[]): string {
  const byName = new Map<string, string>()
  for (const person of picked) if (person.name.trim()) byName.set(person.name.trim(), person.id)
  if (byName.size === 0) return text
  const names = [...byName.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp)
  // After the name: the end, a space or punctuation, never more of a word.
  const pattern = new RegExp(`(^|[^\\w@])@(${names.join('|')})(?![\\p{L}\\p{N}_])`, 'gu')
  return text.replace(pattern, (_match, before: string, name: string) => `${before}<@${byName.get(name)}>`)
}

/**
 * What the composer shows for a stored body (to edit it): `<@id>` becomes `@Name`, and the
 * people it names come back as picked, so sending it again keeps them as ids.
 */
export function decodeMentions(
  body: string,
  nameOf: (id: string) => string | undefined,
): { text: string; mentions: Mentioned[] } {
  const mentions = new Map<string, Mentioned>()
  const text = body.replace(TOKEN, (_match, id: string) => {
    const name = nameOf(id) ?? 'unknown'
    mentions.set(id, { id, name })
    return `@${name}`
  })
  return { text, mentions: [...mentions.values()] }
}

/** The body as plain text (a notification, or a message the hub sent without `html`). */
export function mentionsAsText(body: string, nameOf: (id: string) => string | undefined): string {
  return decodeMentions(body, nameOf).text
}

/** The ids a body mentions. */
export function mentionedIds(body: string): string[] {
  return [...new Set([...body.matchAll(TOKEN)].map((match) => match[1]!))]
}

/**
 * The mention being typed at `caret`: an `@` at the start or after a space, then up to 40
 * characters without a line break; null when the caret is not in one.
 */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret)
  const match = /(^|\s)@([^\s@]{0,40}(?: [^\s@]{0,40})?)$/u.exec(before)
  if (!match) return null
  const start = before.length - match[2]!.length - 1
  return { start, query: match[2]! }
}

/**
 * The text after picking `name` for the mention typed at `start` up to `caret`, and where
 * the caret goes (after the name and a space).
 */
export function insertMention(
  text: string,
  start: number,
  caret: number,
  name: string,
): { text: string; caret: number } {
  const inserted = `@${name} `
  const after = text.slice(caret).replace(/^ /, '')
  return { text: text.slice(0, start) + inserted + after, caret: start + inserted.length }
}

/** People whose name matches what is typed after `@`, best first (prefix, then word, then anywhere). */
export function matchPeople<T extends { name: string }>(people: readonly T[], query: string, limit = 8): T[] {
  const q = query.trim().toLocaleLowerCase()
  const rank = (person: T) => {
    const name = person.name.toLocaleLowerCase()
    if (!q) return 0
    if (name.startsWith(q)) return 0
    if (name.split(/\s+/).some((word) => word.startsWith(q))) return 1
    return name.includes(q) ? 2 : -1
  }
  return people
    .map((person) => ({ person, rank: rank(person) }))
    .filter((entry) => entry.rank >= 0)
    .sort((a, b) => a.rank - b.rank || a.person.name.localeCompare(b.person.name))
    .slice(0, limit)
    .map((entry) => entry.person)
}
