import { randomUUID } from 'node:crypto';
import { CodePiperError, conflict, notFound, type Approval, type Store } from '@codepiper/sdk';

interface ApprovalRow {
  id: string;
  session_id: string;
  tool: string;
  input: string;
  reason: string;
  policy_id: string | null;
  policy_name: string;
  status: Approval['status'];
  created_at: string;
  expires_at: string;
  answered_at: string | null;
  answered_by: string | null;
  answer: string | null;
  remembered_policy_id: string | null;
}

const toApproval = (r: ApprovalRow): Approval => ({
  id: r.id,
  sessionId: r.session_id,
  tool: r.tool,
  input: JSON.parse(r.input) as unknown,
  reason: r.reason,
  policyId: r.policy_id,
  policyName: r.policy_name,
  status: r.status,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  answeredAt: r.answered_at,
  answeredBy: r.answered_by,
  answer: r.answer,
  rememberedPolicyId: r.remembered_policy_id,
});

export interface ApprovalQuestion {
  sessionId: string;
  tool: string;
  input: unknown;
  reason: string;
  policy: { id: string; name: string } | null;
}

/**
 * Pending approvals: a question waits (its promise) until someone answers it
 * from any client, or until it expires. Rows persist; a daemon restart expires
 * whatever was pending (the hook that waited is gone).
 */
export class Approvals {
  private readonly waiting = new Map<string, { resolve: (approval: Approval) => void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly store: Store,
    private readonly published: (type: 'approval.pending' | 'approval.answered', approval: Approval) => void,
  ) {}

  async expireStale(): Promise<void> {
    await this.store.run("UPDATE policy_approvals SET status = 'expired', answered_at = ?, answered_by = 'restart' WHERE status = 'pending'", [new Date().toISOString()]);
  }

  /** Records the question, publishes it, and resolves with the answered (or expired) approval. */
  async ask(question: ApprovalQuestion, timeoutMs: number): Promise<Approval> {
    const now = new Date();
    const row: ApprovalRow = {
      id: randomUUID(),
      session_id: question.sessionId,
      tool: question.tool,
      input: JSON.stringify(question.input ?? null),
      reason: question.reason,
      policy_id: question.policy?.id ?? null,
      policy_name: question.policy?.name ?? 'default',
      status: 'pending',
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + timeoutMs).toISOString(),
      answered_at: null,
      answered_by: null,
      answer: null,
      remembered_policy_id: null,
    };
    await this.store.run(
      `INSERT INTO policy_approvals (id, session_id, tool, input, reason, policy_id, policy_name, status, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.session_id, row.tool, row.input, row.reason, row.policy_id, row.policy_name, row.status, row.created_at, row.expires_at],
    );
    const answered = new Promise<Approval>((resolve) => {
      const timer = setTimeout(() => {
        void this.settle(row.id, 'expired', 'timeout', null, null).then(resolve, () => resolve({ ...toApproval(row), status: 'expired' }));
      }, timeoutMs);
      timer.unref();
      this.waiting.set(row.id, { resolve, timer });
    });
    this.published('approval.pending', toApproval(row));
    return answered;
  }

  async list(all: boolean): Promise<Approval[]> {
    const rows = await this.store.all<ApprovalRow>(`SELECT * FROM policy_approvals ${all ? '' : "WHERE status = 'pending'"} ORDER BY created_at DESC LIMIT 1000`);
    return rows.map(toApproval);
  }

  async get(ref: string): Promise<Approval> {
    const rows = await this.store.all<ApprovalRow>("SELECT * FROM policy_approvals WHERE id = ? OR id LIKE ? ESCAPE '\\' LIMIT 10", [ref, `${ref.replace(/[\\%_]/g, '\\$&')}%`]);
    const exact = rows.find((r) => r.id === ref);
    if (exact) return toApproval(exact);
    if (rows.length === 1) return toApproval(rows[0] as ApprovalRow);
    if (rows.length > 1) throw new CodePiperError('ambiguous_id', `approval id "${ref}" is ambiguous`, 409, { candidates: rows.map((r) => r.id) });
    throw notFound(`approval "${ref}"`);
  }

  /** Answers a pending approval; the waiting hook resumes at once. */
  async answer(ref: string, status: 'approved' | 'denied', by: string, answer: string | null, remember?: () => Promise<string>): Promise<Approval> {
    const approval = await this.get(ref);
    if (approval.status !== 'pending') throw conflict('approval_answered', `approval ${approval.id.slice(0, 8)} is already ${approval.status}`);
    const remembered = remember ? await remember() : null;
    return this.settle(approval.id, status, by, answer, remembered);
  }

  private async settle(id: string, status: Approval['status'], by: string, answer: string | null, remembered: string | null): Promise<Approval> {
    const result = await this.store.run(
      "UPDATE policy_approvals SET status = ?, answered_at = ?, answered_by = ?, answer = ?, remembered_policy_id = ? WHERE id = ? AND status = 'pending'",
      [status, new Date().toISOString(), by, answer, remembered, id],
    );
    const approval = await this.get(id);
    if (result.changes === 0) return approval;
    const waiter = this.waiting.get(id);
    if (waiter) {
      clearTimeout(waiter.timer);
      this.waiting.delete(id);
      waiter.resolve(approval);
    }
    this.published('approval.answered', approval);
    return approval;
  }

  /** Ends every wait (daemon stop): the hooks get `expired`. */
  close(): void {
    for (const [id, waiter] of this.waiting) {
      clearTimeout(waiter.timer);
      void this.settle(id, 'expired', 'shutdown', null, null).catch(() => undefined);
    }
  }
}
