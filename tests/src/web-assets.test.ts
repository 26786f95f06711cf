import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { TestDaemon } from './harness.js';
import { startWebDaemon } from './web-client.js';

/** What a phone may download before the first screen: the entry script and what it imports, compressed. */
const ENTRY_BUDGET_BYTES = 150 * 1024;

interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as sent, before any decoding. */
  wire: Buffer;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, wire: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const decoded = (fetched: Fetched): Buffer => {
  const encoding = fetched.headers['content-encoding'];
  return encoding === 'br' ? brotliDecompressSync(fetched.wire) : encoding === 'gzip' ? gunzipSync(fetched.wire) : fetched.wire;
};

/** The scripts a module imports statically (`import … from "./x.js"`, `import "./x.js"`), not those it loads when needed (`import("./x.js")`). */
const staticImports = (source: string): string[] => [...source.matchAll(/(?:from|import)\s*"\.\/([^"]+\.js)"/g)].map((match) => match[1]!);

describe('the dashboard’s files, as a phone on a slow network gets them', () => {
  let daemon: TestDaemon;
  let url: string;
  let entry: string;

  before(async () => {
    ({ daemon, url } = await startWebDaemon(''));
    const index = await get(`${url}/`);
    entry = /<script type="module" crossorigin src="\/(assets\/[^"]+\.js)"/.exec(decoded(index).toString())?.[1] ?? '';
    assert.ok(entry, 'index.html names its entry script');
  });
  after(() => daemon.dispose());

  test('hashed files are sent compressed as the browser accepts, and kept for a year; the page itself is checked each time', async () => {
    const plain = await get(`${url}/${entry}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined, 'no encoding for a client that accepts none');
    for (const [accepts, expected] of [
      ['br, gzip', 'br'],
      ['gzip, deflate', 'gzip'],
    ]) {
      const compressed = await get(`${url}/${entry}`, { 'accept-encoding': accepts! });
      assert.equal(compressed.headers['content-encoding'], expected, accepts);
      assert.match(String(compressed.headers['content-type']), /javascript/);
      assert.match(String(compressed.headers.vary), /accept-encoding/i);
      assert.ok(compressed.wire.length < plain.wire.length / 2, `${expected}: ${compressed.wire.length} bytes of ${plain.wire.length}`);
      assert.deepEqual(decoded(compressed), plain.wire, `${expected} decodes to the file`);
      assert.equal(compressed.headers['cache-control'], 'public, max-age=31536000, immutable');
    }
    const page = await get(`${url}/`, { 'accept-encoding': 'br, gzip' });
    assert.equal(page.headers['cache-control'], 'no-cache');
    // Asked again as a browser does, with the encodings it accepts (another encoding is another representation, with its own tag).
    const again = await get(`${url}/`, { 'accept-encoding': 'br, gzip', 'if-none-match': String(page.headers.etag) });
    assert.equal(again.status, 304, 'an unchanged page is not sent again');
    const identity = await get(`${url}/`);
    assert.equal((await get(`${url}/`, { 'if-none-match': String(identity.headers.etag) })).status, 304, 'nor its uncompressed form');
    for (const file of ['/manifest.webmanifest', '/sw.js']) assert.equal((await get(url + file)).headers['cache-control'], 'no-cache', file);
  });

  test('the entry script and what it imports are under 150 KB on the wire, without the terminal', async () => {
    const seen = new Set<string>();
    let wireBytes = 0;
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const fetched = await get(`${url}/${file}`, { 'accept-encoding': 'br, gzip' });
      assert.equal(fetched.status, 200, file);
      wireBytes += fetched.wire.length;
      const source = decoded(fetched).toString();
      assert.doesNotMatch(source, /xterm-helper-textarea/, `${file} carries the terminal, which only a session's page needs`);
      for (const imported of staticImports(source)) await visit(`assets/${imported}`);
    };
    await visit(entry);
    assert.ok(wireBytes < ENTRY_BUDGET_BYTES, `${wireBytes} bytes in ${[...seen].join(', ')}`);
    assert.ok(seen.size > 1 || wireBytes > 10_000, 'the walk found the app');
  });
});
