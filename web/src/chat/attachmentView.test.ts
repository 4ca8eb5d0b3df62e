import { describe, expect, it } from 'vitest'
import { linkExpired, linkExpiry, previewSize } from './attachmentView'

describe('attachment view', () => {
  it('reserves an image preview box from its size, never scaled up', () => {
    expect(previewSize(640, 480)).toEqual({ width: 320, height: 240 })
    expect(previewSize(480, 1600)).toEqual({ width: 72, height: 240 })
    expect(previewSize(100, 50)).toEqual({ width: 100, height: 50 })
    expect(previewSize(10_000, 10)).toEqual({ width: 320, height: 1 })
    expect(previewSize(null, null)).toEqual({ width: 240, height: 160 })
  })

  it('reads when a signed link expires', () => {
    const url = 'https://hub.test/api/v1/chat/files/a?expires=1900000000&signature=abc'
    expect(linkExpiry(url)).toBe(1_900_000_000_000)
    expect(linkExpired(url, 1_899_999_000_000)).toBe(false)
    expect(linkExpired(url, 1_899_999_990_000)).toBe(true)
    expect(linkExpired(url, 1_900_000_100_000)).toBe(true)
    expect(linkExpiry('/files/a')).toBeNull()
    expect(linkExpired('/files/a?expires=soon', 0)).toBe(false)
  })
})
