/**
 * What the failover lab's two probe programs take and print: the stand-in
 * API server (src/runtime/probes/https-stand-in.mjs) and the client polling
 * the VIP (src/runtime/probes/https-poller.mjs). Each takes its configuration
 * as one JSON argument.
 */

/** Parameters of the stand-in API server. */
export interface StandInConfig {
  name: string;
  host: string;
  port: number;
  key: string;
  cert: string;
}

/** Parameters of the client poller. */
export interface PollerConfig {
  host: string;
  port: number;
  path: string;
  /** PEM file of the certificate the API must present (verified, with the VIP as an IP SAN) */
  ca: string;
  intervalMs: number;
  timeoutMs: number;
}

/** One request of the poller (one JSON line): start and end in ms since the epoch (sub-ms resolution). */
export interface Probe {
  id: number;
  s: number;
  e: number;
  ok: boolean;
  /** body of a 200 answer: the name of the API server that answered */
  who?: string;
  err?: string;
}
