/**
 * Run as a separate process by the lifecycle contract: opens the store described by argv[2] (JSON
 * StoreOptions), creates the group named argv[3], and closes the store.
 */
import { openStore, type StoreOptions } from '../../../src/storage/open-store.ts';
import { group } from './fixtures.ts';

const [options, name] = process.argv.slice(2);
if (options === undefined || name === undefined)
  throw new Error('usage: open-store.child.ts OPTIONS_JSON NAME');
const store = await openStore(JSON.parse(options) as StoreOptions);
try {
  if (!(await store.groups.createGroup(group(name)))) throw new Error(`group ${name} exists`);
} finally {
  await store.close();
}
