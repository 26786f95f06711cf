// Writes the results of one test file as JSON to $CODEPIPER_SUMMARY_FILE: how many
// passed and were skipped, and the names of the tests that failed (scripts/run-tests.mjs matches them
// against the quarantine list and prints the closing line CI reads).
import { writeFileSync } from 'node:fs';

export default async function* summary(source) {
  const result = { passed: 0, skipped: 0, failures: [] };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    if (event.data.skip || event.data.todo) result.skipped += 1;
    else if (event.type === 'test:pass') result.passed += 1;
    else result.failures.push(event.data.name);
  }
  writeFileSync(process.env.CODEPIPER_SUMMARY_FILE, JSON.stringify(result));
  yield '';
}
