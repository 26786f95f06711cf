import type { CAC } from 'cac';
import { eventEndpoints, type CodePiperEvent } from '@codepiper/events-contract';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import { optionValue } from '../args.js';
import { connect } from '../client.js';
import { forSession } from '../errors.js';
import { follow } from '../follow.js';
import { formatEvent } from '../format.js';
import { print, printBytes, printLines } from '../output.js';

interface EventFilter {
  session: string;
  type: string | undefined;
}

/** The id of the last event in a chunk of JSON lines. */
const lastIdIn = (chunk: Buffer): number => (JSON.parse(chunk.toString('utf8', chunk.lastIndexOf(0x0a, chunk.length - 2) + 1)) as CodePiperEvent).id;

export function registerEventCommands(cli: CAC): void {
  cli
    .command('events <id>', 'List a session’s events, oldest first; with -f, then new ones as they happen')
    .option('-f, --follow', 'Keep printing new events until Ctrl-C')
    .option('--type <type>', 'Only events of this type, or of a prefix: session.exited, claude.*')
    .option('--json', 'Print each event as JSON, one per line')
    .example('  $ codepiper events ab12')
    .example("  $ codepiper events ab12 -f --json --type 'session.*'")
    .example("  $ codepiper events ab12 --type 'claude.*'")
    .action(async (id: string, options: { follow?: boolean; type?: unknown; json?: boolean }) => {
      const client = connect();
      // The event log knows full ids only; the sessions API resolves prefixes and names.
      const session = await forSession(id, client.call(sessionEndpoints.show, { params: { id } }));
      const filter: EventFilter = { session: session.id, type: optionValue(options.type, '--type') };
      let lastId: number | undefined;
      const line = (event: CodePiperEvent): string => {
        lastId = event.id;
        return options.json ? JSON.stringify(event) : formatEvent(event);
      };
      // The stored events arrive as JSON lines: printed as they are with --json, with no object made per event.
      for await (const chunk of client.lines(eventEndpoints.lines, { query: filter })) {
        lastId = lastIdIn(chunk);
        if (options.json) await printBytes(chunk);
        else await printLines(chunk.toString('utf8', 0, chunk.length - 1).split('\n').map((text) => line(JSON.parse(text) as CodePiperEvent)));
      }
      if (!options.follow) return;
      // The stream replays what was stored after `after`, then goes live: nothing is missed; ids already shown are skipped.
      const socket = await forSession(
        id,
        client.openSocket(eventEndpoints.stream, { query: { ...filter, after: lastId ?? 0 } }, (data) => {
          const event = JSON.parse(data.toString('utf8')) as CodePiperEvent;
          if (lastId === undefined || event.id > lastId) print(line(event));
        }),
      );
      await follow(socket);
    });
}
