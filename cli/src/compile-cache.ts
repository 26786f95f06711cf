import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { crc32 } from 'node:zlib';

/**
 * V8's compiled code for the bundle's chunks, kept between runs as Node 22's
 * `module.enableCompileCache()` keeps it (Node 20 has no such thing).
 * Compiling the daemon's 2.5 MB of JavaScript took ~100 ms of each start
 * (bench/src/startup.ts), and most of that again as functions first ran.
 *
 * A chunk's code is written once it has run a while (functions compiled as
 * they were first called are in it): after a second, or as the process exits.
 * It is found again by the chunk's size and modification time, so a rebuilt
 * bundle never meets the code of the last one (V8's own check is weaker).
 * Each file starts with the CRC-32 of the code: V8 checks only a code
 * cache's header (its version, flags, the source's length), and a damaged
 * body would run. Anything wrong with the cache (unwritable, damaged, refused
 * by V8) only means compiling as before.
 */

interface CompilingModule {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

const WRITE_AFTER_MS = 1000;
/** An import() left in a chunk: the bundler turned each of our own into a require. */
const DYNAMIC_IMPORT = /\bimport\(/;

/** Private to this user, per Node version (V8 refuses code made by another); undefined when there can be none. */
function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return privateDir(env);
  } catch {
    return undefined;
  }
}

function privateDir(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  const codepiper = path.join(base, 'codepiper');
  const dir = path.join(codepiper, `v8-${process.version}-${process.arch}`);
  // One level at a time: Node 20's recursive mkdir never returns on some paths (under /proc).
  for (const level of [base, codepiper, dir]) {
    try {
      mkdirSync(level, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const { uid, mode } = statSync(dir);
  // Code loaded from here runs as ours: a directory others can write to is not used.
  return uid === process.getuid?.() && (mode & 0o022) === 0 ? dir : undefined;
}

/** The code cached in `file`, if it is there and its checksum holds. */
function intact(file: string): Buffer | undefined {
  try {
    const stored = readFileSync(file);
    const code = stored.subarray(4);
    return stored.length > 4 && stored.readUInt32BE(0) === crc32(code) ? code : undefined;
  } catch {
    return undefined; // not cached yet
  }
}

/** Compiles the chunks under `bundleDir` with their cached code, and caches what it compiles anew. */
export function useCompileCache(bundleDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const cache = cacheDir(env);
  if (!cache) return;
  const unsaved: { script: vm.Script; file: string; chunk: string }[] = [];
  const prototype = Module.prototype as unknown as CompilingModule;
  const compile = prototype._compile;

  prototype._compile = function (this: CompilingModule, content: string, filename: string) {
    // Node 20 loses the import() callback of code it takes from a cache: what imports at run time is compiled as always.
    if (path.dirname(filename) !== bundleDir || DYNAMIC_IMPORT.test(content)) return compile.call(this, content, filename);
    const chunk = path.basename(filename);
    const { size, mtimeMs } = statSync(filename);
    const file = path.join(cache, `${chunk}.${size}.${Math.trunc(mtimeMs)}`);
    const cachedData = intact(file);
    const script = new vm.Script(Module.wrap(content), { filename, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
    if (cachedData === undefined || script.cachedDataRejected) unsaved.push({ script, file, chunk });
    const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => unknown;
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, bundleDir);
  };

  const save = (): void => {
    for (const { script, file, chunk } of unsaved.splice(0)) {
      try {
        const partial = `${file}.${process.pid}`;
        const code = script.createCachedData();
        const checksum = Buffer.alloc(4);
        checksum.writeUInt32BE(crc32(code));
        writeFileSync(partial, Buffer.concat([checksum, code]), { mode: 0o600 });
        renameSync(partial, file);
        // The code of the chunk's earlier builds is of no more use.
        for (const old of readdirSync(cache)) if (old.startsWith(`${chunk}.`) && path.join(cache, old) !== file) rmSync(path.join(cache, old), { force: true });
      } catch {
        // a cache not kept: the next run compiles again
      }
    }
  };
  setTimeout(save, WRITE_AFTER_MS).unref();
  process.once('exit', save);
}
