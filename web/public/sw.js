// The dashboard's service worker: the app shell loads offline, and Web Push
// notifications show. The API is never cached: what it says must be live.
const CACHE = 'codepiper-shell-v1';
const SHELL = ['/', '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png', '/icons/icon-512.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL);
      // The built scripts and styles the shell names.
      const html = await (await cache.match('/')).text();
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      await cache.addAll(assets);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // Network first, so a new version shows at once; the cached shell when offline.
    event.respondWith(
      fetch(request)
        .then(async (response) => {
          // Only the shell itself: another page (an API URL opened in a tab) must not replace it.
          if (response.ok && url.pathname === '/') await (await caches.open(CACHE)).put('/', response.clone());
          return response;
        })
        .catch(async () => (await caches.match('/')) ?? Response.error()),
    );
  } else if (url.pathname.startsWith('/assets/') || SHELL.includes(url.pathname)) {
    event.respondWith(
      (async () => {
        const hit = await caches.match(request);
        if (hit) return hit;
        const response = await fetch(request);
        if (response.ok) await (await caches.open(CACHE)).put(request, response.clone());
        return response;
      })(),
    );
  }
});

// A question (a pending approval) comes with Approve and Deny where the platform shows notification actions.
const ACTIONS = 'Notification' in self && ('actions' in self.Notification.prototype || self.Notification.maxActions > 0);

self.addEventListener('push', (event) => {
  const message = event.data ? event.data.json() : {};
  event.waitUntil(
    (async () => {
      if (message.approval) {
        // The session's "waits for permission" notice, if it beat the question here, is the same moment.
        for (const old of await self.registration.getNotifications({ tag: `session-${message.approval.sessionId}` })) old.close();
      }
      await self.registration.showNotification(message.title || 'CodePiper', {
        body: message.body || '',
        tag: message.tag,
        icon: '/icons/icon-192.png',
        data: { url: message.url || '/', approval: message.approval },
        ...(ACTIONS && message.actions ? { actions: message.actions } : {}),
      });
    })(),
  );
});

/**
 * Answers a question from its notification: 'approve' or 'deny'. The session
 * cookie goes along (same origin); false when the daemon did not take the
 * answer (signed out, already answered, gone).
 */
async function answerApproval(approval, action) {
  const url = new URL(action === 'approve' ? approval.approveUrl : approval.denyUrl, self.location.origin);
  if (url.origin !== self.location.origin) return false;
  try {
    const response = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: '{}' });
    return response.ok;
  } catch {
    return false;
  }
}

/** Shows `url` in an open dashboard window, or in a new one. */
async function openPage(url) {
  const target = new URL(url, self.location.origin).href;
  const [open] = await self.clients.matchAll({ type: 'window' });
  if (!open) return self.clients.openWindow(target);
  const shown = (await open.navigate(target)) ?? open;
  return shown.focus();
}

/** What a click on a notification, or on one of its actions, does. */
async function notificationClicked(data, action) {
  if (data.approval && (action === 'approve' || action === 'deny') && (await answerApproval(data.approval, action))) return;
  await openPage(data.url);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(notificationClicked(event.notification.data, event.action));
});
