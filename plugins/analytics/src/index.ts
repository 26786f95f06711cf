import { stat } from 'node:fs/promises';
import path from 'node:path';
import { analyticsEndpoints, historyImportersRef, usageLedgerRef, type HistoryImporter, type ImportStatus } from '@codepiper/analytics-contract';
import { badRequest, CodePiperError, definePlugin, notFound, resolveRef } from '@codepiper/sdk';
import { sessionDirectoryRef } from '@codepiper/sessions-contract';
import * as Type from '@sinclair/typebox';
import { ImportJob } from './history.js';
import { SqlLedger } from './ledger.js';
import { migrations } from './migrations.js';
import { loadPrices, PriceSchema, type PriceTable } from './prices.js';
import { checkRange, sessionsMatching, toolReport, usageReport, type ReportFilter } from './reports.js';

export { loadPrices, priceOf, costOf, type Price, type PriceTable } from './prices.js';

export const AnalyticsConfig = Type.Object({
  prices: Type.Record(Type.String({ minLength: 1 }), PriceSchema, {
    default: {},
    description: 'Model id → USD per million tokens (input, output, cache_write_5m, cache_write_1h, cache_read); replaces the shipped list price of that model',
  }),
});

export default definePlugin({
  name: 'analytics',
  api: '^1.0.0',
  description: 'Token and cost analytics: a ledger of usage and tool calls fed by the providers, reports, and imports of agent history',
  provides: [usageLedgerRef, historyImportersRef],
  uses: [sessionDirectoryRef],
  config: AnalyticsConfig,
  register(ctx) {
    const importers = new Map<string, HistoryImporter>();
    const jobs = new Map<string, ImportJob>();
    let importing: Promise<void> | undefined;
    let prices: PriceTable | undefined;

    ctx.migrations(migrations);
    ctx.services.provide(usageLedgerRef, () => new SqlLedger(() => ctx.store));
    ctx.services.provide(historyImportersRef, () => ({
      register(importer) {
        if (importers.has(importer.provider)) throw new Error(`a history importer for "${importer.provider}" is already registered`);
        importers.set(importer.provider, importer);
      },
      list: () => [...importers.values()],
    }));

    /** The query's session as the ledger keys it: a recorded session's id or unique prefix, else a CodePiper session (by name, or with no usage yet). */
    const resolveSession = async (ref: string | undefined): Promise<string | undefined> => {
      if (ref === undefined) return undefined;
      try {
        return await resolveRef(ref, { kind: 'session', byIdPrefix: (prefix, limit) => sessionsMatching(ctx.store, prefix, limit), id: (key) => key });
      } catch (error) {
        if (!(error instanceof CodePiperError && error.code === 'not_found')) throw error;
        return (await ctx.services.get(sessionDirectoryRef).resolve(ref)).id;
      }
    };

    const filterOf = async (query: ReportFilter): Promise<ReportFilter> => {
      checkRange(query);
      const session = await resolveSession(query.session);
      return { ...(query.since ? { since: query.since } : {}), ...(query.until ? { until: query.until } : {}), ...(session ? { session } : {}) };
    };

    const running = (): PriceTable => {
      if (!prices) throw new Error('the analytics plugin has not started');
      return prices;
    };

    ctx.api.handle(analyticsEndpoints.usage, async ({ query }) => usageReport(ctx.store, running(), query.by ?? 'session', await filterOf(query)));
    ctx.api.handle(analyticsEndpoints.tools, async ({ query }) => toolReport(ctx.store, await filterOf(query)));

    ctx.api.handle(analyticsEndpoints.startImport, async ({ body }) => {
      if ([...jobs.values()].some((job) => !job.finished)) throw new CodePiperError('import_running', 'an import is already running; follow it or wait for it to end');
      const dirs = body.dirs ?? {};
      const unknown = Object.keys(dirs).filter((provider) => !importers.has(provider));
      if (unknown.length > 0) throw badRequest(`no history importer for ${unknown.map((p) => `"${p}"`).join(', ')}; known: ${[...importers.keys()].join(', ')}`);
      const relative = Object.entries(dirs).filter(([, dir]) => !path.isAbsolute(dir));
      if (relative.length > 0) throw badRequest(`import directories must be absolute: ${relative.map(([p, dir]) => `${p}: ${dir}`).join(', ')}`);
      // A directory the user named must be there; a standard location may be absent (that agent is not used here).
      const absent = await absentDirectories(Object.entries(dirs));
      if (absent.length > 0) throw new CodePiperError('no_such_directory', `no such directory: ${absent.map(([p, dir]) => `${dir} (${p})`).join(', ')}`);
      const plan = [...importers.values()].map((importer) => ({ importer, dir: dirs[importer.provider] ?? importer.defaultDir(ctx.env) }));
      const job = new ImportJob(ctx.store, plan);
      jobs.clear(); // only the latest import is kept
      jobs.set(job.status.id, job);
      importing = job.run().then(() => {
        if (job.status.state === 'failed') ctx.log.warn({ error: job.status.error }, 'analytics import failed');
      });
      return job.status;
    });

    const jobOf = (id: string): ImportJob => {
      const job = jobs.get(id);
      if (!job) throw notFound(`import "${id}"`);
      return job;
    };

    ctx.api.handle(analyticsEndpoints.showImport, async ({ params }) => jobOf(params.id).status);

    ctx.api.handleSocket(analyticsEndpoints.followImport, (socket, { params }) => {
      const job = jobs.get(params.id);
      if (!job) {
        socket.close(4404, `no import "${params.id}"`);
        return;
      }
      const send = (status: ImportStatus): void => {
        socket.send(JSON.stringify(status));
        if (status.state !== 'running') socket.close(1000);
      };
      const unsubscribe = job.subscribe(send);
      socket.on('close', unsubscribe);
      send(job.status);
    });

    return {
      async start() {
        prices = loadPrices(ctx.config.prices);
      },
      async stop() {
        for (const job of jobs.values()) job.stop();
        await importing;
      },
    };
  },
});

/** The (provider, directory) pairs whose directory does not exist or is not a directory. */
async function absentDirectories(dirs: [string, string][]): Promise<[string, string][]> {
  const present = await Promise.all(dirs.map(async ([, dir]) => (await stat(dir).catch(() => undefined))?.isDirectory() === true));
  return dirs.filter((_, i) => !present[i]);
}
