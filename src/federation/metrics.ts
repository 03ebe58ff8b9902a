/**
 * Guild's Prometheus metrics, kept with `prom-client` in a registry per instance (never the library's global
 * one: tests run several instances in one process). Background threads post their values as plain data
 * (`snapshot()`); the thread that serves `/metrics` adds them to its own with prom-client's aggregation:
 * counters and histograms are summed, gauges keep the largest value.
 */
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type MetricObjectWithValues,
} from 'prom-client';
import type { MetricValue } from 'prom-client';

/** Every metric's values as plain data, which can be posted to another thread. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Label sets (hosts) recorded per metric whose labels come from the network; later ones are not recorded. */
const MAX_SERIES = 2000;

/** The part of a counter or gauge that callers use, with at most `max` distinct label sets. */
interface CappedCounter {
  inc(labels: Record<string, string>, by?: number): void;
}
interface CappedGauge {
  set(labels: Record<string, string>, value: number): void;
}

function seriesCap(max: number): (labels: Record<string, string>) => boolean {
  const seen = new Set<string>();
  return (labels) => {
    const key = JSON.stringify(labels);
    if (seen.has(key)) return true;
    if (seen.size >= max) return false;
    seen.add(key);
    return true;
  };
}

function cappedCounter(counter: Counter, max = MAX_SERIES): CappedCounter {
  const admits = seriesCap(max);
  return { inc: (labels, by = 1) => admits(labels) && counter.inc(labels, by) };
}

function cappedGauge(gauge: Gauge, max = MAX_SERIES): CappedGauge {
  const admits = seriesCap(max);
  return { set: (labels, value) => admits(labels) && gauge.set(labels, value) };
}

/** Every metric Guild exports. One instance per process or thread, passed to the parts that record. */
export class Metrics {
  readonly registry = new Registry();
  private readonly counter = (name: string, help: string, labelNames: string[] = []): Counter =>
    new Counter({ name, help, labelNames, registers: [this.registry] });
  private readonly gauge = (name: string, help: string, labelNames: string[] = []): Gauge =>
    new Gauge({ name, help, labelNames, registers: [this.registry], aggregator: 'max' });
  private readonly histogram = (name: string, help: string, buckets: number[], labelNames: string[] = []) =>
    new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });

  readonly inboxRequests = this.counter('guild_inbox_requests_total', 'Inbox POSTs by HTTP status.', [
    'status',
  ]);
  readonly inboxSeconds = this.histogram(
    'guild_inbox_request_seconds',
    'Time to verify and store an inbox POST.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  readonly jobs = this.counter(
    'guild_jobs_total',
    'Finished job attempts by queue and outcome (done, retry, fail, error).',
    ['outcome', 'queue'],
  );
  readonly jobSeconds = this.histogram(
    'guild_job_seconds',
    'Duration of a job attempt by queue.',
    [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
    ['queue'],
  );
  readonly hostFailures = cappedCounter(
    this.counter('guild_delivery_host_failures_total', 'Failed delivery attempts by destination host.', [
      'host',
    ]),
  );
  readonly circuitOpen = cappedGauge(
    this.gauge('guild_delivery_circuit_open', 'Hosts whose circuit is open (1) in this process.', ['host']),
  );
  readonly queueDepth = this.gauge('guild_queue_depth', 'Jobs waiting, by queue.', ['queue']);
  readonly queueLeased = this.gauge('guild_queue_leased', 'Jobs being worked on, by queue.', ['queue']);
  readonly queueFailed = this.gauge('guild_queue_failed', 'Jobs given up, by queue.', ['queue']);
  readonly queueAge = this.gauge(
    'guild_queue_oldest_age_seconds',
    'Age of the oldest unfinished job, by queue.',
    ['queue'],
  );
  readonly memory = this.gauge('process_resident_memory_bytes', 'Resident memory of this process.');
  readonly enqueued = this.counter('guild_jobs_enqueued_total', 'Jobs queued (new ones only), by queue.', [
    'queue',
  ]);
  readonly claims = this.counter('guild_queue_claims_total', 'Claims (store round trips) by queue.', [
    'queue',
  ]);
  readonly claimed = this.counter('guild_queue_claimed_jobs_total', 'Jobs leased by claims, by queue.', [
    'queue',
  ]);
  readonly connectionsRefused = this.counter(
    'guild_http_connections_refused_total',
    'Connections closed as they came, by reason (client-connection-cap, total-connection-cap).',
    ['reason'],
  );
  readonly claimSeconds = this.counter('guild_queue_claim_seconds_total', 'Time spent claiming, by queue.', [
    'queue',
  ]);
  readonly emptyClaims = this.counter(
    'guild_queue_empty_claims_total',
    'Claims that found nothing to do (the polls of idle queue loops), by queue.',
    ['queue'],
  );
  readonly storeCommands = this.counter(
    'guild_store_commands_total',
    'Commands sent to MongoDB (round trips), by command name.',
    ['command'],
  );

  /** This instance's values, plus those of `others` (its background threads' snapshots) when given. */
  async snapshot(others: MetricsSnapshot[] = []): Promise<MetricsSnapshot> {
    const mine = await this.registry.getMetricsAsJSON();
    if (others.length === 0) return mine;
    return AggregatorRegistry.aggregate([mine, ...others]).getMetricsAsJSON();
  }

  /** The text exposition (format 0.0.4) of this instance's values plus those of `others`. */
  async render(others: MetricsSnapshot[] = []): Promise<string> {
    this.memory.set(process.memoryUsage().rss);
    if (others.length === 0) return this.registry.metrics();
    return AggregatorRegistry.aggregate([await this.registry.getMetricsAsJSON(), ...others]).metrics();
  }
}

/** The content type of {@link Metrics.render}'s text. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
