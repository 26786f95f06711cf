import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import * as Type from '@sinclair/typebox';
import { defineLinesEndpoint } from './api.js';
import { ApiClient } from './client.js';
import { daemonEndpoints } from './daemon.js';

/** A server on a Unix socket in a temporary directory, closed after the test. */
async function unixServer(t: TestContext, handler: RequestListener): Promise<{ socketPath: string; server: Server }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cp-client-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'daemon.sock');
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { socketPath, server };
}

test('a kept-alive socket the server closed while idle is not an error: the call goes out again on a new one', async (t) => {
  // The server drops each socket a moment after answering, without saying so, as a server that closes idle sockets does.
  const { socketPath, server } = await unixServer(t, (req, res) => {
    res.on('finish', () => setTimeout(() => req.socket.destroy(), 2));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  server.keepAliveTimeout = 0;
  const client = new ApiClient({ socketPath });
  let failures = 0;
  for (let i = 0; i < 300; i++) {
    await client.call(daemonEndpoints.health).catch(() => failures++);
    await new Promise((resolve) => setTimeout(resolve, i % 4));
  }
  assert.equal(failures, 0);
});

test('JSON lines come in whole lines however the bytes were cut on the way', async (t) => {
  const lines = defineLinesEndpoint({ url: '/lines', summary: 'Lines', tags: ['test'], line: Type.Object({ n: Type.Number() }) });
  const text = Array.from({ length: 40 }, (_, n) => `{"n":${n},"pad":"${'x'.repeat(n * 7)}"}\n`).join('');
  // Cut where a line ends, inside a line, twice inside one line, and a piece with no line end at all.
  const cuts = [0, 1, text.indexOf('\n') + 1, 40, 45, 52, 300, 301, 302, 1500, 3000, text.length];
  const { socketPath } = await unixServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const send = (i: number): void => {
      if (i === cuts.length - 1) return void res.end();
      res.write(text.slice(cuts[i], cuts[i + 1]));
      setTimeout(() => send(i + 1), 5); // apart, so that each piece reaches the client on its own
    };
    send(0);
  });
  const received: Buffer[] = [];
  for await (const chunk of new ApiClient({ socketPath }).lines(lines)) received.push(chunk);
  assert.ok(received.length > 3, `the pieces arrived apart (${received.length} chunks)`);
  for (const chunk of received) assert.equal(chunk.at(-1), 0x0a, `a chunk ends a line: ${JSON.stringify(chunk.toString())}`);
  assert.equal(Buffer.concat(received).toString(), text);
});
