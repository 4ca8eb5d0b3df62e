import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTheme, STORAGE_KEY } from './useTheme'

/** Stubs the OS preference; returns a function that flips it and notifies listeners. */
function stubSystemDark(initial: boolean) {
  const listeners: ((event: MediaQueryListEvent) => void)[] = []
  const media = {
    matches: initial,
    addEventListener: (_: string, listener: (event: MediaQueryListEvent) => void) =>
      listeners.push(listener),
  }
  vi.spyOn(window, 'matchMedia').mockReturnValue(media as unknown as MediaQueryList)
  return (matches: boolean) => {
    for (const listener of listeners) listener({ matches } as MediaQueryListEvent)
  }
}

function isDark() {
  return document.body.classList.contains('dark')
}

function colorScheme() {
  return document.documentElement.style.colorScheme
}

beforeEach(() => {
  localStorage.clear()
  document.body.className = ''
  document.documentElement.removeAttribute('style')
  history.replaceState(null, '', '/')
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('createTheme', () => {
  it('defaults to auto and follows the OS while on auto', () => {
    const setSystemDark = stubSystemDark(false)
    const theme = createTheme(window)

    expect(theme.preference.value).toBe('auto')
    expect(theme.theme.value).toBe('light')
    expect(isDark()).toBe(false)
    expect(colorScheme()).toBe('light')

    setSystemDark(true)
    expect(theme.theme.value).toBe('dark')
    expect(isDark()).toBe(true)
    expect(colorScheme()).toBe('dark')
  })

  it('reads a stored preference and ignores an invalid one', () => {
    stubSystemDark(false)
    localStorage.setItem(STORAGE_KEY, 'dark')
    expect(createTheme(window).theme.value).toBe('dark')
    expect(isDark()).toBe(true)

    localStorage.setItem(STORAGE_KEY, 'purple')
    expect(createTheme(window).preference.value).toBe('auto')
  })

  it('an explicit light or dark preference wins over the OS', () => {
    const setSystemDark = stubSystemDark(true)
    const theme = createTheme(window)

    theme.setPreference('light')
    expect(isDark()).toBe(false)
    setSystemDark(true)
    expect(theme.theme.value).toBe('light')
    expect(localStorage.getItem(STORAGE_KEY)).toBe('light')
  })

  it('cycles auto → light → dark → auto and stores each step', () => {
    stubSystemDark(false)
    const theme = createTheme(window)
    const seen = []
    for (let i = 0; i < 3; i++) {
      theme.cyclePreference()
      seen.push([theme.preference.value, localStorage.getItem(STORAGE_KEY), isDark()])
    }
    expect(seen).toEqual([
      ['light', 'light', false],
      ['dark', 'dark', true],
      ['auto', 'auto', false],
    ])
  })

  it('?theme= forces the theme without touching the stored preference', () => {
    stubSystemDark(false)
    localStorage.setItem(STORAGE_KEY, 'light')
    history.replaceState(null, '', '/kanban?theme=dark')

    const theme = createTheme(window)
    expect(theme.theme.value).toBe('dark')
    expect(isDark()).toBe(true)
    expect(colorScheme()).toBe('dark')
    expect(localStorage.getItem(STORAGE_KEY)).toBe('light')
  })

  it('ignores an unknown ?theme= value', () => {
    stubSystemDark(false)
    localStorage.setItem(STORAGE_KEY, 'dark')
    history.replaceState(null, '', '/?theme=sepia')
    expect(createTheme(window).theme.value).toBe('dark')
  })

  it('works when storage is blocked', () => {
    stubSystemDark(true)
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError')
    })
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError')
    })

    const theme = createTheme(window)
    expect(theme.theme.value).toBe('dark')
    theme.setPreference('light')
    expect(isDark()).toBe(false)
  })
})
