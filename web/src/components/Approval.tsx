import { type Approval as ApprovalRecord, approvalEndpoints } from '@codepiper/policies-contract';
import { A } from '@solidjs/router';
import { call } from '../api.js';
import { ActionButton } from './Form.jsx';

/** What a tool call would do, in one line: the command, the file or the input. */
export function describeInput(input: unknown): string {
  const fields = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const main = fields.command ?? fields.file_path ?? fields.path ?? fields.url ?? fields.text;
  return typeof main === 'string' ? main : JSON.stringify(input);
}

/** A pending approval with one-tap answers; `sessionName` where it is listed apart from its session. */
export function Approval(props: { approval: ApprovalRecord; sessionName?: string }) {
  const id = () => props.approval.id;
  return (
    <li class="row approval" data-approval={id()}>
      <div class="grow">
        <strong>{props.approval.tool}</strong> <code class="wrap">{describeInput(props.approval.input)}</code>
        <div class="muted small">
          {props.approval.reason || props.approval.policyName}
          {props.sessionName === undefined ? null : (
            <>
              {' · '}
              <A href={`/sessions/${props.approval.sessionId}`}>{props.sessionName}</A>
            </>
          )}
        </div>
      </div>
      <ActionButton class="approve" label={`Approve ${props.approval.tool}`} action={() => call(approvalEndpoints.approve, { params: { id: id() }, body: {} })}>
        Approve
      </ActionButton>
      <ActionButton
        class="secondary"
        label={`Always allow ${props.approval.tool}`}
        confirm={`Always allow this exact call? A policy is made that allows ${props.approval.tool} with this input from now on, without asking.`}
        action={() => call(approvalEndpoints.approve, { params: { id: id() }, body: { remember: true } })}
      >
        Always allow
      </ActionButton>
      <ActionButton class="danger" label={`Deny ${props.approval.tool}`} action={() => call(approvalEndpoints.deny, { params: { id: id() }, body: {} })}>
        Deny
      </ActionButton>
    </li>
  );
}
