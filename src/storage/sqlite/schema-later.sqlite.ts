/** Schema steps 8 and later of the SQLite store (owners and self-service, peers' software, brakes, links). */
import type { SqliteMigration } from './migrations.sqlite.ts';

/** Every index matches a query of a repository in this folder; the comment above each index names it. */
export const LATER_STEPS: readonly SqliteMigration[] = [
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
