import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ApiClient } from './client.js';
import { daemonEndpoints } from './daemon.js';

test('a kept-alive socket the server closed while idle is not an error: the call goes out again on a new one', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cp-client-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = path.join(dir, 'daemon.sock');
  // The server drops each socket a moment after answering, without saying so, as a server that closes idle sockets does.
  const server = createServer((req, res) => {
    res.on('finish', () => setTimeout(() => req.socket.destroy(), 2));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const client = new ApiClient({ socketPath });
  let failures = 0;
  for (let i = 0; i < 300; i++) {
    await client.call(daemonEndpoints.health).catch(() => failures++);
    await new Promise((resolve) => setTimeout(resolve, i % 4));
  }
  assert.equal(failures, 0);
});
