/**
 * Prometheus metrics of `flat6 serve`: requests by route and status, refusals
 * by reason, a latency histogram and bytes sent. Label sets are fixed by the
 * server (routes and reasons are its own words), so memory is bounded.
 */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export type Route = 'host_tar' | 'host_tar_gz' | 'host_cloud_config' | 'plan' | 'healthz' | 'metrics' | 'other';

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly refusals = new Map<string, number>();
  private readonly buckets = new Array<number>(BUCKETS.length).fill(0);
  private count = 0;
  private sum = 0;
  private bytes = 0;
  inFlight = 0;

  request(route: Route, status: number, seconds: number, bytes: number): void {
    const k = `route="${route}",code="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.buckets[i]!++;
    this.count++;
    this.sum += seconds;
    this.bytes += bytes;
  }

  refusal(reason: string): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  refusalsOf(reason: string): number {
    return this.refusals.get(reason) ?? 0;
  }

  /** The counters as plain data, for summing across worker processes. */
  snapshot(): MetricsSnapshot {
    return { requests: [...this.requests], refusals: [...this.refusals], buckets: [...this.buckets], count: this.count, sum: this.sum, bytes: this.bytes, inFlight: this.inFlight };
  }

  /** Prometheus text of these counters plus `others` (the other workers' latest snapshots). */
  text(others: MetricsSnapshot[] = []): string {
    const all = [this.snapshot(), ...others];
    const sumMap = (pick: (s: MetricsSnapshot) => Array<[string, number]>): Map<string, number> => {
      const m = new Map<string, number>();
      for (const s of all) for (const [k, v] of pick(s)) m.set(k, (m.get(k) ?? 0) + v);
      return m;
    };
    const t = {
      requests: sumMap((s) => s.requests),
      refusals: sumMap((s) => s.refusals),
      buckets: BUCKETS.map((_, i) => all.reduce((a, s) => a + (s.buckets[i] ?? 0), 0)),
      count: all.reduce((a, s) => a + s.count, 0),
      sum: all.reduce((a, s) => a + s.sum, 0),
      bytes: all.reduce((a, s) => a + s.bytes, 0),
      inFlight: all.reduce((a, s) => a + s.inFlight, 0),
    };
    return render(t, all.length);
  }
}

export interface MetricsSnapshot {
  requests: Array<[string, number]>;
  refusals: Array<[string, number]>;
  buckets: number[];
  count: number;
  sum: number;
  bytes: number;
  inFlight: number;
}

function render(
  m: { requests: Map<string, number>; refusals: Map<string, number>; buckets: number[]; count: number; sum: number; bytes: number; inFlight: number },
  processes: number,
): string {
  const L: string[] = [];
  L.push('# HELP flat6_serve_requests_total Requests answered, by route and HTTP status.', '# TYPE flat6_serve_requests_total counter');
  for (const [k, v] of [...m.requests].sort()) L.push(`flat6_serve_requests_total{${k}} ${v}`);
  L.push('# HELP flat6_serve_refusals_total Requests refused, by reason.', '# TYPE flat6_serve_refusals_total counter');
  for (const [k, v] of [...m.refusals].sort()) L.push(`flat6_serve_refusals_total{reason="${k}"} ${v}`);
  L.push('# HELP flat6_serve_request_duration_seconds Time from request to response end.', '# TYPE flat6_serve_request_duration_seconds histogram');
  BUCKETS.forEach((b, i) => L.push(`flat6_serve_request_duration_seconds_bucket{le="${b}"} ${m.buckets[i]}`));
  L.push(`flat6_serve_request_duration_seconds_bucket{le="+Inf"} ${m.count}`);
  L.push(`flat6_serve_request_duration_seconds_sum ${m.sum}`, `flat6_serve_request_duration_seconds_count ${m.count}`);
  L.push('# HELP flat6_serve_response_bytes_total Bytes of response bodies sent.', '# TYPE flat6_serve_response_bytes_total counter', `flat6_serve_response_bytes_total ${m.bytes}`);
  L.push('# HELP flat6_serve_in_flight Requests being answered.', '# TYPE flat6_serve_in_flight gauge', `flat6_serve_in_flight ${m.inFlight}`);
  L.push('# HELP process_resident_memory_bytes Resident set size of the process that answered.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${process.memoryUsage.rss()}`);
  L.push('# HELP flat6_serve_processes Server processes whose counters are summed here.', '# TYPE flat6_serve_processes gauge', `flat6_serve_processes ${processes}`);
  return L.join('\n') + '\n';
}
