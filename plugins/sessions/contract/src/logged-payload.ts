/** The most of one text in an agent's tool call, or in the tool's result, that the event log keeps. */
export const LOGGED_TEXT_CHARS = 4096;
/** The most of all the texts of a tool call together, and of its result, that the event log keeps. */
export const LOGGED_CALL_CHARS = 16_384;

/**
 * A hook event as the event log keeps it: the texts of its tool call
 * (`tool_input`) and of the tool's result (`tool_response`) are kept up to
 * LOGGED_TEXT_CHARS each and LOGGED_CALL_CHARS in all, in order; each cut
 * says how much it left out. An agent sends whole files there (Claude a file
 * it writes, and after an edit or a write the file as it was and the diff,
 * line by line), and its transcript keeps them already: whole, the log would
 * grow by a file or more a call, for as long as it is kept. The policies and
 * the audit trail get the call as it was sent.
 */
export function loggedHookPayload(payload: Record<string, unknown>): Record<string, unknown> {
  const logged = { ...payload };
  for (const key of ['tool_input', 'tool_response']) {
    if (key in payload) logged[key] = keepTexts(payload[key], { chars: LOGGED_CALL_CHARS });
  }
  return logged;
}

/** `value` with its texts kept as far as `left.chars` allows, which it counts down. */
function keepTexts(value: unknown, left: { chars: number }): unknown {
  if (typeof value === 'string') {
    const kept = value.slice(0, Math.min(LOGGED_TEXT_CHARS, left.chars));
    left.chars -= kept.length;
    return kept.length === value.length ? value : `${kept}[cut: ${value.length - kept.length} more characters]`;
  }
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const [index, item] of value.entries()) {
      if (left.chars === 0) return [...items, `[cut: ${value.length - index} more items]`];
      items.push(keepTexts(item, left));
    }
    return items;
  }
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, keepTexts(item, left)]));
  return value;
}
