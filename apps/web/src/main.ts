import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router';
import { useTheme } from './composables/useTheme';
import './styles.css';

// Apply the remembered theme before the first paint (no inline script: CSP).
useTheme();

createApp(App).use(router).mount('#app');
