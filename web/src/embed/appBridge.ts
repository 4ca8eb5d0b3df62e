/** The app-wide bridge to a framing Chatwoot page, wired to the auth store and the theme. */
import { getCurrentInstance, inject } from 'vue'
import { appAuth, type Auth } from '../auth/store'
import { useTheme } from '../composables/useTheme'
import { bridgeKey, createBridge, type Bridge } from './bridge'

let shared: Bridge | undefined

export function appBridge(auth: Auth = appAuth()): Bridge {
  if (!shared) {
    const theme = useTheme()
    const bridge = createBridge({
      exchange: (token) => auth.signInWithInstanceToken(token),
      onTheme: (value) => theme.follow(value),
    })
    // Framed, a session that cannot be refreshed is replaced by a new token from Chatwoot's
    // page, never by /sign-in.
    auth.onSignedOut(() => bridge.sessionEnded())
    shared = bridge
  }
  return shared
}

/** In components: the bridge the app provided (tests provide their own), else the app's. */
export function useBridge(): Bridge {
  const provided = getCurrentInstance() ? inject(bridgeKey, null) : null
  return provided ?? appBridge()
}
