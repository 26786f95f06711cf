/**
 * Hooks have meaning in their kind:
 * - `parallel`: a notification fanned out to every tap at once; a failing tap
 *   is logged with its plugin's name and does not stop the others.
 * - `series`: a notification run tap after tap, in stage order; failures are
 *   isolated the same way.
 * - `bail`: a question; taps run in stage order and the first one that
 *   returns a value other than `undefined` decides. An error propagates to the
 *   caller, which must fail safe.
 * - `waterfall`: a transform; each tap receives the previous tap's result.
 */
export type HookKind = 'parallel' | 'series' | 'bail' | 'waterfall';

export interface HookRef<Payload, Result = void> {
  readonly name: string;
  readonly kind: HookKind;
  /** When the hook fires, for the hook catalog. */
  readonly description: string;
  /** The plugin (or `kernel`) that calls the hook. */
  readonly owner: string;
  /** The payload's type as exported by the SDK (a bail hook: `Payload → Verdict`), for the hook catalog. */
  readonly payload: string;
  readonly __payload?: Payload;
  readonly __result?: Result;
}

/** Named stages order taps within one hook; lower runs first. */
export const Stage = Object.freeze({
  FIRST: -1000,
  EARLY: -100,
  NORMAL: 0,
  LATE: 100,
  LAST: 1000,
});

export interface HookSpec {
  /** Dotted and prefixed by the owner's area: `sessions.checkInput`. */
  name: string;
  /** When the hook fires and what its result means. */
  description: string;
  owner: string;
  /** The payload's type name, as the SDK exports it; a bail hook adds its verdict: `InputCheck → InputVerdict`. */
  payload: string;
}

export function defineParallelHook<P>(spec: HookSpec): HookRef<P, void> {
  return Object.freeze({ ...spec, kind: 'parallel' as const });
}

export function defineSeriesHook<P>(spec: HookSpec): HookRef<P, void> {
  return Object.freeze({ ...spec, kind: 'series' as const });
}

/** A bail hook's taps return `undefined` to pass, anything else to decide. */
export function defineBailHook<P, R>(spec: HookSpec): HookRef<P, R | undefined> {
  return Object.freeze({ ...spec, kind: 'bail' as const });
}

export function defineWaterfallHook<P>(spec: HookSpec): HookRef<P, P> {
  return Object.freeze({ ...spec, kind: 'waterfall' as const });
}

export type HookTap<P, R> = (payload: P) => R extends void ? void | Promise<void> : R | Promise<R>;

export interface TapOptions {
  /** See `Stage`; defaults to `Stage.NORMAL`. */
  stage?: number;
}

/** The hook bus as a plugin sees it: every tap is named after the plugin. */
export interface PluginHooks {
  tap<P, R>(hook: HookRef<P, R>, fn: (payload: P) => R | Promise<R>, options?: TapOptions): void;
  call<P, R>(hook: HookRef<P, R>, payload: P): Promise<R>;
}
