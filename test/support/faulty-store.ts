/**
 * A store that fails on purpose: wraps a real store, counts the reads and writes made through it, and makes the
 * Nth write (or the Nth read) throw, either before it reaches the store or after the store took it (a write
 * that happened although its caller was told it failed, as when a connection drops before the answer).
 *
 * Every method of the port is classified below, and TypeScript refuses a table that misses one: a new store
 * method must say whether it reads or writes before any test can run. The queue's own bookkeeping of the job
 * being run (claim, complete, retry...) is neither: it passes through uncounted, since what is under test is
 * what a job's handler does to the store, `enqueue` included. Nor is what is learned of other servers' software
 * (`peers`): a cache kept best-effort beside the jobs, whose failures are logged and never fail one.
 */
import type { Store } from '../../src/storage/store.ts';

type Access = 'read' | 'write' | 'queue' | 'cache';
type Repos = Omit<Store, 'kind' | 'ping' | 'close'>;
type Methods<R> = { [M in keyof R as R[M] extends (...args: never[]) => unknown ? M : never]: Access };
type Classification = { [R in keyof Repos]: Methods<Repos[R]> };

/** What each method of the port does to the store. */
export const ACCESS: Classification = {
  groups: {
    createGroup: 'write',
    getGroup: 'read',
    updateGroup: 'write',
    markGroupDeleted: 'write',
    listGroups: 'read',
    countGroups: 'read',
  },
  keys: { putKeyPairIfAbsent: 'write', getPublicKey: 'read', getPrivateKey: 'read' },
  members: {
    upsertMember: 'write',
    getMember: 'read',
    removeMember: 'write',
    countMembers: 'read',
    listMembers: 'read',
    listDeliveryInboxes: 'read',
    listGroupsOfActor: 'read',
    listMemberActors: 'read',
  },
  remoteActors: {
    putRemoteActor: 'write',
    getRemoteActor: 'read',
    getRemoteActorByKeyId: 'read',
    purgeStale: 'write',
  },
  activities: {
    putActivity: 'write',
    getActivity: 'read',
    listOutbox: 'read',
    countOutbox: 'read',
    listActivitiesAbout: 'read',
  },
  posts: {
    putPost: 'write',
    getPost: 'read',
    listGroupsOfPost: 'read',
    markPostDeleted: 'write',
    restorePost: 'write',
    listThread: 'read',
  },
  jobs: {
    enqueue: 'write',
    claim: 'queue',
    complete: 'queue',
    retry: 'queue',
    fail: 'queue',
    finish: 'queue',
    updatePayload: 'queue',
    extendLease: 'queue',
    getJob: 'read',
    stats: 'read',
    purgeFinished: 'queue',
    forgetPurgedIds: 'queue',
    listLeaseOwners: 'queue',
    releaseLeases: 'queue',
  },
  moderators: {
    addModerator: 'write',
    removeModerator: 'write',
    isModerator: 'read',
    listModerators: 'read',
    countModerators: 'read',
    listGroupsOfModerator: 'read',
  },
  bans: {
    putBan: 'write',
    removeBan: 'write',
    getActiveBan: 'read',
    listBans: 'read',
    hasActiveBan: 'read',
    purgeExpired: 'write',
  },
  domains: {
    putDomainPolicy: 'write',
    removeDomainPolicy: 'write',
    getDomainPolicy: 'read',
    listDomainPolicies: 'read',
    countDomainPolicies: 'read',
  },
  reports: {
    putReport: 'write',
    getReport: 'read',
    listReports: 'read',
    resolveReport: 'write',
    listUnnotified: 'read',
    listGroupsWithUnnotified: 'read',
    markNotified: 'write',
  },
  held: {
    holdPost: 'write',
    getHeldPost: 'read',
    takeHeldPost: 'write',
    listHeldPosts: 'read',
  },
  audit: { appendAudit: 'write', getAudit: 'read', listAudit: 'read' },
  postFlags: {
    setPinned: 'write',
    listPinned: 'read',
    setLocked: 'write',
    isLocked: 'read',
    countPostsByAuthorSince: 'read',
    countPostsByAuthor: 'read',
    listPostsByAuthor: 'read',
  },
  hosts: {
    recordFailure: 'write',
    recordSuccess: 'write',
    getHost: 'read',
    listFailingHosts: 'read',
  },
  votes: { getVote: 'read', putVote: 'write' },
  rateLimits: { tryHit: 'write', listHits: 'read', purgeHits: 'write' },
  claims: { claim: 'write', release: 'write', purgeExpiredClaims: 'write' },
  owners: { setOwner: 'write', getOwner: 'read', clearOwner: 'write' },
  groupRequests: {
    putGroupRequest: 'write',
    getGroupRequest: 'read',
    getPendingByName: 'read',
    listGroupRequests: 'read',
    decideGroupRequest: 'write',
    countGroupRequestsSince: 'read',
  },
  codes: { putCode: 'write', useCode: 'write', purgeCodes: 'write' },
  sessions: {
    putSession: 'write',
    getSession: 'read',
    deleteSession: 'write',
    deleteSessionsOf: 'write',
    purgeSessions: 'write',
  },
  moves: {
    getMoveState: 'read',
    addAlsoKnownAs: 'write',
    setMovedTo: 'write',
    addPriorMembers: 'write',
    isPriorMember: 'read',
    countPriorMembers: 'read',
  },
  groupFollows: {
    putGroupFollow: 'write',
    getGroupFollow: 'read',
    removeGroupFollow: 'write',
    listGroupFollows: 'read',
    listFollowsOf: 'read',
    replaceKnownMembers: 'write',
    countKnownMembers: 'read',
    listDeliveryInboxesExcept: 'read',
  },
  peerings: {
    putPeer: 'write',
    getPeer: 'read',
    removePeer: 'write',
    listPeers: 'read',
    updatePeer: 'write',
    markPeerSeen: 'write',
  },
  directory: {
    putEntry: 'write',
    getEntry: 'read',
    removeEntry: 'write',
    removeEntriesOfHost: 'write',
    listEntries: 'read',
  },
  peers: { noteOrigins: 'cache', putSoftware: 'cache', getSoftware: 'cache', listDue: 'cache' },
};

/** Where an injected write failure happens: before the store sees the write, or after it took it. */
export type FaultTiming = 'before' | 'after';

/** One injected failure: the `n`th read or write (counting from 1 since the last `reset`). */
export type Fault = { access: 'write'; n: number; timing: FaultTiming } | { access: 'read'; n: number };

export class InjectedFault extends Error {
  constructor(readonly call: string) {
    super(`injected store failure at ${call}`);
    this.name = 'InjectedFault';
  }
}

/** Counts the calls made through a faulty store and injects at most one failure at a time. */
export class StoreFaults {
  /** `repository.method` of every write since the last reset, in order. */
  readonly writes: string[] = [];
  /** `repository.method` of every read since the last reset, in order. */
  readonly reads: string[] = [];
  private armed: Fault | null = null;
  /** The call that failed on purpose since the last reset, if one did. */
  fired: string | null = null;

  /** Forgets the calls counted so far and any armed failure. */
  reset(): void {
    this.writes.length = 0;
    this.reads.length = 0;
    this.armed = null;
    this.fired = null;
  }

  /** Makes one call fail: the `n`th read or write from now on (as counted since the last reset). */
  arm(fault: Fault): void {
    this.armed = fault;
  }

  /** The failure to inject at this call, if it is the armed one (which then fires once). */
  take(access: 'read' | 'write', call: string): Fault | null {
    const list = access === 'write' ? this.writes : this.reads;
    list.push(call);
    const f = this.armed;
    if (!f || f.access !== access || f.n !== list.length) return null;
    this.armed = null;
    this.fired = call;
    return f;
  }
}

function wrapRepository<R extends object>(
  name: string,
  repo: R,
  access: Record<string, Access>,
  faults: StoreFaults,
): R {
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function') return value;
      const kind = access[prop];
      if (kind === undefined) throw new Error(`faulty store: ${name}.${prop} is not classified in ACCESS`);
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (kind === 'queue' || kind === 'cache') return method.bind(target);
      const call = `${name}.${prop}`;
      return async (...args: unknown[]) => {
        const fault = faults.take(kind, call);
        if (fault && (fault.access === 'read' || fault.timing === 'before')) throw new InjectedFault(call);
        const result = await method.apply(target, args);
        if (fault) throw new InjectedFault(`${call} (after it was stored)`);
        return result;
      };
    },
  });
}

/** `store` with every repository counted by `faults`; closing it closes `store`. */
export function withFaults(store: Store, faults: StoreFaults): Store {
  const wrapped = {} as Record<keyof Repos, object>;
  for (const name of Object.keys(ACCESS) as Array<keyof Repos>) {
    wrapped[name] = wrapRepository(name, store[name], ACCESS[name], faults);
  }
  return {
    ...(wrapped as unknown as Repos),
    kind: store.kind,
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
