import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { defineEndpoint, IsoTime, Name, Nullable, Ok } from '@codepiper/sdk';

/** The hosts contract: other machines reached over SSH (owned by the hosts plugin). */
export const HOSTS_CONTRACT = '1.0.0';

/** A host's name, as `--host NAME` gives it: a word a shell needs no quotes for. */

/**
 * `user@host` or `host`, as OpenSSH takes it: no spaces or quotes, and never
 * starting with `-` (it would be read as an option of ssh).
 */
export const SshDestination = Type.String({ minLength: 1, maxLength: 255, pattern: '^(?:[A-Za-z0-9._][A-Za-z0-9._-]*@)?[A-Za-z0-9_][A-Za-z0-9._:\\[\\]-]*$' });

export const HostSchema = Type.Object({
  name: Type.String(),
  destination: Type.String({ description: '`user@host`, as ssh takes it' }),
  port: Nullable(Type.Integer({ description: 'The SSH port; null: ssh’s own (22, or the user’s ssh config)' })),
  identity: Nullable(Type.String({ description: 'Private key file given at `host add`; null: the user’s agent and ssh config. Only its path is kept' })),
  createdAt: IsoTime,
});
export type Host = Static<typeof HostSchema>;

export const HostProbeSchema = Type.Object({
  reachable: Type.Boolean(),
  error: Nullable(Type.String({ description: 'Why it could not be reached (the host key unknown or changed, refused, timed out...)' })),
  latencyMs: Nullable(Type.Number({ description: 'A command’s round trip over the host’s connection' })),
  tmux: Nullable(Type.String({ description: '`tmux -V` there; null when not found' })),
  agents: Type.Record(Type.String(), Nullable(Type.String()), { description: 'Agent CLIs looked for there (claude, codex, gemini): their version, null when not found' }),
  checkedAt: IsoTime,
});
export type HostProbe = Static<typeof HostProbeSchema>;

export const HostStatusSchema = Type.Composite([HostSchema, Type.Object({ probe: HostProbeSchema })]);
export type HostStatus = Static<typeof HostStatusSchema>;

/** A host as listed: checked now, or (`check=false`) as added, its probe null. */
export const HostListingSchema = Type.Composite([HostSchema, Type.Object({ probe: Nullable(HostProbeSchema) })]);
export type HostListing = Static<typeof HostListingSchema>;

const NameParams = Type.Object({ name: Name() });

export const hostEndpoints = {
  list: defineEndpoint({
    method: 'GET',
    url: '/hosts',
    summary: 'Hosts, each checked now: reachable, latency, and the tmux and agent CLIs found there (unless `check` is false)',
    tags: ['hosts'],
    query: Type.Object({ check: Type.Optional(Type.Boolean({ description: 'false: the hosts as added, unchecked (no probe)' })) }),
    response: Type.Object({ hosts: Type.Array(HostListingSchema) }),
  }),
  add: defineEndpoint({
    method: 'POST',
    url: '/hosts',
    summary: 'Adds a host once the daemon has reached it over SSH, its host key verified against known_hosts',
    tags: ['hosts'],
    // Where sessions may run, with the user's keys: not for a program inside a session to choose.
    control: true,
    status: 201,
    body: Type.Object(
      {
        name: Name(),
        destination: SshDestination,
        port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
        identity: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute path of a private key file; its passphrase, if any, is the agent’s to give' })),
      },
      { additionalProperties: false },
    ),
    response: HostStatusSchema,
  }),
  remove: defineEndpoint({
    method: 'DELETE',
    url: '/hosts/:name',
    summary: 'Forgets a host and closes its connection',
    tags: ['hosts'],
    control: true,
    params: NameParams,
    response: Ok,
  }),
};
