import { describe, expect, it } from 'vitest'
import {
  decodeMentions,
  encodeMentions,
  insertMention,
  matchPeople,
  mentionedIds,
  mentionQuery,
  mentionsAsText,
} from './mentions'

const ana = { id: 'u-ana', name: 'Ana' }
const anaMaria = { id: 'u-am', name: 'Ana Maria' }
const bruno = { id: 'u-bruno', name: 'Bruno Reis' }
const names: Record<string, string> = { 'u-ana': 'Ana', 'u-am': 'Ana Maria', 'u-bruno': 'Bruno Reis' }
const nameOf = (id: string) => names[id]

describe('encodeMentions', () => {
  it('turns each picked @Name into <@id>, longest names first', () => {
    expect(encodeMentions('hi @Ana and @Ana Maria, see @Bruno Reis.', [ana, anaMaria, bruno])).toBe(
      'hi <@u-ana> and <@u-am>, see <@u-bruno>.',
    )
  })

  it('leaves names nobody picked, part words and @room as text', () => {
    expect(encodeMentions('@Ana hi @Bruno Reis', [ana])).toBe('<@u-ana> hi @Bruno Reis')
    expect(encodeMentions('@Anabel and me@Ana', [ana])).toBe('@Anabel and me@Ana')
    expect(encodeMentions('@room look', [ana])).toBe('@room look')
    expect(encodeMentions('plain', [])).toBe('plain')
  })

  it('escapes names with special characters', () => {
    const odd = { id: 'u-odd', name: 'J. (Dev)+' }
    expect(encodeMentions('ask @J. (Dev)+ now', [odd])).toBe('ask <@u-odd> now')
  })
})

describe('decodeMentions', () => {
  it('shows <@id> as @Name and gives the people back as picked', () => {
    const decoded = decodeMentions('hi <@u-ana> and <@u-bruno> and <@u-ana>', nameOf)
    expect(decoded.text).toBe('hi @Ana and @Bruno Reis and @Ana')
    expect(decoded.mentions).toEqual([ana, { id: 'u-bruno', name: 'Bruno Reis' }])
  })

  it('round-trips with encodeMentions', () => {
    const body = 'ping <@u-am>, <@u-bruno>: @room'
    const decoded = decodeMentions(body, nameOf)
    expect(encodeMentions(decoded.text, decoded.mentions)).toBe(body)
  })

  it('names people the directory does not know "unknown"', () => {
    expect(mentionsAsText('hi <@u-gone>', nameOf)).toBe('hi @unknown')
    expect(mentionedIds('<@a> <@b> <@a>')).toEqual(['a', 'b'])
  })
})

describe('mentionQuery and insertMention', () => {
  it('finds the mention being typed at the caret', () => {
    expect(mentionQuery('hello @an', 9)).toEqual({ start: 6, query: 'an' })
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' })
    expect(mentionQuery('hi @Ana Ma', 10)).toEqual({ start: 3, query: 'Ana Ma' })
    expect(mentionQuery('mail me@x', 9)).toBeNull()
    expect(mentionQuery('hello', 5)).toBeNull()
    expect(mentionQuery('@Ana Maria and', 14)).toBeNull()
  })

  it('replaces the typed query with the picked name and a space', () => {
    expect(insertMention('hi @an there', 3, 6, 'Ana Maria')).toEqual({ text: 'hi @Ana Maria there', caret: 14 })
    expect(insertMention('@b', 0, 2, 'Bruno Reis')).toEqual({ text: '@Bruno Reis ', caret: 12 })
  })

  it('ranks people by prefix, then word, then anywhere', () => {
    const people = [{ name: 'Zara Ana' }, { name: 'Ana' }, { name: 'Joana' }, { name: 'Bruno' }]
    expect(matchPeople(people, 'ana').map((p) => p.name)).toEqual(['Ana', 'Zara Ana', 'Joana'])
    expect(matchPeople(people, '').length).toBe(4)
  })
})
