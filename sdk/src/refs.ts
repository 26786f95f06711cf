import { CodePiperError, notFound } from './errors.js';

/** How many matches a lookup fetches: enough to list the candidates of an ambiguous reference. */
const CANDIDATES = 10;

/** Where `resolveRef` finds the things of one kind. */
export interface RefLookup<T> {
  /** What is looked up, for messages: `session`, `policy`, `workflow run`. */
  kind: string;
  /** Up to `limit` things whose id starts with `prefix` (the thing whose id is `prefix` among them). */
  byIdPrefix(prefix: string, limit: number): Promise<T[]> | T[];
  /** Up to `limit` things named exactly `name`; absent for kinds without names. */
  byName?(name: string, limit: number): Promise<T[]> | T[];
  id(thing: T): string;
  /** A thing's name, shown beside its id when a reference is ambiguous. */
  name?(thing: T): string;
}

/**
 * The thing a person means by `ref`, with one rule for every kind: its full
 * id, else its exact name, else the one thing whose id starts with `ref`
 * (ids are lowercase; the prefix is matched without case). Throws
 * `not_found`, or `ambiguous_id` with the candidates.
 */
export async function resolveRef<T>(ref: string, lookup: RefLookup<T>): Promise<T> {
  const byPrefix = ref === '' ? [] : await lookup.byIdPrefix(ref.toLowerCase(), CANDIDATES);
  const exact = byPrefix.find((thing) => lookup.id(thing) === ref);
  if (exact) return exact;
  const byName = ref === '' || !lookup.byName ? [] : await lookup.byName(ref, CANDIDATES);
  for (const matches of [byName, byPrefix]) {
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw ambiguous(ref, lookup, matches);
  }
  throw notFound(`${lookup.kind} "${ref}"`);
}

function ambiguous<T>(ref: string, lookup: RefLookup<T>, matches: T[]): CodePiperError {
  const described = matches.map((thing) => {
    const name = lookup.name?.(thing);
    return name ? `${lookup.id(thing).slice(0, 8)} (${name})` : lookup.id(thing).slice(0, 8);
  });
  return new CodePiperError('ambiguous_id', `${lookup.kind} "${ref}" is ambiguous: it matches ${described.join(', ')}`, {
    candidates: matches.map(lookup.id),
  });
}

/** `LIKE ? ESCAPE '\'` for the values starting with `prefix`. */
export const likePrefix = (prefix: string): string => `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
