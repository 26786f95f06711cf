import type { CAC } from 'cac';
import { eventEndpoints, sessionEndpoints, type ApiClient, type CodePiperEvent } from '@codepiper/sdk';
import { optionValue } from '../args.js';
import { connect } from '../client.js';
import { forSession } from '../errors.js';
import { follow } from '../follow.js';
import { formatEvent } from '../format.js';
import { print, printLines } from '../output.js';

/** The API's largest page. */
const PAGE_SIZE = 10_000;

interface EventFilter {
  session: string;
  type: string | undefined;
}

/** Every stored event matching `filter`, oldest first, a page at a time. */
async function* storedEvents(client: ApiClient, filter: EventFilter): AsyncGenerator<CodePiperEvent[]> {
  let after: number | undefined;
  for (;;) {
    const { events } = await forSession(filter.session, client.call(eventEndpoints.list, { query: { ...filter, after, limit: PAGE_SIZE } }));
    yield events;
    const last = events.at(-1);
    if (events.length < PAGE_SIZE || !last) return;
    after = last.id;
  }
}

export function registerEventCommands(cli: CAC): void {
  cli
    .command('events <id>', 'List a session’s events, oldest first; with -f, then new ones as they happen')
    .option('-f, --follow', 'Keep printing new events until Ctrl-C')
    .option('--type <type>', 'Only events of this type, or of a prefix: session.status, hook.*')
    .option('--json', 'Print each event as JSON, one per line')
    .example('  $ codepiper events ab12')
    .example("  $ codepiper events ab12 -f --json --type 'session.*'")
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
      for await (const page of storedEvents(client, filter)) await printLines(page.map(line));
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
