import './styles/fonts.css'
import './styles/tokens.css'
import './styles/base.css'
import './styles/table.css'
import { createApp } from 'vue'
import { createWebHistory } from 'vue-router'
import App from './App.vue'
import { createAppRouter } from './router'
import { useTheme } from './composables/useTheme'
import { appAuth, authKey } from './auth/store'
import { appBridge } from './embed/appBridge'

// Apply the theme before the first render so the page does not flash.
useTheme()

const auth = appAuth()
// With no argument the history takes its base from <base href> (the hub writes one).
const history = createWebHistory()
const router = createAppRouter(history, auth)

if (router.resolve(history.location).meta.embedded) {
  // Framed in Chatwoot: the session comes from the page around this one. Listen before the
  // first await, so Chatwoot's first message (sent on the frame's load) is not missed.
  void auth.startWithoutRestore()
  appBridge(auth).start()
} else {
  // Restore a session from the HttpOnly refresh cookie, if the browser kept one; the first
  // navigation waits for this.
  void auth.start()
}

const app = createApp(App).provide(authKey, auth).use(router)
await router.isReady()
app.mount('#app')
