import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 *  - unit: pure functions and our own HTTP clients (msw allowed), no services;
 *  - stack: integration tests and properties against the real stack
 *    (InfluxDB, Toxiproxy, backend), started once per run by the global setup.
 * `npx vitest properties` selects the property suites by path.
 */
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{backend,models,runners,chaos,reports,properties,scripts,test}/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.int.test.ts', 'properties/**/*.prop.test.ts', 'reports/failures/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'stack',
          // reports/failures/<id>/repro.test.ts: reproductions written by failing properties (git-ignored).
          include: ['{backend,models,runners,chaos,reports,test}/**/*.int.test.ts', 'properties/**/*.prop.test.ts', 'reports/failures/**/repro.test.ts'],
          globalSetup: ['runners/stack/vitest-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One stack is shared per run: run its suites one file at a time so
          // faults and load from one suite never disturb another's numbers.
          fileParallelism: false,
        },
      },
    ],
  },
});
