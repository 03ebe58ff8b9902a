/**
 * The storage port of what is known of the software other servers run (from their NodeInfo), per origin: the
 * delivery side sends each member server the forms it understands (`federation/peer-software*.ts`).
 */

/** What a server's NodeInfo said of its software, and when to ask again. */
export interface PeerSoftware {
  /** `scheme://host[:port]`, lowercased as URLs have it: the origin of the server's inboxes. */
  origin: string;
  /** `software.name` of its NodeInfo, lowercased; null while unknown (never learned, or never answered). */
  name: string | null;
  /** `software.version`, or null. */
  version: string | null;
  /** When the name was last read from the server; null when it never was. */
  learnedAt: number | null;
  /** When to read it again (the maintenance loop asks the servers whose time has come). */
  refreshAt: number;
}

export interface PeerSoftwareRepository {
  /**
   * Records the origins not known yet, with nothing learned and due at `at`; origins already known are left as
   * they are. Returns how many were new.
   */
  noteOrigins(origins: string[], at: number): Promise<number>;
  /** Inserts or replaces the record of `software.origin`. */
  putSoftware(software: PeerSoftware): Promise<void>;
  /** The records of these origins (at most 1,000 asked at once), in no particular order; unknown ones are absent. */
  getSoftware(origins: string[]): Promise<PeerSoftware[]>;
  /** Up to `limit` records due at `now` (refreshAt <= now), the longest due first (refreshAt, then origin). */
  listDue(now: number, limit: number): Promise<PeerSoftware[]>;
}
