import { render } from 'solid-js/web';
import { App } from './App.jsx';
import { applyTheme } from './theme.js';
import './styles.css';

applyTheme();

render(() => <App />, document.getElementById('root') as HTMLElement);

if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register('/sw.js').catch((error: unknown) => console.warn('service worker not registered', error));
}
