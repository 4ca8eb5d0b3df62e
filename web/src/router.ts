import {
  createRouter,
  createWebHistory,
  type RouteLocationRaw,
  type RouteRecordRaw,
  type RouterHistory,
} from 'vue-router'
import KanbanPage from './pages/KanbanPage.vue'
import ChatPage from './pages/ChatPage.vue'
import SettingsPage from './pages/SettingsPage.vue'
import ProfileSettingsPage from './pages/settings/ProfileSettingsPage.vue'
import SessionsSettingsPage from './pages/settings/SessionsSettingsPage.vue'
import ApiKeysSettingsPage from './pages/settings/ApiKeysSettingsPage.vue'
import ChatwootSettingsPage from './pages/settings/ChatwootSettingsPage.vue'
import BillingSettingsPage from './pages/settings/BillingSettingsPage.vue'
import PlansSettingsPage from './pages/settings/PlansSettingsPage.vue'
import WhatsAppSettingsPage from './pages/settings/WhatsAppSettingsPage.vue'
import ChatSettingsPage from './pages/settings/ChatSettingsPage.vue'
import NotAvailablePage from './pages/NotAvailablePage.vue'
import SignInPage from './pages/SignInPage.vue'
import NotFoundPage from './pages/NotFoundPage.vue'
import EmbeddedLayout from './pages/embedded/EmbeddedLayout.vue'
import ConversationAppPage from './pages/embedded/ConversationAppPage.vue'
import { appAuth, type Auth } from './auth/store'
import { accountStatusFor } from './billing/accountStatus'
import type { FeatureName } from './api/billing'
import { safeRedirect } from './utils/redirect'

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown in the header and the document title. */
    title?: string
    /** A settings section's name, shown in the document title before `title`. */
    section?: string
    /** Reachable without a session. */
    public?: boolean
    /** Rendered without the sidebar and header. */
    bare?: boolean
    /** Only for account admins; others are sent to the profile settings. */
    adminOnly?: boolean
    /** Only for supervisors and admins; agents are sent to the profile settings. */
    supervisorOnly?: boolean
    /** Only for super admins (operators); others are sent to the profile settings. */
    superAdminOnly?: boolean
    /**
     * The plan must include this feature; without it the page is "not available on your
     * plan" (the sidebar hides its entry).
     */
    feature?: FeatureName
    /**
     * Framed inside Chatwoot (docs/embedding.md): the session comes from the framing page,
     * so the page never goes to /sign-in and shows a connecting state instead.
     */
    embedded?: boolean
    /** An embedded page that renders without a hub session (it shows Chatwoot's data). */
    sessionOptional?: boolean
    /** The page fills the content area edge to edge and scrolls its own panes (the chat). */
    flush?: boolean
  }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/sign-in',
    name: 'sign-in',
    component: SignInPage,
    meta: { title: 'Sign in', public: true, bare: true },
  },
  { path: '/', redirect: '/kanban' },
  {
    path: '/kanban',
    name: 'kanban',
    component: KanbanPage,
    meta: { title: 'Kanban', feature: 'kanban_enabled' },
  },
  {
    path: '/chat',
    name: 'chat',
    component: ChatPage,
    meta: { title: 'Team chat', feature: 'internal_chat_enabled', flush: true },
  },
  {
    path: '/not-available',
    name: 'not-available',
    component: NotAvailablePage,
    meta: { title: 'Not available' },
  },
  {
    path: '/settings',
    component: SettingsPage,
    meta: { title: 'Settings' },
    children: [
      { path: '', name: 'settings', redirect: { name: 'settings-profile' } },
      {
        path: 'profile',
        name: 'settings-profile',
        component: ProfileSettingsPage,
        meta: { section: 'Profile' },
      },
      {
        path: 'sessions',
        name: 'settings-sessions',
        component: SessionsSettingsPage,
        meta: { section: 'Sessions' },
      },
      {
        path: 'whatsapp',
        name: 'settings-whatsapp',
        component: WhatsAppSettingsPage,
        meta: { section: 'WhatsApp' },
      },
      {
        path: 'api-keys',
        name: 'settings-api-keys',
        component: ApiKeysSettingsPage,
        meta: { section: 'API keys', adminOnly: true },
      },
      {
        path: 'chatwoot',
        name: 'settings-chatwoot',
        component: ChatwootSettingsPage,
        meta: { section: 'Chatwoot', adminOnly: true },
      },
      {
        path: 'chat',
        name: 'settings-chat',
        component: ChatSettingsPage,
        meta: { section: 'Team chat', adminOnly: true, feature: 'internal_chat_enabled' },
      },
      {
        path: 'billing',
        name: 'settings-billing',
        component: BillingSettingsPage,
        meta: { section: 'Billing', supervisorOnly: true },
      },
      {
        path: 'plans',
        name: 'settings-plans',
        component: PlansSettingsPage,
        meta: { section: 'Plans', superAdminOnly: true },
      },
    ],
  },
  {
    path: '/embedded',
    component: EmbeddedLayout,
    meta: { embedded: true, bare: true },
    children: [
      { path: '', redirect: { name: 'embedded-kanban' } },
      {
        path: 'kanban',
        name: 'embedded-kanban',
        component: KanbanPage,
        meta: { title: 'Kanban', feature: 'kanban_enabled' },
      },
      {
        path: 'chat',
        name: 'embedded-chat',
        component: ChatPage,
        meta: { title: 'Team chat', feature: 'internal_chat_enabled', flush: true },
      },
      {
        path: 'conversation',
        name: 'embedded-conversation',
        component: ConversationAppPage,
        meta: { title: 'Conversation', sessionOptional: true },
      },
    ],
  },
  { path: '/:path(.*)*', name: 'not-found', component: NotFoundPage, meta: { title: 'Not found' } },
]

export function createAppRouter(
  history: RouterHistory = createWebHistory(),
  auth: Auth = appAuth(),
) {
  const router = createRouter({ history, routes })
  const status = accountStatusFor(auth)

  router.beforeEach(async (to): Promise<boolean | RouteLocationRaw> => {
    await auth.start()
    // Framed pages wait for Chatwoot's token where they are (EmbeddedLayout).
    if (to.meta.embedded) return true
    const signedIn = auth.isSignedIn.value
    if (to.meta.public) {
      if (to.name === 'sign-in' && signedIn) return safeRedirect(to.query.redirect) ?? '/'
      return true
    }
    if (!signedIn) {
      const keep = to.fullPath !== '/' && to.fullPath !== '/kanban'
      return { name: 'sign-in', query: keep ? { redirect: to.fullPath } : {} }
    }
    if (to.meta.adminOnly && !auth.isAdmin.value) return { name: 'settings-profile' }
    if (to.meta.supervisorOnly && !auth.canSupervise.value) return { name: 'settings-profile' }
    if (to.meta.superAdminOnly && !auth.isSuperAdmin.value) return { name: 'settings-profile' }
    // The plan's features, read once per account (so the sidebar shows the right entries
    // from the first paint); unknown features count as on (the hub still refuses).
    await status.ensureFeatures()
    if (to.meta.feature) {
      if (!status.hasFeature(to.meta.feature)) {
        // The start page (/ and after sign-in) is the first section the plan includes.
        if (to.redirectedFrom?.path === '/') {
          return status.hasFeature('internal_chat_enabled') ? { name: 'chat' } : { name: 'settings' }
        }
        return { name: 'not-available', query: { feature: to.meta.feature } }
      }
    }
    return true
  })

  router.afterEach((to) => {
    const parts = [to.meta.section, to.meta.title, 'Whatpro Hub'].filter(Boolean)
    document.title = parts.join(' · ')
  })

  // A session that ends (signed out, ended elsewhere, expired) leaves the protected pages.
  auth.onSignedOut((reason) => {
    const current = router.currentRoute.value
    if (current.meta.public || current.meta.embedded) return
    const keep = reason !== 'signed_out' && current.fullPath !== '/kanban'
    void router.push({ name: 'sign-in', query: keep ? { redirect: current.fullPath } : {} })
  })

  return router
}
