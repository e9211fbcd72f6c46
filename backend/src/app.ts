/**
 * The HTTP app shared by legacy and durable modes: routes, auth, messages.
 * Modes differ only in the injected ingestor, broadcaster and validator.
 *
 * Faithful to a typical Express app (and so to the seed):
 *  - express.json() is app-level middleware that runs BEFORE the route, so a
 *    body that is not JSON gets body-parser's 400 and a body over the limit
 *    gets 413 before the API key is even looked at. Those errors are answered
 *    by Express's default error handler (an HTML page, not JSON).
 *  - a request without a JSON content type is not parsed at all: req.body is
 *    {} and, with a valid key, the answer is 400 "Missing or invalid vehicle_id".
 *  - express.json() is strict: a top-level JSON string/number is a 400 from
 *    body-parser; a top-level array reaches validation (arrays are objects).
 */
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import type { BackendConfig } from './config';
import { createHttpMetrics, type HttpMetrics, type RequestOutcome } from './httpMetrics';
import type { Broadcaster, Ingestor, ReceivedPayload, ValidateFn } from './interfaces';
import { describeError, type LogSink } from './jsonLog';
import type { LoadShedder } from './loadShedder';
import { mutantAcceptsApiKey } from './mutants';

export const TELEMETRY_PATH = '/api/v1/telemetry';
export const STREAM_PATH = '/api/v1/telemetry/stream';
export const HEALTH_PATH = '/api/v1/healthz';
export const METRICS_PATH = '/metrics';

export const API_KEY_HEADER = 'x-api-key';
export const UNAUTHORIZED_MESSAGE = 'Unauthorized: Invalid or missing API Key';
export const STREAM_UNAUTHORIZED_MESSAGE = 'Unauthorized: Invalid or missing token';
export const RECEIVED_MESSAGE = 'Telemetry received';
export const INTERNAL_ERROR_MESSAGE = 'Internal Server Error';
export const OVERLOADED_MESSAGE = 'Service Unavailable: overloaded, retry later';

export interface AppDeps {
  config: Pick<BackendConfig, 'apiKey' | 'bodyLimit' | 'sseToken' | 'backendVersion'>;
  ingestor: Ingestor;
  broadcaster: Broadcaster;
  validate: ValidateFn;
  /** Server clock in seconds since the epoch (float). Injected for tests. */
  now?: () => number;
  /** Defaults to a fresh one; pass your own to stop its event-loop monitor. */
  httpMetrics?: HttpMetrics;
  log?: LogSink;
  /** Durable mode: refuse ingest requests while the event loop is overloaded. */
  shedder?: LoadShedder;
}

const systemNowSec = () => Date.now() / 1000;

function bodyErrorOutcome(err: unknown): RequestOutcome {
  const type = (err as { type?: unknown })?.type;
  if (type === 'entity.too.large') return 'body_too_large';
  if (type === 'entity.parse.failed') return 'body_malformed';
  return 'body_rejected';
}

export function createApp(deps: AppDeps): Express {
  const { config, ingestor, broadcaster, validate } = deps;
  const now = deps.now ?? systemNowSec;
  const httpMetrics = deps.httpMetrics ?? createHttpMetrics();
  const log: LogSink = deps.log ?? (() => {});

  const app = express();
  app.disable('x-powered-by');
  if (deps.shedder) {
    const shedder = deps.shedder;
    // Before express.json(): a shed request costs no JSON parsing and no
    // validation. Node reads and discards the unread body before the next
    // request, so the keep-alive connection stays usable. Shedding comes
    // before the API-key check on purpose: it must stay cheap.
    app.post(TELEMETRY_PATH, (_req, res, next) => {
      if (!shedder.overloaded()) { next(); return; }
      httpMetrics.count('shed');
      res.set('Retry-After', String(shedder.retryAfterSec));
      res.status(503).json({ message: OVERLOADED_MESSAGE });
    });
  }
  app.use(express.json({ limit: config.bodyLimit }));

  app.post(TELEMETRY_PATH, async (req: Request, res: Response) => {
    if (req.header(API_KEY_HEADER) !== config.apiKey && !mutantAcceptsApiKey(req.header(API_KEY_HEADER), config.apiKey)) {
      httpMetrics.count('unauthorized');
      res.status(401).json({ message: UNAUTHORIZED_MESSAGE });
      return;
    }

    const result = validate(req.body, now());
    if (!result.ok) {
      httpMetrics.count('invalid');
      res.status(result.status).json({ message: result.message });
      return;
    }

    const payload = result.payload as ReceivedPayload;
    payload.serverReceiveTime = now();

    // Express 4 does not catch rejected promises: everything stays in here.
    try {
      const ingested = await ingestor.ingest(payload);
      if (ingested.kind === 'unavailable') {
        httpMetrics.count('unavailable');
        res.set('Retry-After', String(Math.max(0, Math.ceil(ingested.retryAfterSec))));
        res.status(503).json({ message: ingested.message });
        return;
      }
      if (ingested.kind === 'refused') {
        httpMetrics.count('conflict');
        res.status(ingested.status).json({ message: ingested.message });
        return;
      }
      broadcaster.broadcast(payload);
    } catch (err) {
      httpMetrics.count('error');
      log('ingest_error', { error: describeError(err), vehicle_id: payload.vehicle_id });
      res.status(500).json({ message: INTERNAL_ERROR_MESSAGE });
      return;
    }
    httpMetrics.count('accepted');
    res.status(200).json({ message: RECEIVED_MESSAGE });
  });

  app.get(STREAM_PATH, (req: Request, res: Response) => {
    // Production guards the stream with a JWT; here an optional static bearer token.
    if (config.sseToken !== undefined && req.header('authorization') !== `Bearer ${config.sseToken}`) {
      res.status(401).json({ message: STREAM_UNAUTHORIZED_MESSAGE });
      return;
    }
    broadcaster.addClient(res);
  });

  app.get(HEALTH_PATH, (_req: Request, res: Response) => {
    res.json({ status: 'ok', uptime: process.uptime(), version: config.backendVersion });
  });

  app.get(METRICS_PATH, (_req: Request, res: Response) => {
    const text = (ingestor.metrics?.() ?? '') + (broadcaster.metrics?.() ?? '') + httpMetrics.text();
    res.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });

  // Count body-parser rejections on the ingest route, then let Express's
  // default handler answer exactly as it would without us (faithful).
  const countBodyErrors: ErrorRequestHandler = (err, req, _res, next) => {
    if (req.path === TELEMETRY_PATH) httpMetrics.count(bodyErrorOutcome(err));
    next(err);
  };
  app.use(countBodyErrors);

  return app;
}
