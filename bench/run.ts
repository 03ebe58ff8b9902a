/**
 * `npm run bench [-- --store sqlite|mongodb|both] [--quick] [--only fan-out,intake,memory,scale-out,storage]
 * [--verbose] [--profile DIR]`: measures fan-out, intake, memory, several processes and storage on each store and prints one markdown table with the
 * machine above it and PASS/FAIL against the targets. Exits 0 when targets are missed (it is a measurement);
 * exits 1 when the harness itself fails, 2 when the global deadline aborts it. Only loopback addresses are used.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FERRETDB_VERSION, startFerretDb, type RunningFerretDb } from '../test/support/ferretdb.ts';
import { loadNow, machine, measureBaselines } from './baseline.bench.ts';
import { runFanout, fanoutTarget, type FanoutSizes } from './fanout.bench.ts';
import { runIntake, intakeTarget, type IntakeSizes } from './intake.bench.ts';
import { runMemory, MEMORY_TARGET, type MemorySizes } from './memory.bench.ts';
import { runScaleOut, SCALE_OUT_TARGET, type ScaleOutSizes } from './scale-out.bench.ts';
import { runStorage, STORAGE_TARGET, type StorageSizes } from './storage.bench.ts';
import { errorRow, renderReport, type RowResult } from './report.bench.ts';
import type { RowContext, StoreKind } from './setup.bench.ts';

type RowName = RowResult['row'];
const ROWS: RowName[] = ['fan-out', 'intake', 'memory', 'scale-out', 'storage'];

interface Options {
  stores: StoreKind[];
  quick: boolean;
  only: RowName[];
  verbose: boolean;
  profileDir: string | null;
}

const USAGE =
  'usage: npm run bench -- [--store sqlite|mongodb|both] [--quick] [--only fan-out,intake,memory,scale-out,storage] [--verbose] [--profile DIR]';

function parseArgs(argv: string[]): Options {
  const o: Options = {
    stores: ['sqlite', 'mongodb'],
    quick: false,
    only: ROWS,
    verbose: false,
    profileDir: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--store') {
      const v = value();
      if (v === 'both') o.stores = ['sqlite', 'mongodb'];
      else if (v === 'sqlite' || v === 'mongodb') o.stores = [v];
      else throw new Error(`--store must be sqlite, mongodb or both\n${USAGE}`);
    } else if (a === '--only') {
      const names = value().split(',');
      const bad = names.filter((n) => !(ROWS as string[]).includes(n));
      if (bad.length > 0) throw new Error(`unknown row ${bad.join(', ')}\n${USAGE}`);
      o.only = names as RowName[];
    } else if (a === '--profile') o.profileDir = resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return o;
}

const SIZES: Record<
  'full' | 'quick',
  {
    fanout: FanoutSizes;
    intake: IntakeSizes;
    memory: MemorySizes;
    scaleOut: ScaleOutSizes;
    storage: StorageSizes;
  }
> = {
  full: {
    fanout: { members: 10_000, servers: 1_000, trials: 3, warmUps: 2, signMs: 1000 },
    intake: { activities: 2_000, actors: 200, concurrency: 64 },
    memory: { members: [100_000, 1_000_000], servers: 100, sinkDelayMs: 1000, holdMs: 10_000 },
    scaleOut: { members: 10_000, servers: 1_000, workers: [1, 2, 4], webs: 2 },
    storage: { phaseMs: 90_000, retentionMs: 15_000, replayWindowMs: 30_000, posts: 1, votes: 5, junk: 40 },
  },
  quick: {
    fanout: { members: 1_000, servers: 100, trials: 1, warmUps: 1, signMs: 500 },
    intake: { activities: 300, actors: 20, concurrency: 64 },
    memory: { members: [5_000, 50_000], servers: 20, sinkDelayMs: 1000, holdMs: 2_000 },
    scaleOut: { members: 1_000, servers: 100, workers: [1, 2, 4], webs: 2 },
    storage: { phaseMs: 30_000, retentionMs: 4_000, replayWindowMs: 8_000, posts: 1, votes: 3, junk: 20 },
  },
};

/** Time allowed to each row (it ends earlier when the global deadline comes first). */
const ROW_BUDGET_MS: Record<'full' | 'quick', Record<RowName, number>> = {
  full: { 'fan-out': 240_000, intake: 300_000, memory: 1_200_000, 'scale-out': 300_000, storage: 300_000 },
  quick: { 'fan-out': 45_000, intake: 60_000, memory: 45_000, 'scale-out': 90_000, storage: 120_000 },
};
const GLOBAL_BUDGET_MS = { full: 80 * 60_000, quick: 12 * 60_000 };
/** Extra time after the global deadline before the watchdog gives up on a stuck step. */
const WATCHDOG_GRACE_MS = 90_000;

const TARGETS: Record<RowName, (kind: StoreKind) => string> = {
  'fan-out': fanoutTarget,
  intake: intakeTarget,
  memory: () => MEMORY_TARGET,
  'scale-out': () => SCALE_OUT_TARGET,
  storage: () => STORAGE_TARGET,
};

const progress = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const size = o.quick ? 'quick' : 'full';
  const globalDeadline = Date.now() + GLOBAL_BUDGET_MS[size];
  const watchdog = setTimeout(() => {
    process.stderr.write(
      `\nbench aborted: still running ${WATCHDOG_GRACE_MS / 1000} s after the global deadline ` +
        `(${GLOBAL_BUDGET_MS[size] / 60_000} min); a step is stuck.\n`,
    );
    process.exit(2);
  }, GLOBAL_BUDGET_MS[size] + WATCHDOG_GRACE_MS);
  watchdog.unref();

  const m = machine();
  progress(`measuring one-core RSA-2048 sign and verify rates`);
  const baselines = measureBaselines(o.quick ? 1000 : 2000);
  if (o.profileDir) await mkdir(o.profileDir, { recursive: true });

  const rows: RowResult[] = [];
  const storeNotes: string[] = [];
  const storeLabels: Partial<Record<StoreKind, string>> = {};
  let ferret: RunningFerretDb | null = null;
  try {
    for (const kind of o.stores) {
      let mongoUrl: string | null = null;
      let ferretBackend: 'postgresql' | 'sqlite' | null = null;
      if (kind === 'mongodb') {
        const given = process.env['MONGODB_URL'];
        if (given) {
          mongoUrl = given;
          storeNotes.push(`mongodb: MONGODB_URL (${given.replace(/\/\/[^@/]*@/, '//***@')})`);
        } else {
          progress('starting FerretDB (MongoDB wire protocol; on PostgreSQL where installed)');
          try {
            ferret = await startFerretDb({ durability: 'full' });
            mongoUrl = ferret.url;
            ferretBackend = ferret.backend;
            storeLabels.mongodb =
              ferret.backend === 'postgresql'
                ? `mongodb (FerretDB ${FERRETDB_VERSION}, PostgreSQL)`
                : `mongodb (FerretDB ${FERRETDB_VERSION}, SQLite)`;
            storeNotes.push(`mongodb: ${ferret.description}, started by the bench (same machine)`);
          } catch (e) {
            for (const row of o.only) rows.push(errorRow(row, kind, TARGETS[row](kind), e));
            continue;
          }
        }
      }
      for (const row of o.only) {
        const now = Date.now();
        if (now > globalDeadline) {
          rows.push(
            errorRow(row, kind, TARGETS[row](kind), new Error('skipped: the global deadline was reached')),
          );
          continue;
        }
        const ctx: RowContext = {
          kind,
          mongoUrl,
          ferret: ferretBackend,
          deadline: Math.min(globalDeadline, now + ROW_BUDGET_MS[size][row]),
          verbose: o.verbose,
          profileDir: o.profileDir,
          progress,
        };
        progress(`row ${row} on ${kind}`);
        try {
          const sizes = SIZES[size];
          const r =
            row === 'fan-out'
              ? await runFanout(ctx, sizes.fanout)
              : row === 'intake'
                ? await runIntake(ctx, sizes.intake, baselines)
                : row === 'memory'
                  ? await runMemory(ctx, sizes.memory)
                  : row === 'scale-out'
                    ? await runScaleOut(ctx, sizes.scaleOut)
                    : await runStorage(ctx, sizes.storage);
          rows.push(r);
          progress(`  ${r.verdict}: ${r.result}`);
        } catch (e) {
          progress(`  ERROR: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          rows.push(errorRow(row, kind, TARGETS[row](kind), e));
        }
      }
    }
  } finally {
    await ferret?.stop();
  }
  if (o.profileDir) storeNotes.push(`CPU profiles of the Guild processes in ${o.profileDir}`);
  console.log(
    renderReport({
      machine: m,
      baselines,
      quick: o.quick,
      rows,
      storeNotes,
      storeLabels,
      loadAtEnd: loadNow(),
    }),
  );
  clearTimeout(watchdog);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
