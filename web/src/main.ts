import './styles/fonts.css'
import './styles/tokens.css'
import './styles/base.css'
import './styles/table.css'
import { createApp } from 'vue'
import App from './App.vue'
import { createAppRouter } from './router'
import { useTheme } from './composables/useTheme'
import { appAuth, authKey } from './auth/store'

// Apply the theme before the first render so the page does not flash.
useTheme()

const auth = appAuth()
// Restore a session from the HttpOnly refresh cookie, if the browser kept one; the first
// navigation waits for this.
void auth.start()

const router = createAppRouter(undefined, auth)
const app = createApp(App).provide(authKey, auth).use(router)
await router.isReady()
app.mount('#app')
