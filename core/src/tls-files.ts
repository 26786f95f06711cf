import fs from 'node:fs';
import tls from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import { messageOf, StartRefused } from './errors.js';

/** How often the files are looked at: a stat of each; they are read only when one changed. */
const CHECK_EVERY_MS = 5000;

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/**
 * The TCP listener's certificate and key, as files: read at start, and again
 * when either changes, so that a renewal (certbot or acme.sh, every 60-90
 * days) is served from the next connection on, with no restart. A changed
 * pair that does not work (a key that is not the certificate's, a file half
 * written) is logged, and the listener keeps serving the one it has.
 */
export class TlsFiles {
  private pair: TlsPair;

  constructor(
    readonly certFile: string,
    readonly keyFile: string,
  ) {
    this.pair = { cert: readAtStart(certFile, 'certificate'), key: readAtStart(keyFile, 'key') };
  }

  get current(): TlsPair {
    return this.pair;
  }

  /** Calls `use` with each new pair that works; returns what stops watching. */
  watch(use: (pair: TlsPair) => void, log: FastifyBaseLogger): () => void {
    const files = { cert: this.certFile, key: this.keyFile };
    const check = (): void => {
      let next: TlsPair;
      try {
        next = { cert: fs.readFileSync(this.certFile), key: fs.readFileSync(this.keyFile) };
        tls.createSecureContext(next);
      } catch (error) {
        log.warn({ err: error, ...files }, 'the TLS certificate or key changed and cannot be used (yet); the listener keeps serving the one it has');
        return;
      }
      if (next.cert.equals(this.pair.cert) && next.key.equals(this.pair.key)) return;
      this.pair = next;
      use(next);
      log.info(files, 'the TLS certificate or key changed: new connections get the new one');
    };
    for (const file of [this.certFile, this.keyFile]) fs.watchFile(file, { interval: CHECK_EVERY_MS, persistent: false }, check);
    return () => {
      for (const file of [this.certFile, this.keyFile]) fs.unwatchFile(file, check);
    };
  }
}

function readAtStart(file: string, what: 'certificate' | 'key'): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new StartRefused(`cannot read the TLS ${what} ${file}: ${messageOf(error)}; check --tls-cert and --tls-key (or web.tls in config.yaml)`, { cause: error });
  }
}
