import { SESSION_COOKIE } from '@codepiper/sdk';

/** The session token from a `Cookie` header, if there is one. */
export function sessionToken(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const header = headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** The session cookie: never readable by scripts, never sent cross-site, only over TLS when the client uses it. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`, ...(secure ? ['Secure'] : [])].join('; ');
}

export const clearedCookie = (secure: boolean): string => sessionCookie('', 0, secure);
