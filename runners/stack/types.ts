/** What a running stack hands back: every URL and handle a test needs. */
import type { BackendSpec } from './backendProcess';

export interface InfluxTarget {
  /** Base URL the backend writes to (normally the `influx` proxy). */
  url: string;
  /** Base URL of InfluxDB itself, for probes (never through a toxic). */
  directUrl: string;
  /** Major version reported by /ping (1 or 2). */
  major: 1 | 2;
  version: string;
  /** 1.x database (and, for 2.x, the DBRP-mapped database name for /query). */
  db: string;
  /** 2.x only. */
  org?: string;
  bucket?: string;
  token?: string;
  /** Managed stacks: the influxd pid (for stalls with SIGSTOP/SIGCONT). */
  pid?: number;
}

export interface ProxyInfo {
  /** 'influx' and 'ingest' for the shared stack; suffixed for a suite's own backend. */
  name: string;
  /** host:port the proxy listens on. */
  listen: string;
  /** host:port it forwards to. */
  upstream: string;
}

export interface BackendTarget {
  /** Base URL through the `ingest` proxy: what publishers use. */
  url: string;
  /** Base URL of the backend itself (no proxy). */
  directUrl: string;
  apiKey: string;
  /** Bearer token for the SSE stream, when the backend guards it. */
  sseToken?: string;
  /** Present when the harness manages the process (kills/restarts possible). */
  pid?: number;
  /** Managed stacks: how the backend was started. */
  spec?: BackendSpec;
}

export interface StackInfo {
  /** 'managed': harness started everything; 'external': user-supplied URLs. */
  kind: 'managed' | 'external';
  runDir: string;
  logsDir: string;
  influx: InfluxTarget;
  /** Absent for an external stack with no Toxiproxy: faults are then unavailable. */
  toxiproxy?: { url: string; pid?: number; proxies: { influx: ProxyInfo; ingest: ProxyInfo } };
  backend: BackendTarget;
}
