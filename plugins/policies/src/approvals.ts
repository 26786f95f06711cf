import { randomUUID } from 'node:crypto';
import { CodePiperError, likePrefix, resolveRef, type Store } from '@codepiper/sdk';
import type { Approval } from '@codepiper/policies-contract';

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

/** After the agent stopped waiting, how long a session's end may take to show before it counts as a no in the terminal. */
const ABANDON_GRACE_MS = 2_000;

const sameCall = (row: Pick<ApprovalRow, 'tool' | 'input'>, tool: string, input: unknown): boolean => row.tool === tool && row.input === JSON.stringify(input ?? null);

/**
 * Pending approvals: a question stays pending as long as its agent waits,
 * until a person answers it from any client or in the agent's own terminal,
 * or its turn or session ends. Rows persist. What was pending when the daemon
 * stopped is expired at the next start (the hook that waited is gone), and
 * comes back, the same approval, if its agent's provider finds the question
 * still on the screen and asks it again.
 */
export class Approvals {
  private readonly waiting = new Map<string, { row: ApprovalRow; resolve: (approval: Approval) => void }>();
  /** Pending "the agent stopped waiting" verdicts (see agentGone). */
  private readonly graces = new Set<NodeJS.Timeout>();
  /** Ids of the approvals expired at this start: the ones a provider may ask again. */
  private revivable = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly published: (type: 'approval.pending' | 'approval.answered', approval: Approval) => void,
  ) {}

  async expireStale(): Promise<void> {
    const stale = await this.store.all<{ id: string }>("SELECT id FROM policy_approvals WHERE status = 'pending'");
    await this.store.run("UPDATE policy_approvals SET status = 'expired', answered_at = ?, answered_by = 'daemon stopped' WHERE status = 'pending'", [new Date().toISOString()]);
    this.revivable = new Set(stale.map((r) => r.id));
  }

  /** Records the question (or takes back the same one the last daemon left), publishes it, and resolves with it answered or expired. */
  async ask(question: ApprovalQuestion, agentGone: AbortSignal): Promise<Approval> {
    const row = (await this.revive(question)) ?? (await this.insert(question));
    const answered = new Promise<Approval>((resolve) => this.waiting.set(row.id, { row, resolve }));
    agentGone.addEventListener('abort', () => this.agentGone(row.id), { once: true });
    this.published('approval.pending', toApproval(row));
    return answered;
  }

  private async revive(question: ApprovalQuestion): Promise<ApprovalRow | undefined> {
    if (this.revivable.size === 0) return undefined;
    const rows = await this.store.all<ApprovalRow>("SELECT * FROM policy_approvals WHERE session_id = ? AND status = 'expired' ORDER BY created_at DESC", [question.sessionId]);
    const row = rows.find((r) => this.revivable.has(r.id) && sameCall(r, question.tool, question.input));
    if (!row) return undefined;
    this.revivable.delete(row.id);
    await this.store.run("UPDATE policy_approvals SET status = 'pending', answered_at = NULL, answered_by = NULL WHERE id = ? AND status = 'expired'", [row.id]);
    return { ...row, status: 'pending', answered_at: null, answered_by: null };
  }

  private async insert(question: ApprovalQuestion): Promise<ApprovalRow> {
    const row: ApprovalRow = {
      id: randomUUID(),
      session_id: question.sessionId,
      tool: question.tool,
      input: JSON.stringify(question.input ?? null),
      reason: question.reason,
      policy_id: question.policy?.id ?? null,
      policy_name: question.policy?.name ?? 'default',
      status: 'pending',
      created_at: new Date().toISOString(),
      answered_at: null,
      answered_by: null,
      answer: null,
      remembered_policy_id: null,
    };
    await this.store.run(
      `INSERT INTO policy_approvals (id, session_id, tool, input, reason, policy_id, policy_name, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.session_id, row.tool, row.input, row.reason, row.policy_id, row.policy_name, row.status, row.created_at],
    );
    return row;
  }

  /**
   * The agent stopped waiting: the person answered its own prompt in the
   * terminal. A yes shows as the call running (`ran`), so this is a no, or an
   * interrupt; unless the session itself ended meanwhile.
   */
  private agentGone(id: string): void {
    if (!this.waiting.has(id)) return;
    const timer = setTimeout(() => {
      this.graces.delete(timer);
      void this.settle(id, 'denied', 'terminal', 'answered no in the terminal', null).catch(() => undefined);
    }, ABANDON_GRACE_MS);
    this.graces.add(timer);
  }

  /** A call ran: the pending question about it was answered yes in the terminal, if nowhere else. */
  async ran(sessionId: string, tool: string, input: unknown): Promise<void> {
    const rows = await this.store.all<ApprovalRow>("SELECT * FROM policy_approvals WHERE session_id = ? AND status = 'pending' ORDER BY created_at", [sessionId]);
    const asked = rows.find((r) => sameCall(r, tool, input));
    if (asked) await this.settle(asked.id, 'approved', 'terminal', null, null);
  }

  /** The session's turn or the session ended: nothing it asked is waited for any more. */
  async endFor(sessionId: string, why: 'turn ended' | 'session ended'): Promise<void> {
    const rows = await this.store.all<{ id: string }>("SELECT id FROM policy_approvals WHERE session_id = ? AND status = 'pending'", [sessionId]);
    for (const { id } of rows) await this.settle(id, 'expired', why, null, null);
  }

  async list(all: boolean): Promise<Approval[]> {
    const rows = await this.store.all<ApprovalRow>(`SELECT * FROM policy_approvals ${all ? '' : "WHERE status = 'pending'"} ORDER BY created_at DESC LIMIT 1000`);
    return rows.map(toApproval);
  }

  async get(ref: string): Promise<Approval> {
    return resolveRef(ref, {
      kind: 'approval',
      byIdPrefix: async (prefix, limit) =>
        (await this.store.all<ApprovalRow>("SELECT * FROM policy_approvals WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT ?", [likePrefix(prefix), limit])).map(toApproval),
      id: (approval) => approval.id,
    });
  }

  /** Answers a pending approval; the waiting hook resumes at once. */
  async answer(ref: string, status: 'approved' | 'denied', by: string, answer: string | null, remember?: () => Promise<string>): Promise<Approval> {
    const approval = await this.get(ref);
    if (approval.status !== 'pending') throw new CodePiperError('approval_answered', `approval ${approval.id.slice(0, 8)} is already ${approval.status}`);
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
    this.waiting.get(id)?.resolve(approval);
    this.waiting.delete(id);
    this.published('approval.answered', approval);
    return approval;
  }

  /**
   * Ends every wait (daemon stop): the hooks get `expired`. The rows stay
   * pending, for the next start to expire or an agent still asking to take back.
   */
  close(): void {
    for (const timer of this.graces) clearTimeout(timer);
    this.graces.clear();
    const now = new Date().toISOString();
    for (const { row, resolve } of this.waiting.values()) resolve(toApproval({ ...row, status: 'expired', answered_at: now, answered_by: 'daemon stopped' }));
    this.waiting.clear();
  }
}
