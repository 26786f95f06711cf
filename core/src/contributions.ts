import { contributionEndpoints, describeFields, pathParameters, type ApiRegistrar, type ContributedCommand, type ContributedPage, type PluginContributions } from '@codepiper/sdk';

const WORD = /^[a-z][a-z0-9-]*$/;
/** A path of this daemon's API: clients call it on the daemon they came from, never elsewhere. */
const API_PATH = /^\/[A-Za-z0-9]/;

/** What the plugins add to the CLI and the dashboard, checked as each declares it, served at GET /contributions. */
export class Contributions {
  private readonly commands: ContributedCommand[] = [];
  private readonly pages: ContributedPage[] = [];

  forPlugin(plugin: string): PluginContributions {
    return {
      command: ({ name, description, endpoint, examples = [] }) => {
        if (!WORD.test(name)) throw new Error(`command "${name}" must be one lowercase word (letters, digits, dashes)`);
        if (endpoint.method !== 'GET' || !API_PATH.test(endpoint.url)) throw new Error(`command "${name}" must be answered by a GET endpoint of the API, not ${endpoint.method} ${endpoint.url}`);
        const other = this.commands.find((command) => command.name === name);
        if (other) throw new Error(`command "${name}" is already added by plugin "${other.plugin}"`);
        this.commands.push({ plugin, name, description, url: endpoint.url, arguments: pathParameters(endpoint.url), flags: describeFields(endpoint.query), examples: [...examples] });
      },
      page: ({ id, title, endpoint }) => {
        if (!WORD.test(id)) throw new Error(`page "${id}" must have a lowercase id (letters, digits, dashes)`);
        if (endpoint.method !== 'GET' || !API_PATH.test(endpoint.url) || endpoint.url.includes(':')) throw new Error(`page "${id}" must show a GET endpoint without path parameters, not ${endpoint.method} ${endpoint.url}`);
        if (this.pages.some((page) => page.plugin === plugin && page.id === id)) throw new Error(`page "${id}" is added twice`);
        this.pages.push({ plugin, id, title, url: endpoint.url });
      },
    };
  }

  serve(api: ApiRegistrar): void {
    api.handle(contributionEndpoints.list, async () => ({ commands: this.commands, pages: this.pages }));
  }
}
