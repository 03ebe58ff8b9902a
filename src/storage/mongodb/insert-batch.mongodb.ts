/**
 * Group commit of inserts, as the SQLite adapter's WriteBatch does for its writes: the documents submitted during
 * one turn of the event loop, and those submitted while a batch is being written, go to the server in one
 * unordered `insert` command. Each caller's promise settles once that command has answered, so an acknowledged
 * insert is as durable as before; many inbox POSTs arriving together cost one round trip.
 */
import type { Collection, Document, OptionalUnlessRequiredId } from 'mongodb';
import { insertManyIgnoringDuplicates } from './errors.mongodb.ts';

interface Pending<T> {
  docs: OptionalUnlessRequiredId<T>[];
  resolve: (inserted: Set<number>) => void;
  reject: (error: unknown) => void;
}

export class InsertBatch<T extends Document> {
  readonly #collection: Collection<T>;
  #pending: Pending<T>[] = [];
  #scheduled = false;
  #writing = false;

  constructor(collection: Collection<T>) {
    this.#collection = collection;
  }

  /**
   * Inserts `docs` with the next batch; resolves with the indexes (into `docs`) of those inserted, the others
   * having an `_id` that already existed (or that another document of the batch took first).
   */
  insert(docs: OptionalUnlessRequiredId<T>[]): Promise<Set<number>> {
    if (docs.length === 0) return Promise.resolve(new Set());
    return new Promise((resolve, reject) => {
      this.#pending.push({ docs, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#write();
    });
  }

  async #write(): Promise<void> {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#writing = true;
    try {
      await this.#writeBatch(batch);
    } finally {
      this.#writing = false;
      if (this.#pending.length > 0) this.#schedule();
    }
  }

  async #writeBatch(batch: Pending<T>[]): Promise<void> {
    const all = batch.flatMap((p) => p.docs);
    let inserted: Set<number>;
    try {
      inserted = await insertManyIgnoringDuplicates(this.#collection, all);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // Something other than a duplicate: each caller's documents are tried alone, so that what one caller sent
      // fails only that caller (and a server failure fails each of them).
      await Promise.all(
        batch.map((p) => insertManyIgnoringDuplicates(this.#collection, p.docs).then(p.resolve, p.reject)),
      );
      return;
    }
    let offset = 0;
    for (const p of batch) {
      const mine = new Set<number>();
      for (let i = 0; i < p.docs.length; i++) if (inserted.has(offset + i)) mine.add(i);
      offset += p.docs.length;
      p.resolve(mine);
    }
  }
}
