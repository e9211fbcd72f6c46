/**
 * Stack configuration: from environment variables (TP_*) and/or a JSON config
 * file (TP_CONFIG), validated with zod. Every bad value gives an error that
 * names where it came from (the variable or the file key) and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://');

const ManagedSchema = z.object({
  mode: z.enum(['legacy', 'durable']).default('legacy'),
  /** The WriteApi flush interval of the reference backend (legacy default 60 000). */
  flushIntervalMs: positiveInt.optional(),
  env: z.record(z.string(), z.string()).default({}),
});

const CommandSchema = z.object({
  /** Shell command that starts the backend (run with `sh -c`). */
  run: z.string().min(1),
  cwd: z.string().optional(),
  portEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('PORT'),
  influxUrlEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('INFLUX_URL'),
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default('API_KEY'),
  readyPath: z.string().startsWith('/', 'must start with /').default('/api/v1/healthz'),
  env: z.record(z.string(), z.string()).default({}),
});

const ExternalSchema = z
  .object({
    backendUrl: httpUrl,
    influxUrl: httpUrl,
    /** 1.x database, or the DBRP-mapped database of a 2.x bucket for /query. */
    influxDb: z.string().min(1).optional(),
    influxOrg: z.string().min(1).optional(),
    influxBucket: z.string().min(1).optional(),
    influxToken: z.string().min(1).optional(),
    toxiproxyUrl: httpUrl.optional(),
    sseToken: z.string().min(1).optional(),
  })
  .refine((e) => e.influxDb || e.influxBucket, {
    message: 'needs influxDb (1.x) or influxBucket (2.x)',
    path: ['influxDb'],
  });

export const StackConfigSchema = z
  .object({
    target: z.enum(['managed', 'command', 'external']).default('managed'),
    apiKey: z.string().min(1).optional(),
    /** InfluxDB database the managed stack creates and the backend writes to. */
    database: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('telemetry'),
    runDir: z.string().min(1).optional(),
    /** Keep the run folder (logs, data) after teardown. */
    keepRunDir: z.boolean().default(false),
    allowRemote: z.boolean().default(false),
    managed: ManagedSchema.default({ mode: 'legacy', env: {} }),
    command: CommandSchema.optional(),
    external: ExternalSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.target === 'command' && !c.command)
      ctx.addIssue({ code: 'custom', path: ['command', 'run'], message: 'is required when target is "command"' });
    if (c.target === 'external' && !c.external)
      ctx.addIssue({ code: 'custom', path: ['external', 'backendUrl'], message: 'is required when target is "external"' });
    if (c.target === 'external' && c.external && !c.apiKey)
      ctx.addIssue({ code: 'custom', path: ['apiKey'], message: 'is required when target is "external"' });
    if (c.external && !c.allowRemote) {
      for (const key of ['backendUrl', 'influxUrl', 'toxiproxyUrl'] as const) {
        const u = c.external[key];
        if (u && !isLoopbackUrl(u))
          ctx.addIssue({
            code: 'custom',
            path: ['external', key],
            message: `${u} is not a loopback address; a load test must never hit production by accident (set allowRemote, TP_ALLOW_REMOTE=1 or --allow-remote to override)`,
          });
      }
    }
  });

export type StackConfig = z.infer<typeof StackConfigSchema>;

export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Environment variable -> path in the config object. */
export const ENV_KEYS: Record<string, string[]> = {
  TP_TARGET: ['target'],
  TP_API_KEY: ['apiKey'],
  TP_DATABASE: ['database'],
  TP_RUN_DIR: ['runDir'],
  TP_KEEP_RUN_DIR: ['keepRunDir'],
  TP_ALLOW_REMOTE: ['allowRemote'],
  TP_BACKEND_MODE: ['managed', 'mode'],
  TP_FLUSH_INTERVAL_MS: ['managed', 'flushIntervalMs'],
  TP_BACKEND_CMD: ['command', 'run'],
  TP_BACKEND_CWD: ['command', 'cwd'],
  TP_BACKEND_PORT_ENV: ['command', 'portEnv'],
  TP_BACKEND_INFLUX_URL_ENV: ['command', 'influxUrlEnv'],
  TP_BACKEND_API_KEY_ENV: ['command', 'apiKeyEnv'],
  TP_BACKEND_READY_PATH: ['command', 'readyPath'],
  TP_BACKEND_ENV: ['command', 'env'],
  TP_BACKEND_URL: ['external', 'backendUrl'],
  TP_INFLUX_URL: ['external', 'influxUrl'],
  TP_INFLUX_DB: ['external', 'influxDb'],
  TP_INFLUX_ORG: ['external', 'influxOrg'],
  TP_INFLUX_BUCKET: ['external', 'influxBucket'],
  TP_INFLUX_TOKEN: ['external', 'influxToken'],
  TP_TOXIPROXY_URL: ['external', 'toxiproxyUrl'],
  TP_SSE_TOKEN: ['external', 'sseToken'],
};

const BOOLEAN_ENV = new Set(['TP_KEEP_RUN_DIR', 'TP_ALLOW_REMOTE']);
const JSON_ENV = new Set(['TP_BACKEND_ENV']);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid telemetry-proof configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

/**
 * Build the configuration: file (TP_CONFIG or `file`) first, environment on
 * top. Throws ConfigError listing every problem, each named by its source.
 * `base` is an already-read object used when there is no file (e.g. the
 * `stack` section of the telemetry-proof CLI's config file), named by `label`.
 */
export function loadStackConfig(
  env: NodeJS.ProcessEnv = process.env,
  file = env.TP_CONFIG,
  base?: { raw: Record<string, unknown>; label: string },
): StackConfig {
  const problems: string[] = [];
  const sources = new Map<string, string>(); // config path -> where it came from
  let raw: Record<string, unknown> = base && !file ? structuredClone(base.raw) : {};
  const fileLabel = file ?? base?.label;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        problems.push(`${file}: must hold a JSON object`);
      } else raw = parsed as Record<string, unknown>;
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
    }
  }
  for (const [name, path] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    sources.set(path.join('.'), name);
    if (BOOLEAN_ENV.has(name)) {
      if (!/^(1|0|true|false|yes|no)$/i.test(value)) {
        problems.push(`${name}: expected 1/0/true/false, got ${JSON.stringify(value)}`);
        continue;
      }
      setPath(raw, path, /^(1|true|yes)$/i.test(value));
    } else if (JSON_ENV.has(name)) {
      try {
        setPath(raw, path, JSON.parse(value));
      } catch {
        problems.push(`${name}: expected a JSON object of strings, got ${JSON.stringify(value)}`);
      }
    } else setPath(raw, path, value);
  }
  // Variables that make sense for only one target imply it.
  if (!env.TP_TARGET && raw.target === undefined) {
    if (env.TP_BACKEND_CMD) raw.target = 'command';
    else if (env.TP_BACKEND_URL) raw.target = 'external';
  }
  if (problems.length) throw new ConfigError(problems);
  const result = StackConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const where = sources.get(key) ?? (fileLabel ? `${fileLabel}: ${key}` : key);
        return `${where}: ${issue.message}`;
      }),
    );
  }
  return result.data;
}
