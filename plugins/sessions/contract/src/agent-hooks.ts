/** What a provider needs to wire its agent's hooks to the daemon (Node.js only). */
export * from './hook-forwarder.js';
export * from './hook-secrets.js';
export * from './logged-payload.js';
