/**
 * A mocha root hook plugin that runs every suite's tests, and its child suites, in reverse order: loaded with
 * `--require test/support/reverse-order.hooks.ts` (test/isolation.ts does), it shows that no test depends on
 * what an earlier test of its file left behind. Hooks keep their order (a `before` still runs first).
 */
import type { Suite } from 'mocha';

function reverse(suite: Suite): void {
  suite.tests.reverse();
  suite.suites.reverse();
  for (const child of suite.suites) reverse(child);
}

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    // The root suite: nothing of it has run yet but this hook.
    let suite = this.test?.parent;
    while (suite?.parent) suite = suite.parent;
    if (suite) reverse(suite);
  },
};
