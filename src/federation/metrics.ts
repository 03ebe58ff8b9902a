/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with labels.
 * No dependency; label sets are capped so that a flood of hosts cannot grow memory without bound.
 */

type Labels = Record<string, string>;

/** The values of one metric as plain data: series key to value (counters, gauges) or to a histogram series. */
export type MetricSnapshot = Record<string, number | { counts: number[]; sum: number; count: number }>;

const MAX_SERIES = 2000;

function key(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map(
      (k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract lines(): string[];
  /** The values, as plain data that can be posted to another thread. */
  abstract snapshot(): MetricSnapshot;
  /** Adds another instance's snapshot into this one (counters and histograms add up; gauges keep the larger). */
  abstract absorb(s: MetricSnapshot): void;
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join(
      '\n',
    );
  }
}

/** One number per label set; `merge` says how another thread's value combines with this one's. */
abstract class ValueMetric extends Metric {
  protected readonly values = new Map<string, number>();
  constructor(
    name: string,
    help: string,
    type: 'counter' | 'gauge',
    private readonly merge: (mine: number, theirs: number) => number,
  ) {
    super(name, help, type);
  }
  protected put(labels: Labels, value: (old: number | undefined) => number): void {
    const k = key(labels);
    if (!this.values.has(k) && this.values.size >= MAX_SERIES) return;
    this.values.set(k, value(this.values.get(k)));
  }
  lines(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
  snapshot(): MetricSnapshot {
    return Object.fromEntries(this.values);
  }
  absorb(s: MetricSnapshot): void {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v !== 'number') continue;
      if (!this.values.has(k) && this.values.size >= MAX_SERIES) continue;
      const mine = this.values.get(k);
      this.values.set(k, mine === undefined ? v : this.merge(mine, v));
    }
  }
}

export class Counter extends ValueMetric {
  constructor(name: string, help: string) {
    super(name, help, 'counter', (a, b) => a + b);
  }
  inc(labels: Labels = {}, by = 1): void {
    this.put(labels, (old) => (old ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
}

export class Gauge extends ValueMetric {
  constructor(name: string, help: string) {
    super(name, help, 'gauge', Math.max);
  }
  set(labels: Labels, value: number): void {
    this.put(labels, () => value);
  }
  reset(): void {
    this.values.clear();
  }
}

export class Histogram extends Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    private readonly buckets: number[],
  ) {
    super(name, help, 'histogram');
  }
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) {
      if (this.series.size >= MAX_SERIES) return;
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`));
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return out;
  }
  snapshot(): MetricSnapshot {
    const out: MetricSnapshot = {};
    for (const [k, s] of this.series) out[k] = { counts: [...s.counts], sum: s.sum, count: s.count };
    return out;
  }
  absorb(snap: MetricSnapshot): void {
    for (const [k, v] of Object.entries(snap)) {
      if (typeof v === 'number' || v.counts.length !== this.buckets.length) continue;
      let s = this.series.get(k);
      if (!s) {
        if (this.series.size >= MAX_SERIES) continue;
        s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
        this.series.set(k, s);
      }
      for (let i = 0; i < s.counts.length; i++) s.counts[i]! += v.counts[i] ?? 0;
      s.sum += v.sum;
      s.count += v.count;
    }
  }
}

/** Every metric Guild exports. One instance per process, passed to the parts that record. */
export class Metrics {
  readonly inboxRequests = new Counter('guild_inbox_requests_total', 'Inbox POSTs by HTTP status.');
  readonly inboxSeconds = new Histogram(
    'guild_inbox_request_seconds',
    'Time to verify and store an inbox POST.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  readonly jobs = new Counter(
    'guild_jobs_total',
    'Finished job attempts by queue and outcome (done, retry, fail, error).',
  );
  readonly jobSeconds = new Histogram(
    'guild_job_seconds',
    'Duration of a job attempt by queue.',
    [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
  );
  readonly hostFailures = new Counter(
    'guild_delivery_host_failures_total',
    'Failed delivery attempts by destination host.',
  );
  readonly circuitOpen = new Gauge(
    'guild_delivery_circuit_open',
    'Hosts whose circuit is open (1) in this process.',
  );
  readonly queueDepth = new Gauge('guild_queue_depth', 'Jobs waiting, by queue.');
  readonly queueLeased = new Gauge('guild_queue_leased', 'Jobs being worked on, by queue.');
  readonly queueFailed = new Gauge('guild_queue_failed', 'Jobs given up, by queue.');
  readonly queueAge = new Gauge(
    'guild_queue_oldest_age_seconds',
    'Age of the oldest unfinished job, by queue.',
  );
  readonly memory = new Gauge('process_resident_memory_bytes', 'Resident memory of this process.');
  readonly enqueued = new Counter('guild_jobs_enqueued_total', 'Jobs queued (new ones only), by queue.');
  readonly claims = new Counter('guild_queue_claims_total', 'Claims (store round trips) by queue.');
  readonly claimed = new Counter('guild_queue_claimed_jobs_total', 'Jobs leased by claims, by queue.');
  readonly claimSeconds = new Counter('guild_queue_claim_seconds_total', 'Time spent claiming, by queue.');
  readonly storeCommands = new Counter(
    'guild_store_commands_total',
    'Commands sent to MongoDB (round trips), by command name.',
  );

  private all(): Metric[] {
    return [
      this.inboxRequests,
      this.inboxSeconds,
      this.jobs,
      this.jobSeconds,
      this.hostFailures,
      this.circuitOpen,
      this.queueDepth,
      this.queueLeased,
      this.queueFailed,
      this.queueAge,
      this.memory,
      this.enqueued,
      this.claims,
      this.claimed,
      this.claimSeconds,
      this.storeCommands,
    ];
  }

  /** Every metric's values, to post to the thread that serves `/metrics`. */
  snapshot(): MetricsSnapshot {
    return Object.fromEntries(this.all().map((m) => [m.name, m.snapshot()]));
  }

  /** This process's metrics plus those of its background threads (their latest snapshots). */
  combinedWith(others: MetricsSnapshot[]): Metrics {
    const out = new Metrics();
    const mine = this.snapshot();
    for (const m of out.all()) {
      for (const snap of [mine, ...others]) {
        const part = snap[m.name];
        if (part) m.absorb(part);
      }
    }
    return out;
  }

  render(): string {
    this.memory.set({}, process.memoryUsage().rss);
    return (
      this.all()
        .map((m) => m.render())
        .join('\n') + '\n'
    );
  }
}

/** The values of every metric, by metric name. */
export type MetricsSnapshot = Record<string, MetricSnapshot>;
