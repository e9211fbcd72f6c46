import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeJsonReport } from '../reports/writers/json';
import { sampleReport } from '../reports/writers/testing/sampleReport';
import { main } from './cli';

const argv = (...a: string[]): string[] => ['node', 'telemetry-proof', ...a];

describe('telemetry-proof CLI', () => {
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  afterEach(() => { err.mockClear(); out.mockClear(); });
  const printed = (): string => [...err.mock.calls, ...out.mock.calls].map((c) => String(c[0])).join('');

  it('lists scenarios and network profiles', async () => {
    expect(await main(argv('list'))).toBe(0);
    expect(printed()).toMatch(/sustained-10hz/);
    expect(printed()).toMatch(/flaky/);
  });

  it('exits 1 with a clear message on a usage or configuration error', async () => {
    expect(await main(argv('run', 'no-such-scenario'))).toBe(1);
    expect(printed()).toMatch(/unknown scenario "no-such-scenario"/);
    expect(await main(argv('run', 'sustained-10hz', '--target', 'http://192.168.1.10:3000', '--api-key', 'super-secret-key', '--influx-url', 'http://127.0.0.1:1', '--influx-db', 't'))).toBe(1);
    expect(printed()).toMatch(/not a loopback address/);
    expect(printed()).not.toContain('super-secret-key');
    expect(await main(argv('bogus-command'))).toBe(1);
  });

  it('exits 2 (infrastructure) when the target is unreachable, and never prints the API key', async () => {
    expect(await main(argv('run', 'sustained-10hz', '--no-warmup', '--quiet', '--target', 'http://127.0.0.1:1', '--api-key', 'super-secret-key', '--influx-url', 'http://127.0.0.1:1', '--influx-db', 't'))).toBe(2);
    expect(printed()).toMatch(/infrastructure error: the backend is not reachable/);
    expect(printed()).not.toContain('super-secret-key');
  });

  it('report re-renders a run.json and exits with the run\'s own code (99 on a breach)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-report-'));
    const report = sampleReport();
    expect(report.exitCode).toBe(99);
    const path = await writeJsonReport(report, dir);
    expect(await main(argv('report', path))).toBe(99);
    for (const f of ['report.md', 'report.html', 'junit.xml']) expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(/failures="[1-9]/);
    const passing = mkdtempSync(join(tmpdir(), 'tp-report-'));
    expect(await main(argv('report', await writeJsonReport(sampleReport({}, []), passing)))).toBe(0);
  });
});
