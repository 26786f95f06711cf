/**
 * A stand-in for a browser push service (FCM, Mozilla autopush, Apple) on
 * 127.0.0.1 over HTTPS with a self-signed certificate, and a browser-side
 * subscriber that decrypts what it receives (RFC 8291, aes128gcm) and reads
 * the VAPID token (RFC 8292) with node:crypto alone, independently of the
 * library the daemon sends with.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PushSubscriptionJson } from '@codepiper/notifications-contract';
import { selfSignedCertificate } from './certificates.js';

export interface PushRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class FakePushService {
  readonly received: PushRequest[] = [];
  /** What is answered per path; 201 (Created, as push services answer) otherwise. */
  readonly answers = new Map<string, { status: number; body?: string }>();

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    /** PEM of the self-signed certificate: give it to the daemon as NODE_EXTRA_CA_CERTS. */
    readonly caFile: string,
  ) {}

  static async start(): Promise<FakePushService> {
    const dir = mkdtempSync('/tmp/cpt-push-');
    const { cert, key } = selfSignedCertificate(dir);
    const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) });
    const service = new FakePushService(server, dir, cert);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        service.received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
        const answer = service.answers.get(request.url ?? '') ?? { status: 201 };
        response.writeHead(answer.status).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return service;
  }

  get origin(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  to(subscriberPath: string): PushRequest[] {
    return this.received.filter((r) => r.path === subscriberPath);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A browser's side of one push subscription: its own P-256 key pair and auth secret. */
export class Subscriber {
  private readonly ecdh = createECDH('prime256v1');
  private readonly authSecret = randomBytes(16);
  readonly subscription: PushSubscriptionJson;

  constructor(
    service: FakePushService,
    readonly path: string,
  ) {
    this.ecdh.generateKeys();
    this.subscription = { endpoint: service.origin + path, keys: { p256dh: this.ecdh.getPublicKey().toString('base64url'), auth: this.authSecret.toString('base64url') } };
  }

  /** Decrypts an aes128gcm message (one record) as the browser does, then parses its JSON. */
  decrypt(body: Buffer): unknown {
    const salt = body.subarray(0, 16);
    const idLength = body.readUInt8(20);
    const serverKey = body.subarray(21, 21 + idLength);
    const sealed = body.subarray(21 + idLength);
    const shared = this.ecdh.computeSecret(serverKey);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), this.ecdh.getPublicKey(), serverKey]);
    const ikm = Buffer.from(hkdfSync('sha256', shared, this.authSecret, keyInfo, 32));
    const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const padded = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    // The last record ends with the delimiter 0x02, then zero padding.
    const end = padded.lastIndexOf(2);
    assert.ok(end >= 0 && padded.subarray(end + 1).every((b) => b === 0), 'the record ends with the last-record delimiter and padding');
    return JSON.parse(padded.subarray(0, end).toString('utf8'));
  }
}

export interface VapidToken {
  /** The `k` parameter: the application server's public key, base64url. */
  publicKey: string;
  claims: { aud?: string; exp?: number; sub?: string };
}

/** Reads `Authorization: vapid t=JWT, k=KEY` and checks the JWT's ES256 signature against `k`. */
export function readVapid(authorization: string | string[] | undefined): VapidToken {
  const match = typeof authorization === 'string' ? /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization) : null;
  assert.ok(match, `a vapid Authorization header: ${String(authorization)}`);
  const [, token, publicKey] = match as unknown as [string, string, string];
  const [header, claims, signature] = token.split('.') as [string, string, string];
  const point = Buffer.from(publicKey, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { typ: 'JWT', alg: 'ES256' });
  assert.ok(verify('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url')), 'the JWT is signed by the key it names');
  return { publicKey, claims: JSON.parse(Buffer.from(claims, 'base64url').toString()) as VapidToken['claims'] };
}
