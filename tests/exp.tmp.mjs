import { eventEndpoints, sessionEndpoints } from '@codepiper/sdk';
import { TestDaemon } from './dist/harness.js';
const d = await TestDaemon.start();
try {
  const socket = await d.client.openSocket(eventEndpoints.stream, { query: { type: 'session.exited' } }, (data) => console.log('EV', data.toString().slice(0, 200)));
  const s = await d.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: '/tmp', args: ['sh', '-c', 'read go; exit 3'] } });
  const t = Date.now();
  await d.client.call(sessionEndpoints.input, { params: { id: s.id }, body: { text: 'go' } });
  await new Promise((r) => setTimeout(r, 1500));
  console.log((await d.client.call(sessionEndpoints.show, { params: { id: s.id } })).status, (await d.client.call(sessionEndpoints.show, { params: { id: s.id } })).endedAt, new Date(t).toISOString());
  socket.close();
} finally { await d.dispose(); }
