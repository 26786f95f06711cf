import { createResource } from 'solid-js';
import { policyEndpoints, type Policy } from '@codepiper/policies-contract';
import { call } from '../api.js';

/** A tool name or glob (`terminal_input`, `*`, `term*`) matching typed text's tool name. */
const matchesTypedText = (tool: string): boolean =>
  new RegExp(`^${tool.replace(/[.+^${}()|[\]\\/-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's').test('terminal_input');

/**
 * Whether a policy could refuse text typed into this session: an enabled deny
 * on `terminal_input` whose globs, if any, are on the text (an `ask` or an
 * `allow` lets typed text through anyway).
 */
export const refusesTypedText = (p: Policy): boolean =>
  p.enabled && !p.builtin && p.action === 'deny' && matchesTypedText(p.tool) && Object.keys(p.args ?? {}).every((field) => field === 'text');

/** Whether some policy could refuse text typed into the session (then the live terminal says what such policies do not see). */
export function createTypedTextPolicies(sessionId: () => string | undefined) {
  const [refusing] = createResource(sessionId, async (session) => (await call(policyEndpoints.list, { query: { session } })).policies.some(refusesTypedText));
  return refusing;
}

/**
 * Says plainly, near the live terminal, what input policies do not see: the
 * terminal sends keys as they are typed, one at a time, so a policy about a
 * command never meets one there.
 */
export function InputPolicyNotice(props: { id: string }) {
  return (
    <p class="notice" id={props.id} data-testid="input-policy-notice">
      Input policies check text sent with the prompt box below (or <code>codepiper send</code>) as a whole. Keys typed into this terminal reach the session one at a time
      and are judged one at a time, so a command typed here is not stopped by them; a paste is judged as a whole.
    </p>
  );
}
