// Prometheus metrics: request counts and latencies by method, virtual server, upstream and
// outcome, taken from the same observations audit records are made from; gauges (sessions,
// child processes, upstream connections, audit queue) read when scraped. One registry per
// gateway, so two gateways in one process never mix their numbers.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome } from '../audit/record.ts';
import type { Observation, Observer } from './observation.ts';

/** Methods are a label: anything else a client sends counts as `other`, so clients cannot grow the series. */
const METHODS = new Set([
  'initialize',
  'server/discover',
  'ping',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'subscriptions/listen',
  'completion/complete',
  'logging/setLevel',
  'auth',
  'http',
]);

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** What the gauges read at scrape time. */
export interface GatewayGauges {
  sessions(): { session: number; stateless: number };
  childProcesses(): number;
  /** Per upstream: connections up and down across sessions. */
  upstreams(): Map<string, { connected: number; down: number }>;
  audit():
    | { queued: number; spooled: number; written: number; dropped: number; storeUp: boolean }
    | undefined;
  sinks(): {
    name: string;
    delivered: number;
    failed: number;
    deadLettered: number;
    queued: number;
    lost?: number;
  }[];
}

export interface Metrics {
  readonly observer: Observer;
  /** The exposition text and its content type. */
  render(): Promise<{ text: string; contentType: string }>;
}

export function createMetrics(gauges: GatewayGauges): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const labels = ['method', 'virtual_server', 'upstream', 'outcome'] as const;
  const requests = new Counter({
    name: 'gatehouse_requests_total',
    help: 'Client requests answered, by method, virtual server, upstream and outcome',
    labelNames: labels,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'gatehouse_request_duration_seconds',
    help: 'Time from request to answer in the gateway',
    labelNames: labels,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const upstreamLatency = new Histogram({
    name: 'gatehouse_upstream_duration_seconds',
    help: 'Time spent waiting for the upstream, per forwarded request',
    labelNames: ['upstream', 'method'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const denials = new Counter({
    name: 'gatehouse_policy_denials_total',
    help: 'Calls the policy refused, by virtual server and rule',
    labelNames: ['virtual_server', 'rule'],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'gatehouse_auth_failures_total',
    help: 'Requests refused at authentication, by reason code',
    labelNames: ['reason'],
    registers: [registry],
  });
  gaugesFor(registry, gauges);

  // Label children are cached: looking one up by its values is the costly part of prom-client.
  type Child = { requests: ReturnType<typeof requests.labels>; latency: ReturnType<typeof latency.labels> };
  const children = new Map<string, Child>();
  const childFor = (method: string, vs: string, upstream: string, outcome: Outcome): Child => {
    const key = `${method}\n${vs}\n${upstream}\n${outcome}`;
    let child = children.get(key);
    if (!child) {
      child = {
        requests: requests.labels(method, vs, upstream, outcome),
        latency: latency.labels(method, vs, upstream, outcome),
      };
      children.set(key, child);
    }
    return child;
  };

  const observer: Observer = {
    blocked: false,
    record(o: Observation) {
      const method = METHODS.has(o.method) ? o.method : 'other';
      const seen = o.seen;
      const outcome = outcomeOf(o);
      const child = childFor(method, o.virtualServer ?? '', seen?.upstream ?? '', outcome);
      child.requests.inc();
      child.latency.observe((performance.now() - o.started) / 1000);
      if (seen?.upstreamMs !== undefined && seen.upstream) {
        upstreamLatency.labels(seen.upstream, method).observe(seen.upstreamMs / 1000);
      }
      if (seen?.policy?.decision === 'deny')
        denials.labels(o.virtualServer ?? '', seen.policy.ruleId ?? '').inc();
      if (o.method === 'auth' && o.refusal) authFailures.labels(o.refusal.code).inc();
    },
  };

  return {
    observer,
    async render() {
      return { text: await registry.metrics(), contentType: registry.contentType };
    },
  };
}

function outcomeOf(o: Observation): Outcome {
  if (o.seen?.outcome) return o.seen.outcome;
  if (o.refusal) return o.refusal.outcome;
  const response = o.response;
  if (response?.error || response?.result?.isError === true) return 'error';
  return 'ok';
}

function gaugesFor(registry: Registry, gauges: GatewayGauges): void {
  new Gauge({
    name: 'gatehouse_sessions',
    help: 'Live downstream sessions (stateless: pooled contexts)',
    labelNames: ['era'],
    registers: [registry],
    collect() {
      const s = gauges.sessions();
      this.set({ era: 'session' }, s.session);
      this.set({ era: 'stateless' }, s.stateless);
    },
  });
  new Gauge({
    name: 'gatehouse_child_processes',
    help: 'stdio upstream processes alive',
    registers: [registry],
    collect() {
      this.set(gauges.childProcesses());
    },
  });
  new Gauge({
    name: 'gatehouse_upstream_connections',
    help: 'Upstream connections across sessions, by state',
    labelNames: ['upstream', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [upstream, c] of gauges.upstreams()) {
        this.set({ upstream, state: 'connected' }, c.connected);
        this.set({ upstream, state: 'down' }, c.down);
      }
    },
  });
  const audit = (
    name: string,
    help: string,
    read: (a: NonNullable<ReturnType<GatewayGauges['audit']>>) => number,
  ) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const a = gauges.audit();
        if (a) this.set(read(a));
      },
    });
  audit('gatehouse_audit_queue_depth', 'Audit records waiting to be written', (a) => a.queued);
  audit(
    'gatehouse_audit_spooled_records',
    'Audit records in the spool while the store is down',
    (a) => a.spooled,
  );
  audit(
    'gatehouse_audit_written_records',
    'Audit records written to the store since start',
    (a) => a.written,
  );
  audit('gatehouse_audit_dropped_records', 'Audit records lost (must stay 0)', (a) => a.dropped);
  audit('gatehouse_audit_store_up', '1 while the audit store can be written', (a) => (a.storeUp ? 1 : 0));
  const sink = (
    name: string,
    help: string,
    read: (s: ReturnType<GatewayGauges['sinks']>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        for (const s of gauges.sinks()) this.set({ sink: s.name }, read(s));
      },
    });
  sink('gatehouse_audit_sink_delivered_records', 'Records a sink delivered', (s) => s.delivered);
  sink('gatehouse_audit_sink_failed_attempts', 'Failed delivery attempts of a sink', (s) => s.failed);
  sink(
    'gatehouse_audit_sink_dead_lettered_records',
    'Records a sink gave up on (in its dead-letter file)',
    (s) => s.deadLettered,
  );
  sink('gatehouse_audit_sink_queued_records', 'Records waiting in a sink', (s) => s.queued);
  sink(
    'gatehouse_audit_sink_lost_records',
    'Records a sink could neither deliver nor dead-letter (must stay 0)',
    (s) => s.lost ?? 0,
  );
}
