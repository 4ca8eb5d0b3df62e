/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The hub serves the build (dist/) at `/` under a strict CSP: no inline scripts or
// styles, so everything is an external file under /assets/. `npm run dev` proxies the
// API to a hub on its default port.
const hub = 'http://127.0.0.1:3000'

export default defineConfig({
  // Relative asset URLs: the hub writes <base href> into index.html, so a build works at
  // the root and under a path prefix alike.
  base: './',
  plugins: [vue()],
  server: { proxy: { '/api': hub, '/health': hub } },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    // Every test starts at one fixed instant, not today (src/test/clock.ts).
    setupFiles: ['src/test/setup.ts'],
  },
})
