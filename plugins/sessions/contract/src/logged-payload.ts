/** The most of one text in an agent's tool call or its answer that the event log keeps. */
export const LOGGED_TEXT_CHARS = 4096;

/**
 * A hook event as the event log keeps it: each text of its tool call
 * (`tool_input`) and of the tool's answer (`tool_response`) longer than
 * LOGGED_TEXT_CHARS is cut there, saying how much was left out. An agent
 * sends whole files in them (Claude a file it writes, and after an edit or a
 * write the file as it was), and its transcript keeps them already: whole, the
 * log would grow by a file or more a call, for as long as it is kept. The
 * policies and the audit trail get the call as it was sent.
 */
export function loggedHookPayload(payload: Record<string, unknown>): Record<string, unknown> {
  const logged = { ...payload };
  for (const key of ['tool_input', 'tool_response']) {
    if (key in payload) logged[key] = cutTexts(payload[key]);
  }
  return logged;
}

function cutTexts(value: unknown): unknown {
  if (typeof value === 'string') return value.length > LOGGED_TEXT_CHARS ? `${value.slice(0, LOGGED_TEXT_CHARS)}[cut: ${value.length - LOGGED_TEXT_CHARS} more characters]` : value;
  if (Array.isArray(value)) return value.map(cutTexts);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cutTexts(item)]));
  return value;
}
