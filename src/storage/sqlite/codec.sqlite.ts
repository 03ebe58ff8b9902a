/** Conversions between SQLite column values and the storage port's types. */
import { DEFAULT_GROUP_SETTINGS, type GroupSettings } from '../store.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses JSON text written by this adapter into an object; anything else becomes an empty object. */
export function parseJsonObject(text: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text);
  return isRecord(parsed) ? parsed : {};
}

/**
 * Reads stored settings. Fields added to {@link GroupSettings} after a row was written take their default, so
 * old rows stay readable without a data migration.
 */
export function decodeSettings(text: string): GroupSettings {
  return { ...DEFAULT_GROUP_SETTINGS, ...parseJsonObject(text) } as GroupSettings;
}

/** SQLite has no boolean type: 1 for true, 0 for false. */
export function toFlag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}
