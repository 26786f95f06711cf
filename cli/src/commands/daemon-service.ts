import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** How the service starts the daemon: the same program and arguments, in the environment that matters. */
export interface ServiceSpec {
  /** The program and its arguments: node, this CLI's script, `daemon` and any --web flags. */
  argv: string[];
  /** Where the daemon finds tmux and agent CLIs, and its home if it is not the default. */
  env: Record<string, string>;
  /** The daemon's home, for the launchd agent's log files. */
  home: string;
}

export interface ServiceFile {
  file: string;
  text: string;
  /** Commands that load it (run in order; their failure is reported, the file stays). */
  load: string[][];
  unload: string[][];
}

const UNIT = 'codepiper.service';
const LABEL = 'dev.codepiper.daemon';

/** A systemd word: quoted when it holds anything but plain characters. */
const systemdWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `"${word.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);

/**
 * A systemd user unit: started at login, restarted on failure. KillMode=process:
 * stopping the unit stops the daemon only, never the tmux server it started,
 * whose sessions are meant to outlive it.
 */
export function systemdUnit(spec: ServiceSpec): string {
  const env = Object.entries(spec.env).map(([name, value]) => `Environment=${systemdWord(`${name}=${value}`).replaceAll('%', '%%')}`);
  return `[Unit]
Description=CodePiper daemon: AI coding sessions that outlive their terminal
After=network.target

[Service]
Type=simple
ExecStart=${spec.argv.map(systemdWord).join(' ').replaceAll('%', '%%')}
${env.join('\n')}
Restart=on-failure
RestartSec=2
KillMode=process

[Install]
WantedBy=default.target
`;
}

const xml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A launchd agent: loaded at login, started again when it exits with a failure. */
export function launchdPlist(spec: ServiceSpec): string {
  const strings = (values: string[]): string => values.map((v) => `\n      <string>${xml(v)}</string>`).join('');
  const env = Object.entries(spec.env)
    .map(([name, value]) => `\n      <key>${xml(name)}</key>\n      <string>${xml(value)}</string>`)
    .join('');
  const log = xml(path.join(spec.home, 'logs', 'daemon.out'));
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    <key>Label</key>
    <string>${LABEL}</string>
    <key>ProgramArguments</key>
    <array>${strings(spec.argv)}
    </array>
    <key>EnvironmentVariables</key>
    <dict>${env}
    </dict>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <dict>
      <key>SuccessfulExit</key>
      <false/>
    </dict>
    <key>AbandonProcessGroup</key>
    <true/>
    <key>StandardOutPath</key>
    <string>${log}</string>
    <key>StandardErrorPath</key>
    <string>${log}</string>
  </dict>
</plist>
`;
}

/** The service file for this platform, where the user's service manager reads it. */
export function serviceFile(spec: ServiceSpec, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): ServiceFile {
  const home = env.HOME ?? os.homedir();
  if (platform === 'darwin') {
    const file = path.join(home, 'Library', 'LaunchAgents', `${LABEL}.plist`);
    const domain = `gui/${process.getuid?.() ?? 501}`;
    return { file, text: launchdPlist(spec), load: [['launchctl', 'bootstrap', domain, file]], unload: [['launchctl', 'bootout', `${domain}/${LABEL}`]] };
  }
  if (platform === 'linux') {
    const file = path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'systemd', 'user', UNIT);
    return {
      file,
      text: systemdUnit(spec),
      load: [['systemctl', '--user', 'daemon-reload'], ['systemctl', '--user', 'enable', '--now', UNIT]],
      unload: [['systemctl', '--user', 'disable', '--now', UNIT]],
    };
  }
  throw new Error(`no service manager support on ${platform}: run "codepiper daemon --detach" from your login scripts`);
}

/** Runs the commands in order; the first failure ends it, returned with its message. */
async function runAll(commands: string[][]): Promise<string | undefined> {
  for (const [program, ...args] of commands) {
    try {
      await promisify(execFile)(program!, args, { timeout: 30_000 });
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      return `${[program, ...args].join(' ')}: ${(stderr || message).trim().split('\n')[0]}`;
    }
  }
  return undefined;
}

/** Writes the service file (mode 0644) and loads it; says what it did and what is left to do. */
export async function installService(service: ServiceFile): Promise<string[]> {
  await mkdir(path.dirname(service.file), { recursive: true });
  await writeFile(service.file, service.text, { mode: 0o644 });
  const failed = await runAll(service.load);
  const loaded = failed === undefined ? 'it starts now and at every login, and again if it fails' : `it could not be loaded (${failed}); load it with: ${service.load.map((c) => c.join(' ')).join(' && ')}`;
  return [`wrote ${service.file}`, loaded];
}

/** Unloads the service and removes its file. */
export async function uninstallService(service: ServiceFile): Promise<string[]> {
  const failed = await runAll(service.unload);
  await rm(service.file, { force: true });
  return [`removed ${service.file}`, failed === undefined ? 'the daemon it ran is stopped; sessions keep running' : `it could not be unloaded (${failed})`];
}
