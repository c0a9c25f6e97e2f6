import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

/** Whether a test's suite, or any suite around it, or its file, failed on its own (a beforeAll that threw). */
function inFailedSuite(test: TestCase): boolean {
  for (let at: TestSuite | TestModule = test.parent; ; at = at.parent) {
    if (at.errors().length > 0) return true;
    if (at.type === 'module') return false;
  }
}

/**
 * Prints the plain closing line CI reads, `N passed, N failed`, after Vitest's own summary. A test that did not
 * run because its suite failed to start (a beforeAll that threw: no browser, no server) counts as failed, not
 * skipped; so do a file that does not even load and unhandled errors: none of them can pass silently.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      let tests = 0;
      for (const test of module.children.allTests()) {
        tests++;
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed' || inFailedSuite(test)) failed++;
        else skipped++;
      }
      if (tests === 0 && (module.state() === 'failed' || module.errors().length > 0)) failed++;
    }
    failed += unhandledErrors.length;
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
