import { run } from './program.js';

// `codepiper events -f | head` closes our stdout early: that is a normal end.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

process.exitCode = await run(process.argv.slice(2));
