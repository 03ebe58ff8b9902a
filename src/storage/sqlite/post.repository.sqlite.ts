/** SQLite adapter of the storage port: posts announced by groups and their threads. */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { OutboxCursor, Post, PostRepository } from '../store.ts';

interface PostRow {
  group_name: string;
  object_id: string;
  author_id: string;
  in_reply_to: string | null;
  thread_root: string;
  create_id: string;
  boost_id: string | null;
  created_at: number;
  deleted_at: number | null;
  removed_by: string | null;
}

const COLUMNS =
  'group_name, object_id, author_id, in_reply_to, thread_root, create_id, boost_id, created_at, deleted_at, removed_by';

/** The most group names listGroupsOfPost returns (the port's bound). */
const GROUPS_OF_POST_LIMIT = 100;

function toPost(row: PostRow): Post {
  return {
    objectId: row.object_id,
    groupName: row.group_name,
    authorId: row.author_id,
    inReplyTo: row.in_reply_to,
    threadRoot: row.thread_root,
    createId: row.create_id,
    boostId: row.boost_id,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    removedBy: row.removed_by,
  };
}

/**
 * Posts accepted into groups, in the `posts` table keyed by (group_name, object_id). Deleting a post withdraws
 * the rows of `activities` about it in the same transaction; restoring it brings them back.
 */
export class SqlitePostRepository implements PostRepository {
  readonly #insert: Statement<[PostRow]>;
  readonly #get: Statement<[string, string], PostRow>;
  readonly #markDeleted: Transaction<
    (at: number, removedBy: string | null, groupName: string, objectId: string) => boolean
  >;
  readonly #restore: Transaction<(boostId: string | null, groupName: string, objectId: string) => boolean>;
  readonly #threadFirst: Statement<[string, string, number], PostRow>;
  readonly #threadAfter: Statement<[string, string, number, string, number], PostRow>;
  readonly #groupsOf: Statement<[string], { group_name: string }>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO posts (${COLUMNS})
       VALUES (@group_name, @object_id, @author_id, @in_reply_to, @thread_root, @create_id, @boost_id,
               @created_at, @deleted_at, @removed_by)
       ON CONFLICT (group_name, object_id) DO NOTHING`,
    );
    this.#groupsOf = db.prepare(
      `SELECT group_name FROM posts WHERE object_id = ? ORDER BY group_name LIMIT ${GROUPS_OF_POST_LIMIT}`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM posts WHERE group_name = ? AND object_id = ?`);
    const markDeleted = db.prepare<[number, string | null, string, string]>(
      'UPDATE posts SET deleted_at = ?, removed_by = ? WHERE group_name = ? AND object_id = ? AND deleted_at IS NULL',
    );
    const withdraw = db.prepare<[number, string, string]>(
      `UPDATE activities SET withdrawn_at = ?
       WHERE group_name = ? AND object_id = ? AND object_id IS NOT NULL AND withdrawn_at IS NULL`,
    );
    // One transaction: the post and the activities that carried it go together.
    this.#markDeleted = db.transaction(
      (at: number, removedBy: string | null, groupName: string, objectId: string): boolean => {
        if (markDeleted.run(at, removedBy, groupName, objectId).changes !== 1) return false;
        withdraw.run(at, groupName, objectId);
        return true;
      },
    );
    const restore = db.prepare<[string | null, string, string]>(
      `UPDATE posts SET deleted_at = NULL, removed_by = NULL, boost_id = ?
       WHERE group_name = ? AND object_id = ? AND deleted_at IS NOT NULL`,
    );
    const unwithdraw = db.prepare<[string, string]>(
      `UPDATE activities SET withdrawn_at = NULL
       WHERE group_name = ? AND object_id = ? AND object_id IS NOT NULL AND withdrawn_at IS NOT NULL`,
    );
    // The post and its activities come back together too.
    this.#restore = db.transaction((boostId: string | null, groupName: string, objectId: string): boolean => {
      if (restore.run(boostId, groupName, objectId).changes !== 1) return false;
      unwithdraw.run(groupName, objectId);
      return true;
    });
    this.#threadFirst = db.prepare(
      `SELECT ${COLUMNS} FROM posts WHERE group_name = ? AND thread_root = ?
       ORDER BY created_at, object_id LIMIT ?`,
    );
    this.#threadAfter = db.prepare(
      `SELECT ${COLUMNS} FROM posts WHERE group_name = ? AND thread_root = ? AND (created_at, object_id) > (?, ?)
       ORDER BY created_at, object_id LIMIT ?`,
    );
  }

  async putPost(post: Post): Promise<boolean> {
    const result = this.#insert.run({
      group_name: post.groupName,
      object_id: post.objectId,
      author_id: post.authorId,
      in_reply_to: post.inReplyTo,
      thread_root: post.threadRoot,
      create_id: post.createId,
      boost_id: post.boostId,
      created_at: post.createdAt,
      deleted_at: post.deletedAt,
      removed_by: post.removedBy,
    });
    return result.changes === 1;
  }

  async listGroupsOfPost(objectId: string): Promise<string[]> {
    return this.#groupsOf.all(objectId).map((row) => row.group_name);
  }

  async getPost(groupName: string, objectId: string): Promise<Post | null> {
    const row = this.#get.get(groupName, objectId);
    return row ? toPost(row) : null;
  }

  async markPostDeleted(
    groupName: string,
    objectId: string,
    at: number,
    removedBy: string | null,
  ): Promise<boolean> {
    return this.#markDeleted.immediate(at, removedBy, groupName, objectId);
  }

  async restorePost(groupName: string, objectId: string, boostId: string | null): Promise<boolean> {
    return this.#restore.immediate(boostId, groupName, objectId);
  }

  async listThread(
    groupName: string,
    threadRoot: string,
    after: OutboxCursor | null,
    limit: number,
  ): Promise<Post[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#threadFirst.all(groupName, threadRoot, limit)
        : this.#threadAfter.all(groupName, threadRoot, after.published, after.id, limit);
    return rows.map(toPost);
  }
}
