import { approvalEndpoints, type Approval } from '@codepiper/policies-contract';
import type { ApiClient } from '@codepiper/sdk';
import { waitFor } from './harness.js';

/** The approval as the daemon lists it now (answered ones included). */
export async function approvalNow(client: ApiClient, id: string): Promise<Approval | undefined> {
  return (await client.call(approvalEndpoints.list, { query: { all: true } })).approvals.find((a) => a.id === id);
}

/** Waits until the approval is no longer pending; resolves with it answered (or expired). */
export function answeredApproval(client: ApiClient, id: string, timeoutMs = 30_000): Promise<Approval> {
  return waitFor('the approval to be answered', async () => {
    const current = await approvalNow(client, id);
    return current?.status === 'pending' ? undefined : current;
  }, timeoutMs);
}
