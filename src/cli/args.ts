/** A small argv parser: positional words and `--key value` / `--key=value` / `--flag` options. */
export interface ParsedArgs {
  positional: string[];
  /** Option values; an option given without a value holds `'true'`. */
  flags: Record<string, string>;
  /** Options given without a value (`--flag` followed by another option or by nothing). */
  bare: Set<string>;
}

export function parseArgs(argv: string[]): ParsedArgs {
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
        if (next !== undefined && !next.startsWith('--')) {
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
