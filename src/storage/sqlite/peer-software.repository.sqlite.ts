/** SQLite adapter of the storage port: the software of other servers, from their NodeInfo. */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { PeerSoftware, PeerSoftwareRepository } from '../peer-software.repository.ts';

interface PeerSoftwareRow {
  origin: string;
  name: string | null;
  version: string | null;
  learned_at: number | null;
  refresh_at: number;
}

const COLUMNS = 'origin, name, version, learned_at, refresh_at';
/** Origins read per statement (SQLite binds at most 32,766 parameters; a page of a fan-out has 500). */
const CHUNK = 500;

function toSoftware(row: PeerSoftwareRow): PeerSoftware {
  return {
    origin: row.origin,
    name: row.name,
    version: row.version,
    learnedAt: row.learned_at,
    refreshAt: row.refresh_at,
  };
}

/** The `peer_software` table, keyed by origin. */
export class SqlitePeerSoftwareRepository implements PeerSoftwareRepository {
  readonly #db: Database;
  readonly #note: Statement<[string, number]>;
  readonly #put: Statement<[PeerSoftwareRow]>;
  readonly #due: Statement<[number, number], PeerSoftwareRow>;
  readonly #noteAll: Transaction<(origins: string[], at: number) => number>;
  readonly #byCount = new Map<number, Statement<string[], PeerSoftwareRow>>();

  constructor(db: Database) {
    this.#db = db;
    this.#note = db.prepare(
      `INSERT OR IGNORE INTO peer_software (${COLUMNS}) VALUES (?, NULL, NULL, NULL, ?)`,
    );
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO peer_software (${COLUMNS})
       VALUES (@origin, @name, @version, @learned_at, @refresh_at)`,
    );
    this.#due = db.prepare(
      `SELECT ${COLUMNS} FROM peer_software WHERE refresh_at <= ? ORDER BY refresh_at, origin LIMIT ?`,
    );
    this.#noteAll = db.transaction((origins: string[], at: number): number => {
      let added = 0;
      for (const origin of new Set(origins)) added += this.#note.run(origin, at).changes;
      return added;
    });
  }

  async noteOrigins(origins: string[], at: number): Promise<number> {
    if (origins.length === 0) return 0;
    return this.#noteAll.immediate(origins, at);
  }

  async putSoftware(s: PeerSoftware): Promise<void> {
    this.#put.run({
      origin: s.origin,
      name: s.name,
      version: s.version,
      learned_at: s.learnedAt,
      refresh_at: s.refreshAt,
    });
  }

  async getSoftware(origins: string[]): Promise<PeerSoftware[]> {
    const unique = [...new Set(origins)];
    const out: PeerSoftware[] = [];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      out.push(
        ...this.#select(chunk.length)
          .all(...chunk)
          .map(toSoftware),
      );
    }
    return out;
  }

  async listDue(now: number, limit: number): Promise<PeerSoftware[]> {
    if (limit <= 0) return [];
    return this.#due.all(now, limit).map(toSoftware);
  }

  /** The SELECT of `n` origins, prepared once per size. */
  #select(n: number): Statement<string[], PeerSoftwareRow> {
    let statement = this.#byCount.get(n);
    if (!statement) {
      statement = this.#db.prepare<string[], PeerSoftwareRow>(
        `SELECT ${COLUMNS} FROM peer_software WHERE origin IN (${new Array(n).fill('?').join(', ')})`,
      );
      if (this.#byCount.size >= 64) this.#byCount.clear();
      this.#byCount.set(n, statement);
    }
    return statement;
  }
}
