// Counts results per test file and writes them as JSON to $CODEPIPER_SUMMARY_FILE;
// scripts/run-tests.mjs prints the closing line CI reads ("N passed, N failed, N skipped").
import { writeFileSync } from 'node:fs';

export default async function* summary(source) {
  const byFile = {};
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    const counts = (byFile[event.data.file ?? '?'] ??= { passed: 0, failed: 0, skipped: 0 });
    if (event.data.skip || event.data.todo) counts.skipped += 1;
    else if (event.type === 'test:pass') counts.passed += 1;
    else counts.failed += 1;
  }
  writeFileSync(process.env.CODEPIPER_SUMMARY_FILE, JSON.stringify(byFile));
  yield '';
}
