/**
 * Reads what a store holds as raw bytes, under the adapter: every file of an SQLite database (the main file,
 * its write-ahead log and journal), or every document of every collection of a MongoDB database. For tests
 * that a secret is never written in clear.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import type { StoreOptions } from '../../src/storage/open-store.ts';

/** Where in the raw store `needle` occurs: file names, or `collection` names; empty when nowhere. */
export async function rawStoreOccurrences(options: StoreOptions, needle: string): Promise<string[]> {
  const found: string[] = [];
  if (options.kind === 'sqlite') {
    for (const file of [options.path, `${options.path}-wal`, `${options.path}-journal`]) {
      if (!existsSync(file)) continue;
      const bytes = await readFile(file);
      if (bytes.includes(needle, 0, 'utf8')) found.push(file);
    }
    return found;
  }
  const client = new MongoClient(options.url, { serverSelectionTimeoutMS: 5000 });
  try {
    const db = client.db(options.dbName);
    for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
      const docs = await db.collection(c.name).find({}).toArray();
      if (docs.some((doc) => JSON.stringify(doc).includes(needle))) found.push(c.name);
    }
  } finally {
    await client.close();
  }
  return found;
}
