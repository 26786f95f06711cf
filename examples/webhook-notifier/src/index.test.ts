import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { startTestDaemon, waitFor } from '@codepiper/sdk/testing';
import { deliveriesEndpoint, type Notification } from './index.js';

interface Received {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Notification;
}

/** A webhook on localhost that records every request and fails the very first one with 503. */
async function webhook(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const status = received.length === 0 ? 503 : 204;
      received.push({ status, headers: request.headers, body: JSON.parse(text) as Notification });
      response.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/codepiper`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const plugin = new URL('./index.js', import.meta.url);

describe('the webhook notifier, loaded from config.yaml', () => {
  let hook: Awaited<ReturnType<typeof webhook>>;
  before(async () => (hook = await webhook()));
  after(() => hook?.close());

  it('posts a session’s exit to the webhook, retrying after a failed attempt', async (t) => {
    const daemon = await startTestDaemon({ plugins: [plugin], config: { 'webhook-notifier': { url: hook.url, notify: ['exited'], backoff_ms: 20, headers: { authorization: 'Bearer s3cret' } } } });
    t.after(() => daemon.stop());
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: os.tmpdir(), name: 'deploy', args: ['sh', '-c', 'read answer; exit 3'] } });
    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });

    const delivered = await waitFor('a delivered notification', () => hook.received.find((r) => r.status === 204));
    const [first] = hook.received;
    assert.equal(first!.status, 503);
    assert.equal(first!.headers['x-codepiper-event'], delivered.headers['x-codepiper-event'], 'a retry carries the same event id');
    assert.deepEqual([first!.headers['x-codepiper-attempt'], delivered.headers['x-codepiper-attempt']], ['1', '2']);
    assert.equal(delivered.headers.authorization, 'Bearer s3cret');
    assert.equal(delivered.body.kind, 'exited');
    assert.equal(delivered.body.text, 'deploy exited with code 3');
    assert.deepEqual(delivered.body.session, { id: session.id, name: 'deploy', provider: 'shell', cwd: session.cwd });
    assert.equal(delivered.body.event.type, 'session.exited');
    assert.deepEqual(
      hook.received.map((r) => r.body.kind),
      ['exited', 'exited'],
      'only the chosen kind is posted (no status changes besides it)',
    );
    const { deliveries } = await waitFor('the delivery to be recorded', async () => {
      const listed = await daemon.client.call(deliveriesEndpoint, { query: {} });
      return listed.deliveries.length > 0 && listed;
    });
    assert.deepEqual(
      deliveries.map(({ eventId, sessionId, kind, delivered, attempts, error }) => ({ eventId, sessionId, kind, delivered, attempts, error })),
      [{ eventId: delivered.body.event.id, sessionId: session.id, kind: 'exited', delivered: true, attempts: 2, error: null }],
    );
  });

  it('gives up after its retries, logging it, and the daemon carries on', async (t) => {
    // Nothing listens on a port just closed.
    const gone = await webhook();
    await gone.close();
    const daemon = await startTestDaemon({ plugins: [plugin], config: { 'webhook-notifier': { url: gone.url, retries: 2, backoff_ms: 10 } } });
    t.after(() => daemon.stop());
    const session = await daemon.client.call(sessionEndpoints.start, { body: { provider: 'shell', cwd: os.tmpdir(), args: ['sh', '-c', 'read answer'] } });
    await daemon.client.call(sessionEndpoints.input, { params: { id: session.id }, body: { text: 'go' } });

    const gaveUp = await waitFor('the plugin to give up', () => daemon.logs().find((line) => line.plugin === 'webhook-notifier' && line.level === 50));
    assert.match(String(gaveUp.msg), /^webhook delivery gave up after 3 attempts: /);
    assert.equal(daemon.logs().filter((line) => line.plugin === 'webhook-notifier' && line.level === 40).length, 2, 'one warning per retry');
    const { deliveries } = await waitFor('the failure to be recorded', async () => {
      const listed = await daemon.client.call(deliveriesEndpoint, { query: { limit: 10 } });
      return listed.deliveries.length > 0 && listed;
    });
    assert.deepEqual([deliveries[0]!.delivered, deliveries[0]!.attempts], [false, 3]);
    assert.match(deliveries[0]!.error!, /fetch failed/);
    const status = await daemon.cli(['daemon', 'status']);
    assert.equal(status.code, 0);
  });

  it('refuses to start without a webhook URL, naming the setting', async () => {
    await assert.rejects(startTestDaemon({ plugins: [plugin] }), /config\.yaml.*: webhook-notifier\.url: missing; this setting is required/);
  });
});
