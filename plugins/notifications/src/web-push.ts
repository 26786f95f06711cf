import type WebPush from 'web-push';

/**
 * web-push, loaded when first used (a key pair made on the first start, a
 * notification sent): with its JWT, ASN.1 and big-number code it is a tenth
 * of what a daemon would otherwise compile at every start.
 */
let loading: Promise<typeof WebPush> | undefined;

export const loadWebPush = (): Promise<typeof WebPush> => (loading ??= import('web-push').then((module) => module.default));
