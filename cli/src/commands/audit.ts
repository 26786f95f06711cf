import type { CAC } from 'cac';
import { auditEndpoints, type AuditEntry } from '@codepiper/audit-contract';
import { optionValue } from '../args.js';
import { connect } from '../client.js';
import { formatTable, shortId } from '../format.js';
import { print, printResult } from '../output.js';
import { parseAction, parseSince, type PolicyOptions } from './policy.js';

const auditRow = (e: AuditEntry): string[] => {
  const input = JSON.stringify(e.input);
  return [String(e.id), e.ts, e.sessionId ? shortId(e.sessionId) : '-', e.tool, e.decision, e.policyName, input.length > 60 ? `${input.slice(0, 59)}…` : input];
};

export function registerAuditCommand(cli: CAC): void {
  cli
    .command('audit', 'The audit trail: every permission decision and security event (sign-ins, lockouts, password, MFA and secret changes), oldest first')
    .option('--session <id>', 'Only decisions in this session (id or prefix)')
    .option('--since <time>', 'Only decisions since a time (2026-01-31T10:00:00Z) or an age (30s, 10m, 2h, 7d)')
    .option('--decision <decision>', 'Only allow, deny or ask')
    .option('--tool <tool>', 'Only this tool or security action (auth.login), or a prefix (auth.*, secrets.*)')
    .option('--json', 'Print the API response as JSON')
    .option('--jsonl', 'Export: one JSON object per line')
    .example('  $ codepiper audit --decision deny --since 1h')
    .example('  $ codepiper audit --tool "auth.*"              # sign-ins, lockouts, password and MFA changes')
    .example('  $ codepiper audit --session ab12 --jsonl > audit.jsonl')
    .action(async (options: PolicyOptions) => {
      const session = optionValue(options.session, '--session');
      const sinceText = optionValue(options.since, '--since');
      const decisionText = optionValue(options.decision, '--decision');
      const tool = optionValue(options.tool, '--tool');
      const query = {
        ...(tool === undefined ? {} : { tool }),
        ...(session === undefined ? {} : { session }),
        ...(sinceText === undefined ? {} : { since: parseSince(sinceText) }),
        ...(decisionText === undefined ? {} : { decision: parseAction(decisionText, '--decision') }),
      };
      const client = connect();
      const entries: AuditEntry[] = [];
      const page = 5000;
      for (;;) {
        const after = entries.at(-1)?.id;
        const result = await client.call(auditEndpoints.list, { query: { ...query, ...(after === undefined ? {} : { after }), limit: page } });
        entries.push(...result.entries);
        if (result.entries.length < page) break;
      }
      if (options.jsonl) for (const entry of entries) print(JSON.stringify(entry));
      else
        printResult({ entries }, options.json, ({ entries: list }) =>
          list.length === 0 ? 'no decisions recorded' : formatTable(['ID', 'TIME', 'SESSION', 'TOOL', 'DECISION', 'POLICY', 'INPUT'], list.map(auditRow)),
        );
    });
}
