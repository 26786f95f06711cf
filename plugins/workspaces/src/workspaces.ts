import { stat } from 'node:fs/promises';
import path from 'node:path';
import { CodePiperError, badRequest, type Store } from '@codepiper/sdk';
import { overEnvSet, type EnvSet, type Workspace, type WorkspaceStart } from '@codepiper/workspaces-contract';
import type { PolicySets } from '@codepiper/policies-contract';
import type { ProviderRegistry, SessionControl, SessionRecord } from '@codepiper/sessions-contract';

interface WorkspaceRow {
  name: string;
  dir: string;
  provider: string | null;
  env_set: string | null;
  policy_set: string | null;
  worktree: number;
  created_at: string;
  updated_at: string;
}

interface EnvSetRow {
  name: string;
  env: string;
  secrets: string;
  created_at: string;
  updated_at: string;
}

const toWorkspace = (row: WorkspaceRow): Workspace => ({
  name: row.name,
  dir: row.dir,
  provider: row.provider,
  envSet: row.env_set,
  policySet: row.policy_set,
  worktree: row.worktree === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toEnvSet = (row: EnvSetRow): EnvSet => ({
  name: row.name,
  env: JSON.parse(row.env) as Record<string, string>,
  secrets: JSON.parse(row.secrets) as string[],
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface WorkspaceDeps {
  store: Store;
  providers: () => ProviderRegistry;
  sessions: () => SessionControl;
  policySets: () => PolicySets;
}

type WorkspaceFields = Pick<Workspace, 'dir' | 'provider' | 'envSet' | 'policySet' | 'worktree'>;

/** Saved workspaces (a directory and its sessions' defaults) and named env sets, and starts with them. */
export class Workspaces {
  constructor(private readonly deps: WorkspaceDeps) {}

  async list(): Promise<Workspace[]> {
    return (await this.deps.store.all<WorkspaceRow>('SELECT * FROM workspaces ORDER BY name')).map(toWorkspace);
  }

  async get(name: string): Promise<Workspace> {
    const row = await this.deps.store.get<WorkspaceRow>('SELECT * FROM workspaces WHERE name = ?', [name]);
    if (!row) throw new CodePiperError('not_found', `no workspace named "${name}" (see: codepiper workspace list)`);
    return toWorkspace(row);
  }

  async create(name: string, fields: Partial<WorkspaceFields> & { dir: string }): Promise<Workspace> {
    const checked = await this.check({ provider: null, envSet: null, policySet: null, worktree: false, ...fields });
    const now = new Date().toISOString();
    const inserted = await this.deps.store.run('INSERT INTO workspaces (name, dir, provider, env_set, policy_set, worktree, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING', [
      name,
      checked.dir,
      checked.provider,
      checked.envSet,
      checked.policySet,
      checked.worktree ? 1 : 0,
      now,
      now,
    ]);
    if (inserted.changes === 0) throw new CodePiperError('workspace_exists', `a workspace named "${name}" exists (change it with codepiper workspace update ${name})`);
    return this.get(name);
  }

  async update(name: string, patch: Partial<WorkspaceFields>): Promise<Workspace> {
    const current = await this.get(name);
    const given = <K extends keyof WorkspaceFields>(key: K): WorkspaceFields[K] => (patch[key] === undefined ? current[key] : (patch[key] as WorkspaceFields[K]));
    const checked = await this.check({ dir: given('dir'), provider: given('provider'), envSet: given('envSet'), policySet: given('policySet'), worktree: given('worktree') });
    await this.deps.store.run('UPDATE workspaces SET dir = ?, provider = ?, env_set = ?, policy_set = ?, worktree = ?, updated_at = ? WHERE name = ?', [
      checked.dir,
      checked.provider,
      checked.envSet,
      checked.policySet,
      checked.worktree ? 1 : 0,
      new Date().toISOString(),
      name,
    ]);
    return this.get(name);
  }

  async remove(name: string): Promise<void> {
    await this.get(name);
    await this.deps.store.run('DELETE FROM workspaces WHERE name = ?', [name]);
  }

  /** Starts a session with the workspace's defaults; the request's own values come first, its env over the env set's, its policy sets beside the workspace's. */
  async start(name: string, request: WorkspaceStart, by: string): Promise<SessionRecord> {
    const workspace = await this.get(name);
    const provider = request.provider ?? workspace.provider;
    if (!provider) throw badRequest(`workspace "${name}" has no provider: name one (codepiper start -w ${name} -p PROVIDER, or workspace update ${name} --provider)`);
    const set = workspace.envSet === null ? undefined : await this.envSet(workspace.envSet);
    const policySets = [...new Set([...(workspace.policySet === null ? [] : [workspace.policySet]), ...(request.policySets ?? [])])];
    return this.deps.sessions().start(
      { ...request, provider, cwd: workspace.dir, ...overEnvSet(set, request), ...(policySets.length > 0 && { policySets }), ...(workspace.worktree && { worktree: true }) },
      { by },
    );
  }

  async envSets(): Promise<EnvSet[]> {
    return (await this.deps.store.all<EnvSetRow>('SELECT * FROM env_sets ORDER BY name')).map(toEnvSet);
  }

  async envSet(name: string): Promise<EnvSet> {
    const row = await this.deps.store.get<EnvSetRow>('SELECT * FROM env_sets WHERE name = ?', [name]);
    if (!row) throw new CodePiperError('not_found', `no env set named "${name}" (see: codepiper env-set list)`);
    return toEnvSet(row);
  }

  async putEnvSet(name: string, set: { env?: Record<string, string>; secrets?: string[] }): Promise<EnvSet> {
    const now = new Date().toISOString();
    await this.deps.store.run(
      `INSERT INTO env_sets (name, env, secrets, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET env = excluded.env, secrets = excluded.secrets, updated_at = excluded.updated_at`,
      [name, JSON.stringify(set.env ?? {}), JSON.stringify(set.secrets ?? []), now, now],
    );
    return this.envSet(name);
  }

  async removeEnvSet(name: string): Promise<void> {
    await this.envSet(name);
    const users = await this.deps.store.all<{ name: string }>('SELECT name FROM workspaces WHERE env_set = ? ORDER BY name', [name]);
    if (users.length > 0) throw new CodePiperError('in_use', `env set "${name}" is used by workspace ${users.map((u) => u.name).join(', ')}: change or remove those first`);
    await this.deps.store.run('DELETE FROM env_sets WHERE name = ?', [name]);
  }

  /** A workspace's fields, checked: an existing absolute directory, an installed provider, an existing env set. */
  private async check(fields: WorkspaceFields): Promise<WorkspaceFields> {
    if (!path.isAbsolute(fields.dir)) throw badRequest(`dir must be an absolute path, not "${fields.dir}"`);
    const info = await stat(fields.dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new CodePiperError('invalid_directory', `"${fields.dir}" is not an existing directory`);
    if (fields.provider !== null && !this.deps.providers().get(fields.provider)) {
      throw new CodePiperError('unknown_provider', `no provider "${fields.provider}" (installed: ${this.deps.providers().list().map((p) => p.id).join(', ')})`);
    }
    if (fields.envSet !== null) await this.envSet(fields.envSet);
    if (fields.policySet !== null) this.deps.policySets().check([fields.policySet]);
    return fields;
  }
}
