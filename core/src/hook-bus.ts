import { isCodePiperError, type HookKind, type HookRef, type Logger, type PluginHooks, type TapOptions } from '@codepiper/sdk';
import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook } from 'tapable';
import { messageOf } from './errors.js';

/** What the kernel needs of a tapable hook, whatever its kind. */
interface TapableHook {
  readonly taps: readonly { name: string }[];
  tapPromise(options: { name: string; stage?: number }, fn: (payload: unknown) => Promise<unknown>): void;
  promise(payload: unknown): Promise<unknown>;
}

const createHook: Record<HookKind, (name: string) => TapableHook> = {
  parallel: (name) => new AsyncParallelHook<[unknown]>(['payload'], name),
  series: (name) => new AsyncSeriesHook<[unknown]>(['payload'], name),
  bail: (name) => new AsyncSeriesBailHook<[unknown], unknown>(['payload'], name),
  waterfall: (name) => new AsyncSeriesWaterfallHook<[unknown]>(['payload'], name),
};

/** Notifications isolate their taps' failures; questions and transforms report them to the caller. */
const isNotification = (kind: HookKind): boolean => kind === 'parallel' || kind === 'series';

/** A hook as documented in the hook catalog. */
export interface HookInfo {
  name: string;
  kind: HookKind;
  owner: string;
  description: string;
  /** The tapping plugins, in the order their taps run. */
  taps: string[];
}

/** A bail or waterfall tap failed (other than with a `CodePiperError`); the message starts with the plugin's name. */
export class HookTapError extends Error {
  constructor(
    readonly plugin: string,
    readonly hook: string,
    cause: unknown,
  ) {
    super(`${plugin}: ${messageOf(cause)}`, { cause });
    this.name = 'HookTapError';
  }
}

type AnyHookRef = HookRef<unknown, unknown>;

/** The typed hook bus: each `HookRef` is backed by a tapable hook of its kind, created on first use. */
export class HookBus {
  private readonly hooks = new Map<string, { ref: AnyHookRef; hook: TapableHook }>();

  /**
   * The bus as `plugin` sees it: its taps are named after it, and a failing
   * notification tap is logged on `log`, the plugin's own logger.
   */
  forPlugin(plugin: string, log: Logger): PluginHooks {
    return {
      tap: (ref, fn, options) => this.tap(plugin, log, ref as AnyHookRef, fn as (payload: unknown) => unknown, options),
      call: (ref, payload) => this.call(ref, payload),
    };
  }

  call<P, R>(ref: HookRef<P, R>, payload: P): Promise<R> {
    return this.hookFor(ref as AnyHookRef).promise(payload) as Promise<R>;
  }

  catalog(): HookInfo[] {
    return [...this.hooks.values()].map(({ ref, hook }) => ({
      name: ref.name,
      kind: ref.kind,
      owner: ref.owner,
      description: ref.description,
      taps: hook.taps.map((tap) => tap.name),
    }));
  }

  private tap(plugin: string, log: Logger, ref: AnyHookRef, fn: (payload: unknown) => unknown, options: TapOptions = {}): void {
    const guarded = isNotification(ref.kind)
      ? async (payload: unknown) => {
          try {
            await fn(payload);
          } catch (error) {
            log.error({ err: error, hook: ref.name }, `hook tap failed: ${messageOf(error)}`);
          }
        }
      : async (payload: unknown) => {
          try {
            return await fn(payload);
          } catch (error) {
            // A refusal with a code of the catalog is the answer, as the tap meant it (a start outside a repository: 400).
            if (isCodePiperError(error)) throw error;
            throw new HookTapError(plugin, ref.name, error);
          }
        };
    this.hookFor(ref).tapPromise({ name: plugin, stage: options.stage }, guarded);
  }

  private hookFor(ref: AnyHookRef): TapableHook {
    const known = this.hooks.get(ref.name);
    if (known) {
      if (known.ref.kind !== ref.kind) {
        throw new Error(`hook "${ref.name}" is a ${known.ref.kind} hook; it was used as a ${ref.kind} hook`);
      }
      return known.hook;
    }
    const hook = createHook[ref.kind](ref.name);
    this.hooks.set(ref.name, { ref, hook });
    return hook;
  }
}
