import { auditLogRef } from '@codepiper/audit-contract';
import { authEndpoints } from '@codepiper/auth-contract';
import { definePlugin, httpAuthenticate, type RequestContext, describeOrigin } from '@codepiper/sdk';
import { secretStoreRef } from '@codepiper/secrets-contract';
import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { migrations } from './migrations.js';
import { AccessTokens, bearerToken } from './access-tokens.js';
import { AuthRepository } from './repository.js';
import { AuthService, type Caller } from './service.js';

const DAY_S = 86_400;
// A web session or lockout that long is a mistake; longer ones also overflow the dates they set.
const YEAR_S = 365 * DAY_S;

export const AuthConfig = Type.Object({
  session_idle_s: Type.Integer({ minimum: 1, maximum: YEAR_S, default: 8 * 3600, description: 'A web session ends after this long without a request' }),
  session_max_s: Type.Integer({ minimum: 1, maximum: YEAR_S, default: 7 * 86400, description: 'A web session ends this long after sign-in, however active' }),
  // More than attempts_per_address (checked at register): one address alone cannot lock the owner out.
  max_failures: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Failed sign-ins since the last success, each address counting for at most attempts_per_address, that lock the account' }),
  lockout_s: Type.Integer({ minimum: 1, maximum: DAY_S, default: 900, description: 'How long a lockout lasts' }),
  attempts_per_address: Type.Integer({ minimum: 1, default: 5, description: 'Sign-in and code attempts one address (an IPv6 /64) may make per window, one at a time; successful ones are not counted' }),
  attempts_window_s: Type.Integer({ minimum: 1, maximum: DAY_S, default: 900 }),
});

/** What the schema cannot say: the lockout needs failures from more than one address. */
function checkLimits(config: Static<typeof AuthConfig>): void {
  if (config.max_failures > config.attempts_per_address) return;
  throw new Error(
    `auth.max_failures (${config.max_failures}) must be more than auth.attempts_per_address (${config.attempts_per_address}), so that a single address cannot lock the account`,
  );
}

/** How often web sessions past their expiry are looked for, after the first time at start. */
const SWEEP_EVERY_MS = 3600 * 1000;

/** The routes a setup session (bootstrap password, or no TOTP yet) may use. */
const SETUP_ROUTES = new Set([authEndpoints.setPassword.url, authEndpoints.enrollTotp.url, authEndpoints.confirmTotp.url, authEndpoints.logout.url]);

const caller = ({ origin, headers }: Pick<RequestContext<unknown>, 'origin' | 'headers'>): Caller => ({ address: origin.address, secure: origin.secure, site: origin.site, headers });

export default definePlugin({
  name: 'auth',
  api: '^1.0.0',
  description: 'Sign-in for the TCP listener: password and TOTP, recovery codes, web sessions in cookies, rate limits and lockout',
  uses: [auditLogRef, secretStoreRef],
  config: AuthConfig,
  register(ctx) {
    checkLimits(ctx.config);
    let service: AuthService | undefined;
    let accessTokens: AccessTokens | undefined;
    const running = (): AuthService => {
      if (!service) throw new Error('the auth plugin has not started');
      return service;
    };
    const tokens = (): AccessTokens => {
      if (!accessTokens) throw new Error('the auth plugin has not started');
      return accessTokens;
    };

    ctx.migrations(migrations);
    ctx.hooks.tap(httpAuthenticate, (request) => {
      const token = bearerToken(request.headers);
      return token === undefined ? running().authenticate(request) : tokens().authenticate(token, request);
    });

    ctx.api.handle(authEndpoints.session, (request) => running().stageOf(caller(request)));
    ctx.api.handle(authEndpoints.login, (request) => running().login(request.body, caller(request), request.reply));
    ctx.api.handle(authEndpoints.logout, async (request) => {
      await running().logout(caller(request), request.reply);
      return { ok: true as const };
    });
    ctx.api.handle(authEndpoints.setPassword, async (request) => {
      await running().setPassword(request.body.password, caller(request));
      return { ok: true as const };
    });
    ctx.api.handle(authEndpoints.enrollTotp, (request) => running().enrollTotp(caller(request)));
    ctx.api.handle(authEndpoints.confirmTotp, (request) => running().confirmTotp(request.body.code, caller(request), request.reply));
    ctx.api.handle(authEndpoints.sessions, async (request) => ({ sessions: await running().list(caller(request)) }));
    ctx.api.handle(authEndpoints.revoke, async ({ params, origin }) => ({ revoked: await running().revoke(params.id, describeOrigin(origin)) }));
    ctx.api.handle(authEndpoints.status, () => running().status());
    ctx.api.handle(authEndpoints.createToken, ({ body, origin }) => tokens().create(body, describeOrigin(origin)));
    ctx.api.handle(authEndpoints.tokens, async () => ({ tokens: await tokens().list() }));
    ctx.api.handle(authEndpoints.revokeToken, async ({ params, origin }) => {
      const revoked = await tokens().revoke(params.id, describeOrigin(origin));
      return { revoked };
    });
    ctx.api.handle(authEndpoints.resetPassword, async ({ body, origin }) => {
      await running().resetPassword(body.password, describeOrigin(origin));
      return { ok: true as const };
    });
    ctx.api.handle(authEndpoints.resetMfa, async ({ origin }) => {
      await running().resetMfa(describeOrigin(origin));
      return { ok: true as const };
    });

    let sweeping: NodeJS.Timeout | undefined;
    return {
      async start() {
        const audit = ctx.services.get(auditLogRef);
        accessTokens = new AccessTokens({ store: ctx.store, audit: (event) => audit.record(event, 'auth'), closeWebSockets: (principal) => ctx.kernel.closeWebSockets(principal) });
        service = new AuthService({
          repo: new AuthRepository(ctx.store),
          secrets: ctx.services.get(secretStoreRef),
          settings: ctx.config,
          audit: (event) => audit.record(event, 'auth'),
          allowedInSetup: (route) => SETUP_ROUTES.has(route),
          closeWebSockets: (principal) => ctx.kernel.closeWebSockets(principal),
        });
        const sweep = (): void => {
          service?.endExpiredSessions().catch((error: unknown) => ctx.log.warn({ err: error }, 'could not remove expired web sessions; tried again later'));
        };
        sweep();
        sweeping = setInterval(sweep, SWEEP_EVERY_MS).unref();
        if (!ctx.kernel.webEnabled) return;
        const password = await service.bootstrapIfNeeded();
        if (password !== undefined) {
          ctx.kernel.notify(
            [
              'First run of the web listener: sign in with this one-time bootstrap password',
              `  ${password}`,
              'It is shown only now and allows nothing but choosing your password and enrolling TOTP.',
              'Lost it? Restart the daemon for a new one, or set a password with `codepiper auth reset-password`.',
            ].join('\n'),
          );
        }
      },
      stop() {
        clearInterval(sweeping);
      },
    };
  },
});
