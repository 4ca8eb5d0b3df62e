import { createRouter, createWebHistory, type RouteRecordRaw, type RouterHistory } from 'vue-router'
import KanbanPage from './pages/KanbanPage.vue'
import ChatPage from './pages/ChatPage.vue'
import SettingsPage from './pages/SettingsPage.vue'
import NotFoundPage from './pages/NotFoundPage.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown in the header and the document title. */
    title?: string
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/kanban' },
  { path: '/kanban', name: 'kanban', component: KanbanPage, meta: { title: 'Kanban' } },
  { path: '/chat', name: 'chat', component: ChatPage, meta: { title: 'Team chat' } },
  { path: '/settings', name: 'settings', component: SettingsPage, meta: { title: 'Settings' } },
  { path: '/:path(.*)*', name: 'not-found', component: NotFoundPage, meta: { title: 'Not found' } },
]

export function createAppRouter(history: RouterHistory = createWebHistory()) {
  const router = createRouter({ history, routes })
  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · Whatpro Hub` : 'Whatpro Hub'
  })
  return router
}
