import type { Policy } from '@codepiper/policies-contract';

/** The names of the policy sets, from the policies in them. */
export const policySetNames = (policies: readonly Policy[]): string[] => [...new Set(policies.flatMap((p) => (p.set === null ? [] : [p.set])))].sort();
