/** Schema steps 1 to 7 of the SQLite store (the first releases); later steps are in schema-later.sqlite.ts. */
import type { SqliteMigration } from './migrations.sqlite.ts';

/** Every index matches a query of a repository in this folder; the comment above each index names it. */
export const EARLY_STEPS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE groups (
        name TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER,
        settings TEXT NOT NULL
      );
      -- listGroups, countGroups
      CREATE INDEX groups_live_by_name ON groups (name) WHERE deleted_at IS NULL;

      CREATE TABLE key_pairs (
        owner TEXT PRIMARY KEY,
        public_key_pem TEXT NOT NULL,
        private_key_pem TEXT NOT NULL
      );

      CREATE TABLE members (
        group_name TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        inbox TEXT NOT NULL,
        shared_inbox TEXT,
        delivery_inbox TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
        follow_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (group_name, actor_id)
      );
      -- listMembers, countMembers
      CREATE INDEX members_by_state ON members (group_name, state, actor_id);
      -- listDeliveryInboxes
      CREATE INDEX members_by_delivery_inbox ON members (group_name, state, delivery_inbox);

      CREATE TABLE remote_actors (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        inbox TEXT NOT NULL,
        shared_inbox TEXT,
        preferred_username TEXT,
        name TEXT,
        url TEXT,
        key_id TEXT,
        public_key_pem TEXT,
        fetched_at INTEGER NOT NULL
      );
      -- getRemoteActorByKeyId
      CREATE INDEX remote_actors_by_key_id ON remote_actors (key_id, fetched_at) WHERE key_id IS NOT NULL;

      CREATE TABLE activities (
        id TEXT PRIMARY KEY,
        group_name TEXT NOT NULL,
        type TEXT NOT NULL,
        object_id TEXT,
        json TEXT NOT NULL,
        published INTEGER NOT NULL,
        in_outbox INTEGER NOT NULL CHECK (in_outbox IN (0, 1))
      );
      -- listOutbox, countOutbox
      CREATE INDEX activities_outbox ON activities (group_name, published, id) WHERE in_outbox = 1;

      CREATE TABLE posts (
        group_name TEXT NOT NULL,
        object_id TEXT NOT NULL,
        author_id TEXT NOT NULL,
        in_reply_to TEXT,
        thread_root TEXT NOT NULL,
        create_id TEXT NOT NULL,
        boost_id TEXT,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER,
        PRIMARY KEY (group_name, object_id)
      );
      -- listThread
      CREATE INDEX posts_by_thread ON posts (group_name, thread_root, created_at, object_id);

      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        queue TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'done', 'failed')),
        run_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- claim, stats
      CREATE INDEX jobs_by_run_at ON jobs (queue, state, run_at, id);
      -- stats (oldest queued job), purgeDone
      CREATE INDEX jobs_by_created_at ON jobs (queue, state, created_at);
      CREATE INDEX jobs_by_updated_at ON jobs (queue, state, updated_at);
    `,
  },
  {
    version: 2,
    name: 'moderation',
    sql: `
      CREATE TABLE moderators (
        group_name TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        added_by TEXT NOT NULL,
        added_at INTEGER NOT NULL,
        PRIMARY KEY (group_name, actor_id)
      );
      -- listModerators
      CREATE INDEX moderators_by_added_at ON moderators (group_name, added_at, actor_id);

      -- listBans reads the primary key in order.
      CREATE TABLE bans (
        group_name TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        banned_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (group_name, actor_id)
      );

      CREATE TABLE domain_policies (
        domain TEXT PRIMARY KEY,
        policy TEXT NOT NULL CHECK (policy IN ('block', 'limit', 'allow')),
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      -- listDomainPolicies of one kind, countDomainPolicies
      CREATE INDEX domain_policies_by_kind ON domain_policies (policy, domain);

      CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        group_name TEXT NOT NULL,
        reporter_id TEXT NOT NULL,
        target_actor_id TEXT,
        object_ids TEXT NOT NULL,
        reason TEXT NOT NULL,
        flag_id TEXT,
        state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
        created_at INTEGER NOT NULL,
        resolved_at INTEGER,
        resolved_by TEXT
      );
      -- listReports
      CREATE INDEX reports_by_state ON reports (group_name, state, created_at, id);

      CREATE TABLE held_posts (
        group_name TEXT NOT NULL,
        object_id TEXT NOT NULL,
        author_id TEXT NOT NULL,
        activity_json TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (group_name, object_id)
      );
      -- listHeldPosts
      CREATE INDEX held_posts_by_created_at ON held_posts (group_name, created_at, object_id);

      CREATE TABLE audit_log (
        id TEXT PRIMARY KEY,
        group_name TEXT,
        actor_id TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      -- listAudit of a group or of the instance (group_name IS NULL)
      CREATE INDEX audit_log_by_group ON audit_log (group_name, at, id);
      -- listAudit of everything
      CREATE INDEX audit_log_by_at ON audit_log (at, id);

      ALTER TABLE posts ADD COLUMN pinned_at INTEGER;
      ALTER TABLE posts ADD COLUMN locked_at INTEGER;
      -- listPinned
      CREATE INDEX posts_pinned ON posts (group_name, pinned_at, object_id) WHERE pinned_at IS NOT NULL;
      -- countPostsByAuthorSince, countPostsByAuthor
      CREATE INDEX posts_by_author ON posts (group_name, author_id, created_at);
      -- listPostsByAuthor
      CREATE INDEX posts_by_author_object ON posts (group_name, author_id, object_id);
    `,
  },
  {
    version: 3,
    name: 'groups of an actor, groups of a post',
    sql: `
      -- listGroupsOfActor
      CREATE INDEX members_by_actor ON members (actor_id, group_name);
      -- listGroupsOfPost
      CREATE INDEX posts_by_object ON posts (object_id, group_name);
    `,
  },
  {
    version: 4,
    name: 'delivery health per host',
    sql: `
      -- One row per host that failed since its last success. getHost, recordFailure and recordSuccess use the
      -- primary key; listFailingHosts reads it in order (the table holds failing hosts only, so it stays small).
      CREATE TABLE host_status (
        host TEXT PRIMARY KEY,
        first_failure_at INTEGER NOT NULL,
        last_failure_at INTEGER NOT NULL,
        consecutive_failures INTEGER NOT NULL,
        -- JSON array of UTC days (YYYY-MM-DD), ascending
        failure_days TEXT NOT NULL,
        failure_day_count INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'withdrawn activities',
    sql: `
      -- Set when the post an activity carried was deleted or removed (markPostDeleted).
      ALTER TABLE activities ADD COLUMN withdrawn_at INTEGER;
      DROP INDEX activities_outbox;
      -- listOutbox, countOutbox
      CREATE INDEX activities_outbox ON activities (group_name, published, id)
        WHERE in_outbox = 1 AND withdrawn_at IS NULL;
      -- markPostDeleted (withdrawal), listActivitiesAbout
      CREATE INDEX activities_by_object ON activities (group_name, object_id, published, id)
        WHERE object_id IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: 'purges: ids of purged jobs, expired bans, stale actor copies',
    sql: `
      -- Ids of purged jobs kept for de-duplication (enqueue looks them up by id); forgetPurgedIds reads
      -- (queue, created_at) in order.
      CREATE TABLE purged_job_ids (
        id TEXT PRIMARY KEY,
        queue TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX purged_job_ids_by_created_at ON purged_job_ids (queue, created_at);
      -- purgeExpired
      CREATE INDEX bans_by_expires_at ON bans (expires_at) WHERE expires_at IS NOT NULL;
      -- purgeStale
      CREATE INDEX remote_actors_by_fetched_at ON remote_actors (fetched_at);
      -- purgeStale (moderators of any group)
      CREATE INDEX moderators_by_actor ON moderators (actor_id);
    `,
  },
  {
    version: 7,
    name: 'who removed a post',
    sql: `
      -- NULL: live, or deleted by its author; else the moderator (or admin) who removed it.
      ALTER TABLE posts ADD COLUMN removed_by TEXT;
    `,
  },
];
