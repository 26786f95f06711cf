import { useParams } from '@solidjs/router';
import { createResource, For, Match, Show, Switch } from 'solid-js';
import { answerCell, answerColumns, answerFields, answerRows, type ContributedPage } from '@codepiper/sdk/browser';
import { describe, getPath } from '../api.js';
import { Scroll } from '../components/Scroll.jsx';

/** A page a plugin adds: what its endpoint answers, a list as a table, an object as fields. */
export function PluginPage(props: { pages: readonly ContributedPage[] }) {
  const params = useParams();
  const page = () => props.pages.find((p) => p.plugin === params.plugin && p.id === params.page);
  const [answer] = createResource(() => page()?.url, getPath);
  const rows = () => answerRows(answer());
  const columns = () => answerColumns(rows() ?? []);
  return (
    <section aria-labelledby="plugin-page-title">
      <h1 id="plugin-page-title">{page()?.title ?? 'No such page'}</h1>
      <Show when={page()} fallback={<p>No loaded plugin adds this page.</p>}>
        <p class="muted">From plugin {page()!.plugin}</p>
        <Switch>
          <Match when={answer.error}>
            <p class="error" role="alert">
              {describe(answer.error)}
            </p>
          </Match>
          <Match when={rows()?.length === 0}>
            <p>Nothing yet.</p>
          </Match>
          <Match when={rows()}>
            <Scroll label={`${page()!.title} table`}>
              <table class="table">
                <thead>
                  <tr>
                    <For each={columns()}>{(column) => <th scope="col">{column}</th>}</For>
                  </tr>
                </thead>
                <tbody>
                  <For each={rows()}>{(row) => <tr>{<For each={columns()}>{(column) => <td>{answerCell(row[column])}</td>}</For>}</tr>}</For>
                </tbody>
              </table>
            </Scroll>
          </Match>
          <Match when={answerFields(answer())}>
            <dl>
              <For each={answerFields(answer())}>
                {([key, value]) => (
                  <>
                    <dt>{key}</dt>
                    <dd>{answerCell(value)}</dd>
                  </>
                )}
              </For>
            </dl>
          </Match>
        </Switch>
      </Show>
    </section>
  );
}
