import { createResource, createSignal, For, Show } from 'solid-js';
import { authEndpoints, tokenExpired, type TokenScope } from '@codepiper/auth-contract';
import { call } from '../api.js';
import { CopyButton } from './CopyButton.jsx';
import { ActionButton, ActionForm } from './Form.jsx';

const day = (iso: string | null): string => (iso === null ? 'never' : new Date(iso).toLocaleDateString());

/** Personal access tokens, for a CLI or script on another machine: made here (shown once), listed, revoked. */
export function AccessTokens() {
  const [tokens, { refetch }] = createResource(async () => (await call(authEndpoints.tokens)).tokens);
  const [made, setMade] = createSignal<{ name: string; token: string }>();
  return (
    <>
      <p>For the CLI of another machine (<code>codepiper remote add NAME URL --token-stdin</code>) or a script: it signs in with the token, no password or code.</p>
      <ActionForm
        label="New access token"
        submit="Make token"
        action={async (values, form) => {
          const days = Number(values.expires || 0);
          const created = await call(authEndpoints.createToken, { body: { name: values.name ?? '', scope: values.scope as TokenScope, ...(days > 0 && { expiresInDays: days }) } });
          setMade({ name: created.name, token: created.token });
          form.reset();
          await refetch();
        }}
      >
        <label>Name<input name="name" required maxLength={100} placeholder="laptop, ci-script" autocomplete="off" /></label>
        <label>
          Scope
          <select name="scope">
            <option value="full">full: everything you can do here</option>
            <option value="read">read: looking only, no terminal</option>
          </select>
        </label>
        <label>Expires after (days)<input name="expires" type="number" min="1" max="3650" placeholder="never" /></label>
      </ActionForm>
      <Show when={made()}>
        {(token) => (
          <div class="notice" role="status" data-testid="new-token">
            <p>The token {token().name}, shown only now:</p>
            <code class="wrap">{token().token}</code> <CopyButton text={token().token} label="Copy the token">Copy</CopyButton>
          </div>
        )}
      </Show>
      <ul class="list" aria-label="Access tokens">
        <For each={tokens()} fallback={<li class="muted">No access tokens.</li>}>
          {(token) => (
            <li class="row" data-token={token.name}>
              <div class="grow">
                <strong>{token.name}</strong> <span class="status">{token.scope}</span>
                <div class="muted small">made {day(token.createdAt)} · {tokenExpired(token.expiresAt, Date.now()) ? 'expired' : 'expires'} {day(token.expiresAt)} · last used {token.lastUsedAt === null ? 'never' : new Date(token.lastUsedAt).toLocaleString()}</div>
              </div>
              <ActionButton class="danger" label={`Revoke ${token.name}`} confirm={`Revoke the token ${token.name}? What signs in with it stops working at once.`} action={async () => {
                await call(authEndpoints.revokeToken, { params: { id: token.id } });
                await refetch();
              }}>
                Revoke
              </ActionButton>
            </li>
          )}
        </For>
      </ul>
    </>
  );
}
