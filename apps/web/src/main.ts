import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router';
import { useTheme } from './composables/useTheme';
import './styles.css';

// Apply the remembered theme before the first paint (no inline script: CSP).
useTheme();

// Mounted once the first route is resolved, so the stream opens with the view that page wants.
const app = createApp(App).use(router);
void router.isReady().then(() => app.mount('#app'));
