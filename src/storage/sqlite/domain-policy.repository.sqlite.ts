/** SQLite adapter of the storage port: the instance's domain policies (blocked and limited hosts). */
import type { Database, Statement } from 'better-sqlite3';
import type { DomainPolicy, DomainPolicyKind, DomainPolicyRepository } from '../moderation.store.ts';

interface DomainPolicyRow {
  domain: string;
  policy: DomainPolicyKind;
  reason: string;
  created_at: number;
}

const COLUMNS = 'domain, policy, reason, created_at';

function toPolicy(row: DomainPolicyRow): DomainPolicy {
  return { domain: row.domain, policy: row.policy, reason: row.reason, createdAt: row.created_at };
}

/** Instance-level domain policies in the `domain_policies` table, keyed by domain. */
export class SqliteDomainPolicyRepository implements DomainPolicyRepository {
  readonly #put: Statement<[DomainPolicyRow]>;
  readonly #remove: Statement<[string]>;
  readonly #get: Statement<[string], DomainPolicyRow>;
  readonly #listAllFirst: Statement<[number], DomainPolicyRow>;
  readonly #listAllAfter: Statement<[string, number], DomainPolicyRow>;
  readonly #listKindFirst: Statement<[DomainPolicyKind, number], DomainPolicyRow>;
  readonly #listKindAfter: Statement<[DomainPolicyKind, string, number], DomainPolicyRow>;
  readonly #count: Statement<[DomainPolicyKind], { n: number }>;

  constructor(db: Database) {
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO domain_policies (${COLUMNS}) VALUES (@domain, @policy, @reason, @created_at)`,
    );
    this.#remove = db.prepare('DELETE FROM domain_policies WHERE domain = ?');
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM domain_policies WHERE domain = ?`);
    this.#listAllFirst = db.prepare(`SELECT ${COLUMNS} FROM domain_policies ORDER BY domain LIMIT ?`);
    this.#listAllAfter = db.prepare(
      `SELECT ${COLUMNS} FROM domain_policies WHERE domain > ? ORDER BY domain LIMIT ?`,
    );
    this.#listKindFirst = db.prepare(
      `SELECT ${COLUMNS} FROM domain_policies WHERE policy = ? ORDER BY domain LIMIT ?`,
    );
    this.#listKindAfter = db.prepare(
      `SELECT ${COLUMNS} FROM domain_policies WHERE policy = ? AND domain > ? ORDER BY domain LIMIT ?`,
    );
    this.#count = db.prepare('SELECT count(*) AS n FROM domain_policies WHERE policy = ?');
  }

  async putDomainPolicy(p: DomainPolicy): Promise<void> {
    this.#put.run({ domain: p.domain, policy: p.policy, reason: p.reason, created_at: p.createdAt });
  }

  async removeDomainPolicy(domain: string): Promise<boolean> {
    return this.#remove.run(domain).changes === 1;
  }

  async getDomainPolicy(domain: string): Promise<DomainPolicy | null> {
    const row = this.#get.get(domain);
    return row ? toPolicy(row) : null;
  }

  async listDomainPolicies(
    kind: DomainPolicyKind | null,
    after: string | null,
    limit: number,
  ): Promise<DomainPolicy[]> {
    if (limit <= 0) return [];
    let rows: DomainPolicyRow[];
    if (kind === null) {
      rows = after === null ? this.#listAllFirst.all(limit) : this.#listAllAfter.all(after, limit);
    } else {
      rows =
        after === null ? this.#listKindFirst.all(kind, limit) : this.#listKindAfter.all(kind, after, limit);
    }
    return rows.map(toPolicy);
  }

  async countDomainPolicies(kind: DomainPolicyKind): Promise<number> {
    return this.#count.get(kind)?.n ?? 0;
  }
}
