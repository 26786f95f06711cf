import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyticsImport } from './analytics-import.js';
import { churn } from './churn.js';
import { echoLatency } from './echo-latency.js';
import { eventsJson } from './events-json.js';
import { exitNoticed } from './exit-noticed.js';
import { hookRoundtrip } from './hook-roundtrip.js';
import { idleCost } from './idle-cost.js';
import { phoneLoad } from './phone-load.js';
import { policyDecision } from './policy-decision.js';
import { remoteEcho, remoteIdle } from './remote.js';
import { soak } from './soak.js';
import { startup } from './startup.js';
import { throughput } from './throughput.js';

/** Every benchmark: a name, what it measures, and how to run it. Run one with `pnpm bench <name>`. */
const benchmarks = {
  'echo-latency': echoLatency,
  throughput,
  'idle-cost': idleCost,
  'exit-noticed': exitNoticed,
  'events-json': eventsJson,
  'hook-roundtrip': hookRoundtrip,
  'policy-decision': policyDecision,
  'analytics-import': analyticsImport,
  startup,
  'phone-load': phoneLoad,
  'remote-echo': remoteEcho,
  'remote-idle': remoteIdle,
  soak,
  churn,
} as const;

type Name = keyof typeof benchmarks;

const requested = process.argv.slice(2);
const unknown = requested.filter((n) => !(n in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; choose from ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
const names = (requested.length > 0 ? requested : Object.keys(benchmarks)) as Name[];
const outDir = path.resolve(import.meta.dirname, '..', 'results');
mkdirSync(outDir, { recursive: true });

const rows: [string, string, string][] = [];
for (const name of names) {
  console.error(`running ${name}...`);
  const result = await benchmarks[name]();
  writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify({ name, at: new Date().toISOString(), result }, null, 2) + '\n');
  for (const [metric, value] of flatten(result)) rows.push([name, metric, String(value)]);
}

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['benchmark', 'metric', 'value'][i]!.length));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(line(['benchmark', 'metric', 'value']));
for (const row of rows) console.log(line(row));
console.log(`\nJSON written to ${outDir}`);

function* flatten(value: object, prefix = ''): Generator<[string, number | string]> {
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object') yield* flatten(v as object, `${prefix}${key}.`);
    else yield [`${prefix}${key}`, typeof v === 'number' ? Number(v.toFixed(3)) : String(v)];
  }
}
