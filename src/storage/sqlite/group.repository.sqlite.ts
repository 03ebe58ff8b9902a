/** SQLite adapter of the storage port: groups and their settings. */
import type { Database, Statement } from 'better-sqlite3';
import type { Group, GroupRepository } from '../store.ts';
import { decodeSettings } from './codec.sqlite.ts';

interface GroupRow {
  name: string;
  title: string;
  summary: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  settings: string;
}

const COLUMNS = 'name, title, summary, created_at, updated_at, deleted_at, settings';

function toGroup(row: GroupRow): Group {
  return {
    name: row.name,
    title: row.title,
    summary: row.summary,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    settings: decodeSettings(row.settings),
  };
}

function toRow(group: Group): GroupRow {
  return {
    name: group.name,
    title: group.title,
    summary: group.summary,
    created_at: group.createdAt,
    updated_at: group.updatedAt,
    deleted_at: group.deletedAt,
    settings: JSON.stringify(group.settings),
  };
}

/** Groups in the `groups` table; settings are one JSON text column. */
export class SqliteGroupRepository implements GroupRepository {
  readonly #insert: Statement<[GroupRow]>;
  readonly #get: Statement<[string], GroupRow>;
  readonly #update: Statement<[GroupRow]>;
  readonly #markDeleted: Statement<[number, string]>;
  readonly #listFirst: Statement<[number], GroupRow>;
  readonly #listAfter: Statement<[string, number], GroupRow>;
  readonly #count: Statement<[], { n: number }>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO groups (${COLUMNS})
       VALUES (@name, @title, @summary, @created_at, @updated_at, @deleted_at, @settings)
       ON CONFLICT (name) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM groups WHERE name = ?`);
    this.#update = db.prepare(
      `UPDATE groups SET title = @title, summary = @summary, settings = @settings, updated_at = @updated_at
       WHERE name = @name`,
    );
    this.#markDeleted = db.prepare('UPDATE groups SET deleted_at = ? WHERE name = ? AND deleted_at IS NULL');
    this.#listFirst = db.prepare(
      `SELECT ${COLUMNS} FROM groups WHERE deleted_at IS NULL ORDER BY name LIMIT ?`,
    );
    this.#listAfter = db.prepare(
      `SELECT ${COLUMNS} FROM groups WHERE deleted_at IS NULL AND name > ? ORDER BY name LIMIT ?`,
    );
    this.#count = db.prepare('SELECT count(*) AS n FROM groups WHERE deleted_at IS NULL');
  }

  async createGroup(group: Group): Promise<boolean> {
    return this.#insert.run(toRow(group)).changes === 1;
  }

  async getGroup(name: string): Promise<Group | null> {
    const row = this.#get.get(name);
    return row ? toGroup(row) : null;
  }

  async updateGroup(group: Group): Promise<boolean> {
    return this.#update.run(toRow(group)).changes === 1;
  }

  async markGroupDeleted(name: string, at: number): Promise<boolean> {
    return this.#markDeleted.run(at, name).changes === 1;
  }

  async listGroups(after: string | null, limit: number): Promise<Group[]> {
    if (limit <= 0) return [];
    const rows = after === null ? this.#listFirst.all(limit) : this.#listAfter.all(after, limit);
    return rows.map(toGroup);
  }

  async countGroups(): Promise<number> {
    return this.#count.get()?.n ?? 0;
  }
}
