import { auditEndpoints, auditLogRef } from '@codepiper/audit-contract';
import { definePlugin } from '@codepiper/sdk';
import { migrations } from './migrations.js';
import { AuditTrail } from './trail.js';

export { AuditTrail } from './trail.js';

export default definePlugin({
  name: 'audit',
  api: '^1.0.0',
  description: 'The append-only audit trail: every permission decision and security event (logins, lockouts, changed passwords and secrets)',
  provides: [auditLogRef],
  register(ctx) {
    let trail: AuditTrail | undefined;
    const running = (): AuditTrail => {
      if (!trail) throw new Error('the audit plugin has not started');
      return trail;
    };
    ctx.migrations(migrations);
    ctx.services.provide(auditLogRef, running);
    ctx.api.handle(auditEndpoints.list, async ({ query }) => ({ entries: await running().query(query) }));
    return {
      start() {
        trail = new AuditTrail(ctx.store);
      },
    };
  },
});
