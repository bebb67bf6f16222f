import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import OverviewPage from './pages/OverviewPage.vue';
import ConnectionsPage from './pages/ConnectionsPage.vue';
import ProcessesPage from './pages/ProcessesPage.vue';
import ProcessDetailPage from './pages/ProcessDetailPage.vue';
import ListeningPage from './pages/ListeningPage.vue';
import RemotePage from './pages/RemotePage.vue';
import RoutesPage from './pages/RoutesPage.vue';
import InterfacesPage from './pages/InterfacesPage.vue';
import StatsPage from './pages/StatsPage.vue';
import DiagnosticsPage from './pages/DiagnosticsPage.vue';
import NotFoundPage from './pages/NotFoundPage.vue';
import AlertsPage from './pages/AlertsPage.vue';
import WallPage from './pages/WallPage.vue';
import { setStreamView } from './composables/useStream';

declare module 'vue-router' {
  interface RouteMeta {
    /**
     * `summary`: the page shows no socket list, so it takes /ws?view=summary (counts, no sockets):
     * at 100k sockets a full first snapshot is ~38 MB of JSON the page would parse and hold.
     * Every page here takes it now (tables come from the agent's API); `full` stays for a page
     * that must have every socket. Default summary.
     */
    streamView?: 'full' | 'summary';
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'overview', component: OverviewPage, meta: { title: 'Overview', streamView: 'summary' } },
  { path: '/connections', name: 'connections', component: ConnectionsPage, meta: { title: 'Connections', streamView: 'summary' } },
  { path: '/processes', name: 'processes', component: ProcessesPage, meta: { title: 'Processes', streamView: 'summary' } },
  { path: '/processes/:pid', name: 'process', component: ProcessDetailPage, meta: { title: 'Process', streamView: 'summary' } },
  { path: '/listening', name: 'listening', component: ListeningPage, meta: { title: 'Listening', streamView: 'summary' } },
  { path: '/remote', name: 'remote', component: RemotePage, meta: { title: 'Remote addresses', streamView: 'summary' } },
  { path: '/routes', name: 'routes', component: RoutesPage, meta: { title: 'Routes', streamView: 'summary' } },
  { path: '/interfaces', name: 'interfaces', component: InterfacesPage, meta: { title: 'Interfaces', streamView: 'summary' } },
  { path: '/stats', name: 'stats', component: StatsPage, meta: { title: 'Statistics', streamView: 'summary' } },
  { path: '/diagnostics', name: 'diagnostics', component: DiagnosticsPage, meta: { title: 'Diagnostics', streamView: 'summary' } },
  { path: '/alerts', name: 'alerts', component: AlertsPage, meta: { title: 'Alerts', streamView: 'summary' } },
  // The NOC screen: App.vue renders a `bare` route without the navigation and status chrome.
  { path: '/wall', name: 'wall', component: WallPage, meta: { title: 'Wall', bare: true, streamView: 'summary' } },
  { path: '/:rest(.*)*', name: 'not-found', component: NotFoundPage, meta: { title: 'Not found' } },
];

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
});

// Before the page mounts: the first connection asks for the right view; a switch reconnects.
router.beforeEach((to) => {
  setStreamView(to.meta.streamView ?? 'summary');
});

router.afterEach((to) => {
  const title = typeof to.meta.title === 'string' ? to.meta.title : '';
  document.title = title ? `${title} · netscope` : 'netscope';
});
