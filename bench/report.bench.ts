/** The bench's output: one markdown table, the machine above it, notes per row below it. */
import type { Baselines, Machine } from './baseline.bench.ts';
import type { StoreKind } from './setup.bench.ts';

export type Verdict = 'PASS' | 'FAIL' | 'n/a' | 'ERROR';

/** One line of the table. */
export interface RowResult {
  row: 'fan-out' | 'intake' | 'memory' | 'scale-out' | 'storage';
  store: StoreKind;
  /** The measurement, in words and numbers. */
  result: string;
  /** The bound it is compared with, measured in the same run. */
  bound: string;
  /** result / bound, when that means something. */
  ratio: number | null;
  target: string;
  verdict: Verdict;
  /** Details printed below the table. */
  notes: string[];
}

export function errorRow(row: RowResult['row'], store: StoreKind, target: string, e: unknown): RowResult {
  const message = e instanceof Error ? e.message : String(e);
  return {
    row,
    store,
    result: `error: ${message.split('\n')[0] ?? ''}`,
    bound: '',
    ratio: null,
    target,
    verdict: 'ERROR',
    notes: [message],
  };
}

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const ms = (n: number): string => (n >= 100 ? `${int(n)} ms` : `${n.toFixed(1)} ms`);
export const mb = (bytes: number): string => `${int(bytes / (1024 * 1024))} MB`;
export const secs = (n: number): string => `${(n / 1000).toFixed(2)} s`;

export function renderReport(o: {
  machine: Machine;
  baselines: Baselines;
  quick: boolean;
  rows: RowResult[];
  storeNotes: string[];
  /** How a store is named in the table, when not by its kind alone (the server that stood for it). */
  storeLabels?: Partial<Record<StoreKind, string>>;
  loadAtEnd: number;
}): string {
  const storeName = (kind: StoreKind): string => o.storeLabels?.[kind] ?? kind;
  const m = o.machine;
  const b = o.baselines;
  const lines: string[] = [];
  lines.push(`# Guild bench${o.quick ? ' (--quick: small sizes, not the targets\u2019 sizes)' : ''}`, '');
  lines.push(`- date: ${m.date}`);
  lines.push(`- machine: ${m.cpu}, ${m.cores} cores, ${int(m.ramBytes / 1024 ** 3)} GB RAM, ${m.os}`);
  lines.push(`- node: ${m.node}`);
  lines.push(
    `- 1-minute load average: ${m.loadAtStart.toFixed(2)} at the start, ${o.loadAtEnd.toFixed(2)} at the end ` +
      `(Guild, the sinks, the harness, the database and anything else running share the ${m.cores} cores)`,
  );
  lines.push(
    `- one core, RSA-2048: sign ${int(b.sign.perSecond)}/s (PEM parsed per call: ${int(b.signPem.perSecond)}/s), ` +
      `verify ${int(b.verify.perSecond)}/s (PEM parsed per call: ${int(b.verifyPem.perSecond)}/s)`,
  );
  for (const n of o.storeNotes) lines.push(`- ${n}`);
  lines.push('');
  lines.push('| row | store | result | bound (same run) | ratio | target | verdict |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of o.rows) {
    const cells = [
      r.row,
      storeName(r.store),
      r.result,
      r.bound,
      r.ratio === null ? '' : r.ratio.toFixed(2),
      r.target,
    ];
    lines.push(`| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} | **${r.verdict}** |`);
  }
  lines.push('');
  for (const r of o.rows) {
    if (r.notes.length === 0) continue;
    lines.push(`${r.row} / ${storeName(r.store)}:`);
    for (const n of r.notes) lines.push(`  - ${n.replace(/\n/g, '\n    ')}`);
  }
  const missed = o.rows.filter((r) => r.verdict === 'FAIL' || r.verdict === 'ERROR');
  lines.push('');
  lines.push(
    missed.length === 0
      ? 'All targets met.'
      : `TARGETS MISSED: ${missed.map((r) => `${r.row}/${storeName(r.store)} (${r.verdict})`).join(', ')}`,
  );
  return lines.join('\n');
}

/** One line per queue from the Guild process's job counters (see guild.child.ts). */
export function jobsSummary(jobs: Record<string, Record<string, number>>): string {
  const parts: string[] = [];
  for (const [queue, c] of Object.entries(jobs)) {
    const n = (k: string): number => c[k] ?? 0;
    let line =
      `${queue}: ${int(n('enqueued'))} enqueued, ${int(n('done'))} done, ${int(n('failed'))} failed, ` +
      `${int(n('retried'))} retried`;
    line += `; ${int(n('claims'))} claims took ${int(n('claimMs'))} ms and returned ${int(n('claimed'))} jobs`;
    parts.push(line);
  }
  return parts.join('; ');
}
