import './styles/fonts.css'
import './styles/tokens.css'
import './styles/base.css'
import { createApp } from 'vue'
import App from './App.vue'
import { createAppRouter } from './router'
import { useTheme } from './composables/useTheme'

// Apply the theme before the first render so the page does not flash.
useTheme()

const router = createAppRouter()
const app = createApp(App).use(router)
await router.isReady()
app.mount('#app')
