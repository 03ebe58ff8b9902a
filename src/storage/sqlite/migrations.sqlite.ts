/** The numbered schema migrations of the SQLite store and how they are applied. */
import type { Database } from 'better-sqlite3';

/** One step of the schema. Steps are applied in version order and never edited once released. */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as numbered steps. Every index matches a query of a repository in this folder; the comment above
 * each index names it.
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
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
  {
    version: 8,
    name: 'owners, group requests, one-time codes, sessions',
    sql: `
      CREATE TABLE group_owners (
        group_name TEXT PRIMARY KEY,
        actor_id TEXT NOT NULL,
        since INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE group_requests (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        title TEXT NOT NULL,
        requester_id TEXT NOT NULL,
        requester_host TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('created', 'pending', 'approved', 'rejected')),
        created_at INTEGER NOT NULL,
        decided_at INTEGER,
        decided_by TEXT,
        reason TEXT NOT NULL
      );
      -- listGroupRequests, getPendingByName (state = 'pending', then name)
      CREATE INDEX group_requests_by_state ON group_requests (state, created_at, id);
      CREATE INDEX group_requests_by_name ON group_requests (name, state);
      -- countGroupRequestsSince
      CREATE INDEX group_requests_by_requester ON group_requests (requester_id, created_at);
      CREATE INDEX group_requests_by_host ON group_requests (requester_host, created_at);
      CREATE TABLE one_time_codes (
        hash TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) WITHOUT ROWID;
      -- purgeCodes
      CREATE INDEX one_time_codes_by_expiry ON one_time_codes (expires_at);
      CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        actor_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- deleteSessionsOf
      CREATE INDEX sessions_by_actor ON sessions (actor_id);
      -- purgeSessions
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);
      -- listGroupsOfModerator
      CREATE INDEX moderators_by_actor_group ON moderators (actor_id, group_name);
    `,
  },
  {
    version: 9,
    name: 'software of other servers',
    sql: `
      -- What each server's NodeInfo says it runs (name and version NULL until learned).
      CREATE TABLE peer_software (
        origin TEXT PRIMARY KEY,
        name TEXT,
        version TEXT,
        learned_at INTEGER,
        refresh_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- listDue
      CREATE INDEX peer_software_by_refresh_at ON peer_software (refresh_at, origin);
    `,
  },
  {
    version: 10,
    name: 'bans by actor',
    sql: `
      -- hasActiveBan: is an actor banned from any group (sign-in refuses a person banned everywhere)
      CREATE INDEX bans_by_actor ON bans (actor_id, expires_at);
    `,
  },
  {
    version: 11,
    name: 'vote state, rate-limit hits, claims, report notices',
    sql: `
      -- The last vote of a member on a post (getVote, putVote use the primary key).
      CREATE TABLE votes (
        group_name TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        object_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('Like', 'Dislike', 'undone')),
        activity_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (group_name, actor_id, object_id)
      ) WITHOUT ROWID;
      -- Hits counted against rate limits (tryHit looks a hit up by the primary key).
      CREATE TABLE rate_hits (
        bucket TEXT NOT NULL,
        hit_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (bucket, hit_id)
      );
      -- tryHit (count in the window), listHits
      CREATE INDEX rate_hits_by_bucket_at ON rate_hits (bucket, at);
      -- purgeHits
      CREATE INDEX rate_hits_by_at ON rate_hits (at);
      -- Claims that settle races (claim and release use the primary key).
      CREATE TABLE claims (
        key TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        at INTEGER NOT NULL,
        expires_at INTEGER
      ) WITHOUT ROWID;
      -- purgeExpiredClaims
      CREATE INDEX claims_by_expiry ON claims (expires_at) WHERE expires_at IS NOT NULL;
      -- When the moderators were told of a report (NULL: not yet); they were told of every earlier one at once.
      ALTER TABLE reports ADD COLUMN notified_at INTEGER;
      UPDATE reports SET notified_at = created_at;
      -- listUnnotified, listGroupsWithUnnotified
      CREATE INDEX reports_unnotified ON reports (group_name, created_at, id)
        WHERE notified_at IS NULL AND state = 'open';
    `,
  },
  {
    version: 12,
    name: 'moves, groups following groups, peers and their directories',
    sql: `
      -- getMoveState, addAlsoKnownAs, setMovedTo: one row per group that has either.
      CREATE TABLE group_moves (
        group_name TEXT PRIMARY KEY,
        also_known_as TEXT NOT NULL,
        moved_to TEXT,
        moved_at INTEGER
      );
      -- addPriorMembers, isPriorMember, countPriorMembers
      CREATE TABLE prior_members (
        group_name TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        PRIMARY KEY (group_name, actor_id)
      ) WITHOUT ROWID;
      -- getGroupFollow, putGroupFollow, removeGroupFollow, listGroupFollows
      CREATE TABLE group_follows (
        group_name TEXT NOT NULL,
        target_id TEXT NOT NULL,
        target_inbox TEXT NOT NULL,
        follow_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (group_name, target_id)
      );
      -- listFollowsOf
      CREATE INDEX group_follows_by_target ON group_follows (target_id, group_name);
      -- replaceKnownMembers, countKnownMembers, listDeliveryInboxesExcept (remote group)
      CREATE TABLE known_members (
        group_id TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        PRIMARY KEY (group_id, actor_id)
      ) WITHOUT ROWID;
      -- getPeer, putPeer, removePeer, listPeers, markPeerSeen (peered instances)
      CREATE TABLE peerings (
        host TEXT PRIMARY KEY,
        actor_id TEXT NOT NULL,
        inbox TEXT NOT NULL,
        added INTEGER NOT NULL,
        follow_id TEXT,
        following INTEGER NOT NULL,
        their_follow_id TEXT,
        followed_by INTEGER NOT NULL,
        added_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      );
      -- getEntry, putEntry, removeEntry, listEntries
      CREATE TABLE directory_entries (
        actor_id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        name TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        tags TEXT NOT NULL,
        icon_url TEXT,
        membership_policy TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- removeEntriesOfHost
      CREATE INDEX directory_entries_by_host ON directory_entries (host);
    `,
  },
];

/**
 * Brings the schema of `db` up to date. Runs in one IMMEDIATE transaction, so that several processes opening
 * the same file at once apply each step exactly once (the others wait on the write lock, then find nothing left
 * to do). Throws when the file was written by a newer version that knows steps this one does not.
 */
export function migrateSqlite(
  db: Database,
  migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
): number[] {
  const run = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const rows = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all();
    const applied = new Set(rows.map((row) => row.version));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((version) => !known.has(version));
    if (unknown.length > 0) {
      throw new Error(
        `SQLite database has schema version(s) ${unknown.join(', ')} unknown to this version of Guild; ` +
          'upgrade Guild or use another database file',
      );
    }
    const insert = db.prepare<[number, string, number]>(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      insert.run(migration.version, migration.name, Date.now());
      done.push(migration.version);
    }
    return done;
  });
  return run.immediate();
}
