import { createResource, createSignal, For, Show } from 'solid-js';
import { A } from '@solidjs/router';
import { policyEndpoints, type Policy, type PolicyInput } from '@codepiper/policies-contract';
import { call } from '../api.js';
import { ActionButton, ActionForm } from '../components/Form.jsx';

const ACTIONS = ['allow', 'ask', 'deny'] as const;

/** The form's fields as a policy: a rule (`Bash(git push:*)`) or a tool with argument globs as JSON. */
function policyFrom(values: Record<string, string>): PolicyInput {
  const args = values.args?.trim();
  let parsed: Record<string, unknown> | undefined;
  if (args) {
    try {
      parsed = JSON.parse(args) as Record<string, unknown>;
    } catch {
      throw new Error('Arguments must be a JSON object of field globs, e.g. {"command": "git push*"}');
    }
  }
  return {
    action: values.action as PolicyInput['action'],
    ...(values.name ? { name: values.name } : {}),
    ...(values.rule ? { rule: values.rule } : { tool: values.tool || '*' }),
    ...(parsed ? { args: parsed } : {}),
    priority: Number(values.priority || 0),
    ...(values.reason ? { reason: values.reason } : {}),
    ...(values.set ? { set: values.set } : {}),
  };
}

function PolicyFields(props: { policy?: Policy }) {
  return (
    <>
      <label>Name<input name="name" value={props.policy?.name ?? ''} placeholder="optional" /></label>
      <label>
        Action
        <select name="action">
          <For each={ACTIONS}>{(a) => <option value={a} selected={props.policy?.action === a}>{a}</option>}</For>
        </select>
      </label>
      <label>Rule<input name="rule" value={props.policy?.rule ?? ''} placeholder="Bash(git push:*), or a tool below" /></label>
      <label>Tool<input name="tool" value={props.policy?.rule ? '' : (props.policy?.tool ?? '')} placeholder="Bash, Write, mcp__*" /></label>
      <label>Arguments<input name="args" value={props.policy?.args ? JSON.stringify(props.policy.args) : ''} placeholder='{"command": "rm *"}' /></label>
      <label>Priority<input name="priority" type="number" value={props.policy?.priority ?? 0} /></label>
      <label class="wide">Reason<input name="reason" value={props.policy?.reason ?? ''} placeholder="shown to the agent and in the audit" /></label>
      <label>Set<input name="set" value={props.policy?.set ?? ''} placeholder="none: every session" pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" /></label>
    </>
  );
}

/** Policies: list, create, edit, enable, delete, and test a tool call against them. */
export function PoliciesPage() {
  const [policies, { refetch }] = createResource(async () => (await call(policyEndpoints.list, { query: {} })).policies);
  const [editing, setEditing] = createSignal<string | 'new'>();
  const [verdict, setVerdict] = createSignal('');
  const [defaultAction, { refetch: refetchDefault }] = createResource(() => call(policyEndpoints.defaultAction));
  const [bypasses, { refetch: refetchBypasses }] = createResource(async () => (await call(policyEndpoints.bypassed)).bypasses);

  const save = async (values: Record<string, string>) => {
    const input = policyFrom(values);
    const id = editing();
    if (id === 'new' || id === undefined) await call(policyEndpoints.create, { body: input });
    else await call(policyEndpoints.update, { params: { id }, body: { ...input, rule: input.rule ?? null, args: input.args ?? null, set: input.set ?? null } });
    setEditing(undefined);
    await refetch();
  };
  const test = async (values: Record<string, string>) => {
    let args: Record<string, unknown> = {};
    if (values.args?.trim()) {
      try {
        args = JSON.parse(values.args) as Record<string, unknown>;
      } catch {
        throw new Error('The tool input must be JSON, e.g. {"command": "git push"}');
      }
    }
    const decision = await call(policyEndpoints.test, { body: { tool: values.tool ?? '', args } });
    setVerdict(`${decision.decision}: ${decision.reason} (${decision.policy ? `policy ${decision.policy.name}` : 'the default'}, rule ${decision.rule})`);
  };

  return (
    <section aria-labelledby="policies-title">
      <div class="heading">
        <h1 id="policies-title">Policies</h1>
        <button type="button" onClick={() => setEditing(editing() === 'new' ? undefined : 'new')}>New policy</button>
      </div>
      <ActionForm
        label="Default action"
        submit="Set"
        action={async (values) => {
          await call(policyEndpoints.setDefaultAction, { body: { action: values.action === 'deny' ? 'deny' : 'ask' } });
          await refetchDefault();
        }}
      >
        <label>
          When no policy matches
          <select name="action">
            <option value="ask" selected={defaultAction()?.action === 'ask'}>ask a person</option>
            <option value="deny" selected={defaultAction()?.action === 'deny'}>deny</option>
          </select>
        </label>
        <p class="muted small" data-testid="default-source">{defaultAction()?.source === 'set' ? 'Set here (or with codepiper policy default).' : 'From config.yaml (default_action).'}</p>
      </ActionForm>
      <Show when={(bypasses() ?? []).length > 0}>
        <h2>Sessions without policies</h2>
        <ul class="list" aria-label="Sessions without policies">
          <For each={bypasses()}>
            {(bypass) => (
              <li class="row bypass" data-bypass={bypass.sessionId}>
                <div class="grow">
                  <A href={`/sessions/${bypass.sessionId}`}>session {bypass.sessionId.slice(0, 8)}</A>
                  <div class="muted small">every call allowed since {new Date(bypass.since ?? '').toLocaleString()}, asked by {bypass.by}</div>
                </div>
                <ActionButton label={`Put under policies: session ${bypass.sessionId.slice(0, 8)}`} action={async () => {
                  await call(policyEndpoints.endBypass, { params: { id: bypass.sessionId } });
                  await refetchBypasses();
                }}>
                  Put under policies
                </ActionButton>
              </li>
            )}
          </For>
        </ul>
      </Show>
      <Show when={editing() === 'new'}>
        <ActionForm label="New policy" submit="Create" action={save}>
          <PolicyFields />
        </ActionForm>
      </Show>
      <ul class="list" aria-label="Policies">
        <For each={policies()} fallback={<li class="muted">No policies: every tool call gets the default decision.</li>}>
          {(policy) => (
            <li class="row policy" data-policy={policy.name}>
              <Show
                when={editing() === policy.id}
                fallback={
                  <>
                    <div class="grow">
                      <span class={`action action-${policy.action}`}>{policy.action}</span> <strong>{policy.name}</strong>{' '}
                      <Show when={!policy.builtin} fallback={<span class="status">built-in</span>}>
                        <code>{policy.rule ?? `${policy.tool}${policy.args ? ` ${JSON.stringify(policy.args)}` : ''}`}</code>
                      </Show>
                      <div class="muted small">{[policy.set === null ? '' : `set ${policy.set}`, policy.builtin ? '' : `priority ${policy.priority}`, policy.reason, policy.enabled ? '' : 'disabled'].filter(Boolean).join(' · ')}</div>
                    </div>
                    <ActionButton class="secondary" label={`${policy.enabled ? 'Disable' : 'Enable'} ${policy.name}`} action={async () => {
                      if (policy.builtin && policy.enabled && !confirm(`Turn off ${policy.name}? Tool calls that touch the daemon's home or socket, run codepiper or drive its tmux server will then be decided by your policies alone.`)) return;
                      await call(policy.enabled ? policyEndpoints.disable : policyEndpoints.enable, { params: { id: policy.id } });
                      await refetch();
                    }}>
                      {policy.enabled ? 'Disable' : 'Enable'}
                    </ActionButton>
                    <Show when={!policy.builtin}>
                      <button type="button" class="secondary" onClick={() => setEditing(policy.id)} aria-label={`Edit ${policy.name}`}>Edit</button>
                      <ActionButton class="danger" label={`Delete ${policy.name}`} confirm={`Delete policy ${policy.name}?`} action={async () => {
                        await call(policyEndpoints.remove, { params: { id: policy.id } });
                        await refetch();
                      }}>
                        Delete
                      </ActionButton>
                    </Show>
                  </>
                }
              >
                <ActionForm label={`Edit ${policy.name}`} submit="Save" action={save} class="form grow">
                  <PolicyFields policy={policy} />
                </ActionForm>
              </Show>
            </li>
          )}
        </For>
      </ul>
      <h2>Test a tool call</h2>
      <ActionForm label="Test a tool call" submit="Test" action={test}>
        <label>Tool<input name="tool" required placeholder="Bash" /></label>
        <label class="wide">Input (JSON)<input name="args" placeholder='{"command": "git push origin main"}' /></label>
      </ActionForm>
      <p role="status" data-testid="policy-verdict">{verdict()}</p>
    </section>
  );
}
