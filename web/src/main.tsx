import { render } from 'solid-js/web';
import { App } from './App.jsx';
import './styles.css';

render(() => <App />, document.getElementById('root') as HTMLElement);

if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register('/sw.js').catch((error: unknown) => console.warn('service worker not registered', error));
}
