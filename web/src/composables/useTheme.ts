import { computed, readonly, ref, watchEffect } from 'vue'

/** What the user chose; `auto` follows the operating system. */
export type ColorScheme = 'auto' | 'light' | 'dark'
/** What is shown. */
export type Theme = 'light' | 'dark'

/** The localStorage key Chatwoot uses for the same preference. */
export const STORAGE_KEY = 'color_scheme'

const SCHEMES: readonly ColorScheme[] = ['auto', 'light', 'dark']

function isScheme(value: unknown): value is ColorScheme {
  return SCHEMES.includes(value as ColorScheme)
}

// Storage can be blocked (e.g. a third-party iframe); the theme still works without it.
function readStored(win: Window): ColorScheme | null {
  try {
    const value = win.localStorage.getItem(STORAGE_KEY)
    return isScheme(value) ? value : null
  } catch {
    return null
  }
}

function store(win: Window, scheme: ColorScheme) {
  try {
    win.localStorage.setItem(STORAGE_KEY, scheme)
  } catch {
    // Not persisted; the choice still holds for this page.
  }
}

/** `?theme=dark|light` forces a theme for this page load without saving it. */
function readOverride(win: Window): Theme | null {
  const value = new URLSearchParams(win.location.search).get('theme')
  return value === 'light' || value === 'dark' ? value : null
}

/**
 * Theme state for one window: puts the `dark` class on <body> and `color-scheme` on
 * <html>, and keeps both in step with the preference and the OS setting.
 */
export function createTheme(win: Window) {
  const preference = ref<ColorScheme>(readOverride(win) ?? readStored(win) ?? 'auto')
  const media = win.matchMedia('(prefers-color-scheme: dark)')
  const systemDark = ref(media.matches)
  media.addEventListener('change', (event) => {
    systemDark.value = event.matches
  })

  const theme = computed<Theme>(() => {
    if (preference.value !== 'auto') return preference.value
    return systemDark.value ? 'dark' : 'light'
  })

  watchEffect(
    () => {
      win.document.body.classList.toggle('dark', theme.value === 'dark')
      win.document.documentElement.style.colorScheme = theme.value
    },
    { flush: 'sync' },
  )

  function setPreference(scheme: ColorScheme) {
    preference.value = scheme
    store(win, scheme)
  }

  /** Shows `theme` for this page without saving it: a framing Chatwoot page decides. */
  function follow(theme: Theme) {
    preference.value = theme
  }

  /** auto → light → dark → auto */
  function cyclePreference() {
    setPreference(SCHEMES[(SCHEMES.indexOf(preference.value) + 1) % SCHEMES.length])
  }

  return { preference: readonly(preference), theme, setPreference, cyclePreference, follow }
}

let shared: ReturnType<typeof createTheme> | undefined

/** The app-wide theme state; the first call applies the theme to the document. */
export function useTheme() {
  shared ??= createTheme(window)
  return shared
}
