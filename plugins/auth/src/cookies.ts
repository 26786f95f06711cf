import { sessionCookieName } from '@codepiper/auth-contract';
import { parseCookie, stringifySetCookie } from 'cookie';

/**
 * The session token from a `Cookie` header, if there is one. A request over
 * TLS reads only the `__Host-` cookie, which no plain-HTTP page nor any
 * other host can set; a plain one only the plain name.
 */
export function sessionToken(headers: Readonly<Record<string, string | string[] | undefined>>, secure: boolean): string | undefined {
  const header = headers.cookie;
  if (typeof header !== 'string') return undefined;
  return parseCookie(header)[sessionCookieName(secure)] || undefined;
}

/** The session cookie: never readable by scripts, never sent cross-site; under TLS `__Host-` (Secure, Path=/, no Domain). */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return stringifySetCookie({
    name: sessionCookieName(secure),
    value: token,
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
    secure,
  });
}

export const clearedCookie = (secure: boolean): string => sessionCookie('', 0, secure);
