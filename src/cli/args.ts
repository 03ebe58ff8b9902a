/** A small argv parser: positional words and `--key value` / `--key=value` / `--flag` options. */
export interface ParsedArgs {
  positional: string[];
  /** Option values; an option given without a value holds `'true'`. */
  flags: Record<string, string>;
  /** Options given without a value (`--flag` followed by another option or by nothing). */
  bare: Set<string>;
}

/**
 * Splits argv into positional words and options. Options named in `switches` never take a value (so
 * `--remove-posts ACTOR` keeps ACTOR positional); the others take the next word unless it is an option.
 */
export function parseArgs(argv: string[], switches: ReadonlySet<string> = new Set()): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  const bare = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) {
        flags[a.slice(2, eq)] = a.slice(eq + 1);
        bare.delete(a.slice(2, eq));
      } else {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('--') && !switches.has(a.slice(2))) {
          flags[a.slice(2)] = next;
          bare.delete(a.slice(2));
          i++;
        } else {
          flags[a.slice(2)] = 'true';
          bare.add(a.slice(2));
        }
      }
    } else {
      positional.push(a);
    }
  }
  return { positional, flags, bare };
}
