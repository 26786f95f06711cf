import { execFileSync, spawnSync } from 'node:child_process';

let made = 0;

/** Why a network namespace cannot be made here (not root, no `ip`, not allowed), or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root, to make a network namespace';
  const probe = `cpt-probe-${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.status !== 0) return `cannot make a network namespace here: ${added.error?.message ?? added.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/**
 * Another machine's network, for a test: a namespace joined to this one by a
 * veth pair only, so that pulling its link cuts the traffic silently (no
 * reset, no FIN), as a dropped Wi-Fi or a dead router would.
 */
export class NetworkNamespace {
  private constructor(
    readonly name: string,
    /** Its address, as this machine reaches it. */
    readonly address: string,
    private readonly link: string,
  ) {}

  static create(): NetworkNamespace {
    const n = (process.pid % 200) + made++;
    const name = `cpt-${process.pid}-${made}`;
    const [outside, inside] = [`cpv${n}a`, `cpv${n}b`];
    const subnet = `10.213.${n % 250}`;
    const ip = (...args: string[]) => execFileSync('ip', args);
    ip('netns', 'add', name);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `${subnet}.1/30`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    for (const args of [['addr', 'add', `${subnet}.2/30`, 'dev', inside], ['link', 'set', inside, 'up'], ['link', 'set', 'lo', 'up']]) ip('netns', 'exec', name, 'ip', ...args);
    return new NetworkNamespace(name, `${subnet}.2`, outside);
  }

  /** The argv that runs `argv` inside the namespace. */
  inside(argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.name, ...argv];
  }

  /** Pulls the link: packets stop, nobody is told. */
  cut(): void {
    execFileSync('ip', ['link', 'set', this.link, 'down']);
  }

  restore(): void {
    execFileSync('ip', ['link', 'set', this.link, 'up']);
  }

  /** Removes the namespace, and with it the link. */
  remove(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
    spawnSync('ip', ['link', 'del', this.link]);
  }
}
