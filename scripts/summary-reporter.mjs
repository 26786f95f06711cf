// Writes the results of one test file as JSON to $CODEPIPER_SUMMARY_FILE: how many
// passed and were skipped, and the tests that failed with the start of their error (scripts/run-tests.mjs
// matches the names against the quarantine list and prints the closing lines CI reads).
import { writeFileSync } from 'node:fs';

export default async function* summary(source) {
  const result = { passed: 0, skipped: 0, failures: [] };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') {
      // A suite fails on its own when one of its hooks or its own body threw; its tests then say no more than "cancelled".
      const error = event.data.details.error;
      if (event.type === 'test:fail' && error?.failureType !== 'subtestsFailed') {
        const where = error?.failureType === 'hookFailed' ? 'a hook of the suite' : 'the suite itself';
        result.failures.push({ name: `${event.data.name} (${where})`, detail: describe(error) });
      }
      continue;
    }
    if (event.data.skip || event.data.todo) result.skipped += 1;
    else if (event.type === 'test:pass') result.passed += 1;
    else result.failures.push({ name: event.data.name, detail: describe(event.data.details?.error) });
  }
  writeFileSync(process.env.CODEPIPER_SUMMARY_FILE, JSON.stringify(result));
  yield '';
}

/** The first lines of a failure's error and where it was thrown: what a CI log that keeps only its tail must still show. */
function describe(error) {
  const cause = error?.cause ?? error;
  if (!(cause instanceof Error)) return String(cause);
  const where = (cause.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ')).slice(0, 3);
  return [...cause.message.split('\n').slice(0, 40), ...where].filter((line) => line.trim() !== '').join('\n');
}
