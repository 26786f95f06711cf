/** What is wrong now that the daemon cannot fix by itself (`codepiper daemon status` lists it), by key. */
export class Problems {
  private readonly current = new Map<string, { message: string; since: Date }>();

  /** Sets, replaces (keeping when it began) or, with null, clears the problem named `key`. */
  report(key: string, message: string | null): void {
    if (message === null) this.current.delete(key);
    else this.current.set(key, { message, since: this.current.get(key)?.since ?? new Date() });
  }

  /** Oldest first: a key keeps its place when its message changes. */
  list(): { message: string; since: string }[] {
    return [...this.current.values()].map(({ message, since }) => ({ message, since: since.toISOString() }));
  }
}
