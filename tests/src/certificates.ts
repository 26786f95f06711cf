import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** A self-signed certificate for 127.0.0.1 made by openssl in `dir`: the paths of its PEM files. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, `openssl made a certificate: ${made.stderr}`);
  return { cert, key };
}
