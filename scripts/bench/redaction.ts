import { redactionRules } from '#core/log-redaction.js';
import { fullLengthLine, redactionFragments, taskSecrets } from './adversarial-lines.js';
import { duration, Report } from './report.js';
import { summarize } from './stats.js';

/**
 * `npm run bench:redaction`: each redaction rule on every adversarial 16 KB line made of one or
 * two fragments, the fastest of several runs of each (preemption only adds time; backtracking
 * makes every run slow). Target: at most 2 ms per rule and line.
 */
const runs = 7;
const targetMs = 2;

const patterns = redactionFragments.flatMap((first) => redactionFragments.map((second) => [first, second]));
const report = new Report();
let worstOverall = 0;
for (const rule of redactionRules) {
  const fastestOfEach: number[] = [];
  for (const pattern of patterns) {
    const line = fullLengthLine(pattern);
    let fastest = Infinity;
    for (let run = 0; run < runs; run += 1) {
      const started = performance.now();
      rule.apply(line, taskSecrets);
      fastest = Math.min(fastest, performance.now() - started);
    }
    fastestOfEach.push(fastest);
  }
  const slowest = Math.max(...fastestOfEach);
  worstOverall = Math.max(worstOverall, slowest);
  report.percentiles.push({
    name: `redaction: ${rule.name}`,
    summary: summarize(fastestOfEach),
    showP99: true,
    target: `every line ≤ ${targetMs} ms`,
    met: slowest <= targetMs,
  });
}
report.values.push({
  name: `redaction: slowest rule on any of ${patterns.length} lines`,
  value: duration(worstOverall),
  target: `≤ ${targetMs} ms`,
  met: worstOverall <= targetMs,
});
report.print();
process.exitCode = worstOverall <= targetMs ? 0 : 1;
