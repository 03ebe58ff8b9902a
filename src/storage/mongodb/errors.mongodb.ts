/** MongoDB duplicate-key errors: detecting them, inserting past them, retrying upserts that race. */
import { MongoBulkWriteError, MongoServerError, type Collection, type Document } from 'mongodb';

/** The server's code for a unique index violation. */
export const DUPLICATE_KEY = 11000;

/** True for a unique index violation reported by the server. */
export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * Inserts `docs` unordered and reports which of them (by index) were inserted; the others already existed.
 * Any error other than a duplicate key is rethrown.
 */
export async function insertManyIgnoringDuplicates<T extends Document>(
  collection: Collection<T>,
  docs: Parameters<Collection<T>['insertMany']>[0],
): Promise<Set<number>> {
  const all = new Set(docs.keys());
  if (docs.length === 0) return all;
  try {
    await collection.insertMany(docs, { ordered: false });
    return all;
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError) || error.err !== undefined) throw error;
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    if (writeErrors.length === 0 || writeErrors.some((e) => e.code !== DUPLICATE_KEY)) throw error;
    for (const writeError of writeErrors) all.delete(writeError.index);
    return all;
  }
}

/**
 * Runs an upsert again when it failed on a duplicate key: two concurrent upserts of a new document may both try
 * to insert it, and the second one succeeds as an update on its next try.
 */
export async function retryOnDuplicateKey<T>(upsert: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await upsert();
    } catch (error) {
      if (!isDuplicateKeyError(error) || attempt >= attempts) throw error;
    }
  }
}
