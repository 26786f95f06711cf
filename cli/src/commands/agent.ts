import type { CAC } from 'cac';
import { sessionEndpoints, type TranscriptEntry } from '@codepiper/sessions-contract';
import { connect } from '../client.js';
import { forSession } from '../errors.js';
import { print, printResult } from '../output.js';

/** One readable block per entry: who spoke, then what. */
export function formatTranscript(entries: readonly TranscriptEntry[]): string {
  return entries
    .map((entry) => {
      switch (entry.kind) {
        case 'user':
          return `> ${entry.text}`;
        case 'assistant':
          return entry.text;
        case 'tool_call':
          return `[${entry.tool?.name ?? 'tool'}] ${JSON.stringify(entry.tool?.input ?? {})}`;
        case 'tool_result':
          return `  ⎿ ${entry.text.split('\n').join('\n    ')}`;
      }
    })
    .join('\n\n');
}

export function registerAgentCommands(cli: CAC): void {
  cli
    .command('transcript <id>', 'Print the conversation of an agent session: prompts, answers, tool calls with their inputs')
    .option('--json', 'Print the API response as JSON')
    .example('  $ codepiper transcript ab12')
    .action(async (id: string, options: { json?: boolean }) => {
      const transcript = await forSession(id, connect().call(sessionEndpoints.transcript, { params: { id } }));
      printResult(transcript, options.json, ({ entries }) => formatTranscript(entries));
    });

  cli
    .command('model <id> <model>', 'Switch the model of a running agent session')
    .example('  $ codepiper model ab12 sonnet')
    .action(async (id: string, model: string) => {
      await forSession(id, connect().call(sessionEndpoints.model, { params: { id }, body: { model } }));
      print(`asked session ${id} to switch to ${model}; a model_switch event follows once the agent uses it`);
    });
}
