/**
 * Structured logging: one JSON object per line on stdout, so the harness and
 * humans can grep/parse back-pressure symptoms (`jq 'select(.event==...)'`).
 */

export type LogFields = Record<string, unknown>;

/** Where log events go. Injected everywhere so tests can capture them. */
export type LogSink = (event: string, fields?: LogFields) => void;

/** Errors are not JSON-serialisable as-is; keep what helps a reader. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const text = err.message || err.name;
    // fetch() says only "fetch failed"; the reason (ECONNREFUSED...) is in cause.
    return err.cause !== undefined ? `${text} (${describeError(err.cause)})` : text;
  }
  return String(err);
}

export function jsonLine(event: string, fields: LogFields = {}): string {
  return `${JSON.stringify({ event, ...fields, ts: new Date().toISOString() })}\n`;
}

export const stdoutLog: LogSink = (event, fields) => {
  process.stdout.write(jsonLine(event, fields));
};

/** A sink that keeps events in memory (tests). */
export function memoryLog(): LogSink & { events: Array<{ event: string } & LogFields> } {
  const events: Array<{ event: string } & LogFields> = [];
  const sink = ((event: string, fields: LogFields = {}) => {
    events.push({ event, ...fields });
  }) as LogSink & { events: typeof events };
  sink.events = events;
  return sink;
}
