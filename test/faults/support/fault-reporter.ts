import type { Reporter, TestModule } from 'vitest/node';

/** Ends the fault suite with `faults: N survived of M, L lost, O orphaned`. */
export default class FaultReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    let survived = 0;
    let total = 0;
    let lost = 0;
    let orphaned = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'skipped' || state === 'pending') continue;
        total += 1;
        if (state === 'passed') survived += 1;
        const fault = test.meta().fault;
        lost += fault?.lost ?? 0;
        orphaned += fault?.orphaned ?? 0;
      }
    }
    process.stdout.write(`\nfaults: ${survived} survived of ${total}, ${lost} lost, ${orphaned} orphaned\n`);
  }
}
