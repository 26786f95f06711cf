import * as Type from '@sinclair/typebox';
import { defineEndpoint } from './api.js';
import { IsoTime, Nullable, Ok } from './schemas.js';

export const daemonEndpoints = {
  health: defineEndpoint({
    method: 'GET',
    url: '/health',
    summary: 'Liveness',
    tags: ['daemon'],
    access: 'public',
    response: Type.Object({ ok: Type.Literal(true), version: Type.String() }),
  }),
  status: defineEndpoint({
    method: 'GET',
    url: '/daemon/status',
    summary: 'Daemon process, home and plugins',
    tags: ['daemon'],
    response: Type.Object({
      pid: Type.Integer(),
      version: Type.String(),
      home: Type.String(),
      socket: Type.String(),
      database: Type.String(),
      startedAt: IsoTime,
      uptimeSeconds: Type.Number(),
      pluginApi: Type.String({ description: 'The plugin API version this daemon provides (semver)' }),
      plugins: Type.Array(Type.Object({ name: Type.String(), api: Type.String({ description: 'The plugin API range the plugin works with' }) }), { description: 'In start order' }),
      web: Nullable(Type.String({ description: 'The URL of the TCP listener (`codepiper daemon --web`), or null' })),
      problems: Type.Array(Type.Object({ message: Type.String(), since: IsoTime }), { description: 'What is wrong now that the daemon cannot fix by itself (a full disk), oldest first' }),
    }),
  }),
  stop: defineEndpoint({
    method: 'POST',
    url: '/daemon/stop',
    summary: 'Stop the daemon (sessions keep running); local CLI only',
    tags: ['daemon'],
    access: 'local',
    response: Ok,
  }),
  backup: defineEndpoint({
    method: 'POST',
    url: '/daemon/backup',
    summary: 'Write a consistent copy of the database to a new file, while the daemon runs; local CLI only',
    tags: ['daemon'],
    access: 'local',
    body: Type.Object({ path: Type.String({ minLength: 1, description: 'Absolute path of the file to write; it must not exist' }) }),
    response: Type.Object({ path: Type.String(), bytes: Type.Integer({ minimum: 0 }) }),
  }),
  restart: defineEndpoint({
    method: 'POST',
    url: '/daemon/restart',
    summary: 'Restart the daemon on the same addresses; sessions keep running and are adopted by the new one',
    tags: ['daemon'],
    // Not from inside a session: an agent has no business cutting every client off.
    control: true,
    status: 202,
    response: Type.Object({ pid: Type.Integer({ description: 'The daemon that is going; its replacement has another' }) }),
  }),
};
