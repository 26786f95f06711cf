/** The message of anything thrown, for error messages that name their cause. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
