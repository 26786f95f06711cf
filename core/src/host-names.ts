import os from 'node:os';

type Scheme = 'http' | 'https';

/** A name the listener answers to; without a port, at any port (a reverse proxy's public one). */
interface HostName {
  hostname: string;
  port?: number;
}

const DEFAULT_PORTS: Readonly<Record<Scheme, number>> = { http: 80, https: 443 };
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `host[:port]` as a URL reads it; undefined for anything that is not just that. */
function parseHost(value: string, scheme: Scheme): URL | undefined {
  if (value === '' || /[\s/?#@\\]/.test(value)) return undefined;
  try {
    return new URL(`${scheme}://${value}`);
  } catch {
    return undefined;
  }
}

const bracketed = (address: string): string => (address.includes(':') ? `[${address}]` : address);
/** Whether a listener's host is a loopback address or name. */
export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');

/** Every address of this machine's interfaces, and its names: what a listener on all interfaces answers to. */
function machineNames(): string[] {
  const addresses = Object.values(os.networkInterfaces())
    .flatMap((entries) => entries ?? [])
    // A link-local address with a zone (fe80::1%eth0) cannot stand in a Host header.
    .filter((entry) => !entry.address.includes('%'))
    .map((entry) => bracketed(entry.address));
  return [...addresses, ...LOOPBACK_NAMES, os.hostname()];
}

/**
 * The Host names a TCP listener serves, against DNS rebinding: a page on a
 * name the attacker controls that resolves to this machine still sends its
 * own name as Host, and is refused. The listener's own address at its port
 * (on all interfaces: each address, `localhost` and the machine's name), plus
 * the configured `web.allowed_hosts`.
 */
export class HostNames {
  private readonly names: HostName[];

  constructor(listenerHost: string, port: number, allowedHosts: readonly string[]) {
    const own = WILDCARDS.has(listenerHost) ? machineNames() : [bracketed(listenerHost), ...(isLoopback(listenerHost) ? LOOPBACK_NAMES : [])];
    this.names = [...own.map((name) => ({ name, port })), ...allowedHosts.map((name) => ({ name, port: undefined }))].flatMap(({ name, port }) => {
      const url = parseHost(name, 'http');
      if (!url) return [];
      const given = url.port === '' ? port : Number(url.port);
      return [{ hostname: url.hostname, ...(given !== undefined && { port: given }) }];
    });
  }

  /**
   * The site a request addressed (`scheme://host[:port]`, as a browser's
   * Origin header names it) when its Host is one of ours; undefined otherwise.
   */
  siteOf(host: string | undefined, scheme: Scheme): string | undefined {
    const url = host === undefined ? undefined : parseHost(host, scheme);
    if (!url) return undefined;
    const port = url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port);
    const known = this.names.some((name) => name.hostname === url.hostname && (name.port === undefined || name.port === port));
    return known ? url.origin : undefined;
  }
}
