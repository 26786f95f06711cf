import { CODEPIPER_VERSION } from '@codepiper/sdk';
import { useCompileCache } from './compile-cache.js';

const argv = process.argv.slice(2);

// A bare --version, which scripts call often, is answered before the program (and the API schemas it needs) is loaded.
// No top-level await: the bundle is CommonJS (see rolldown.config.mjs).
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  process.stdout.write(`${CODEPIPER_VERSION}\n`);
} else {
  useCompileCache(import.meta.dirname);
  // `codepiper events -f | head` closes our stdout early: that is a normal end.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  void import('./program.js')
    .then(({ run }) => run(argv))
    .then((code) => {
      process.exitCode = code;
    });
}
