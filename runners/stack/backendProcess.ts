/**
 * Starting the system under test as a child process wired through the
 * proxies: the reference backend, or any backend given as a command plus the
 * names of the environment variables it reads for its port and InfluxDB URL.
 */
import { join } from 'node:path';
import { ManagedProcess } from './managedProcess';
import { freePort, LOOPBACK, pollUntil } from './net';
import { PROJECT_ROOT } from './executables';

export type BackendSpec =
  | {
      kind: 'reference';
      mode: 'legacy' | 'durable';
      flushIntervalMs?: number;
      /** Extra environment (e.g. BODY_LIMIT, SSE_TOKEN, BACKEND_MUTANT). */
      env?: Record<string, string>;
    }
  | {
      kind: 'command';
      run: string;
      cwd?: string;
      portEnv: string;
      influxUrlEnv: string;
      apiKeyEnv: string;
      readyPath: string;
      env?: Record<string, string>;
    };

export interface BackendWiring {
  apiKey: string;
  /** What the backend writes to: normally the `influx` proxy. */
  influxUrl: string;
  influxDb: string;
  influxOrg?: string;
  influxToken?: string;
  runDir: string;
  logsDir: string;
  /** Reuse a port (restarts keep the port so the `ingest` proxy stays valid). */
  port?: number;
  /** Log file name, to keep several backends' logs apart. */
  logName?: string;
}

export interface BackendHandle {
  process: ManagedProcess;
  port: number;
  directUrl: string;
  spec: BackendSpec;
}

const REFERENCE_ENTRY = join(PROJECT_ROOT, 'backend', 'src', 'server.ts');

async function answersAtAll(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.status < 500;
}

export async function startBackend(spec: BackendSpec, wiring: BackendWiring): Promise<BackendHandle> {
  const port = wiring.port ?? (await freePort());
  const directUrl = `http://${LOOPBACK}:${port}`;
  const logFile = join(wiring.logsDir, wiring.logName ?? 'backend.log');
  let command: string;
  let args: string[];
  let env: NodeJS.ProcessEnv;
  let readyPath: string;
  if (spec.kind === 'reference') {
    command = process.execPath;
    args = ['--import', 'tsx', REFERENCE_ENTRY];
    env = {
      ...process.env,
      HOST: LOOPBACK,
      PORT: String(port),
      API_KEY: wiring.apiKey,
      INFLUX_URL: wiring.influxUrl,
      INFLUX_BUCKET: wiring.influxDb,
      INFLUX_ORG: wiring.influxOrg ?? 'app-org',
      INFLUX_TOKEN: wiring.influxToken ?? '',
      INGEST_MODE: spec.mode,
      DATA_DIR: join(wiring.runDir, 'backend-data'),
      ...(spec.flushIntervalMs ? { INFLUX_FLUSH_INTERVAL_MS: String(spec.flushIntervalMs) } : {}),
      ...spec.env,
    };
    readyPath = '/api/v1/healthz';
  } else {
    command = '/bin/sh';
    args = ['-c', spec.run];
    env = {
      ...process.env,
      ...spec.env,
      [spec.portEnv]: String(port),
      [spec.influxUrlEnv]: wiring.influxUrl,
      [spec.apiKeyEnv]: wiring.apiKey,
    };
    readyPath = spec.readyPath;
  }
  const proc = new ManagedProcess({
    name: 'backend',
    command,
    args,
    env,
    cwd: spec.kind === 'command' ? (spec.cwd ?? process.cwd()) : PROJECT_ROOT,
    logFile,
    waitReady: (signal) => pollUntil(() => answersAtAll(`${directUrl}${readyPath}`), signal, 50),
    readyTimeoutMs: 60_000,
  });
  await proc.start();
  return { process: proc, port, directUrl, spec };
}
