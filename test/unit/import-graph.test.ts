/**
 * The dependency directions of src/, read from the import statements: lower layers never import higher ones, and
 * a background thread's module graph never reaches the HTTP server or express.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Import {
  /** `src/...` path of a relative import, or the package name. */
  target: string;
  typeOnly: boolean;
}

/** Static imports and re-exports of a module (dynamic `import()` is not followed: it loads on demand). */
function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: Import[] = [];
  const re = /^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)';/gms;
  for (const m of text.matchAll(re)) {
    const spec = m[2] ?? '';
    const target = spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec)) : spec;
    out.push({ target, typeOnly: m[1] !== undefined });
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(path: string): string | null {
  const m = /^src\/([^/]+)\//.exec(path);
  return m ? (m[1] ?? null) : null;
}

/** Imports from files of `folder` that break `allowed`, as "file -> target" lines. */
function offending(folder: string, allowed: (i: Import) => boolean): string[] {
  return sourceFiles(`src/${folder}`).flatMap((f) =>
    importsOf(f)
      .filter((i) => !allowed(i))
      .map((i) => `${f} -> ${i.target}`),
  );
}

const SERVER_PACKAGES = ['express', 'mongodb', 'better-sqlite3', 'jsonld', 'undici'];

describe('import graph', () => {
  it('reads the imports of a module (sanity check of the reader)', () => {
    const targets = importsOf('src/app/threads/thread.ts').map((i) => i.target);
    expect(targets).to.include('src/app/compose.ts');
    expect(targets).to.include('node:worker_threads');
  });

  it('activitypub/ and text/ import no other layer (storage only for types), and no server or database', () => {
    for (const folder of ['activitypub', 'text']) {
      expect(
        offending(folder, (i) => {
          const f = folderOf(i.target);
          if (f === null) return !SERVER_PACKAGES.includes(i.target);
          if (f === 'storage') return i.typeOnly;
          return f === 'activitypub' || f === 'text';
        }),
        folder,
      ).to.deep.equal([]);
    }
  });

  it('groups/ imports no federation, web, HTTP, composition or database code', () => {
    expect(
      offending('groups', (i) => {
        const f = folderOf(i.target);
        if (f === null) return !SERVER_PACKAGES.includes(i.target);
        return ['groups', 'activitypub', 'text', 'storage'].includes(f);
      }),
    ).to.deep.equal([]);
  });

  it('federation/ imports no web, HTTP or composition code, and only types from groups/', () => {
    expect(
      offending('federation', (i) => {
        const f = folderOf(i.target);
        if (f === null) return i.target !== 'express';
        if (f === 'groups') return i.typeOnly;
        return !['http', 'web', 'app', 'cli'].includes(f);
      }),
    ).to.deep.equal([]);
  });

  it('storage/ imports no layer above it', () => {
    expect(
      offending('storage', (i) => {
        const f = folderOf(i.target);
        return f === null || f === 'storage';
      }),
    ).to.deep.equal([]);
  });

  it('no layer imports the composition root (app/): only the entry points main.ts and cli/ do', () => {
    const outside = ['activitypub', 'config', 'federation', 'groups', 'http', 'storage', 'text', 'web'];
    for (const folder of outside) {
      expect(
        offending(folder, (i) => folderOf(i.target) !== 'app'),
        folder,
      ).to.deep.equal([]);
    }
  });

  it('a background thread never loads the HTTP server, the web pages or express', () => {
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const i of importsOf(file)) {
        if (i.typeOnly) continue;
        if (i.target.startsWith('src/')) visit(i.target);
        else packages.add(i.target);
      }
    };
    visit('src/app/threads/thread.ts');
    expect(seen).to.include('src/app/queues.ts');
    expect([...seen].filter((f) => f.startsWith('src/http/'))).to.deep.equal([]);
    expect([...seen].filter((f) => /^src\/web\/.*\.(page|routes)\.ts$/.test(f))).to.deep.equal([]);
    expect(seen).not.to.include('src/app/web.ts');
    expect(seen).not.to.include('src/app/start.ts');
    expect(packages).not.to.include('express');
  });
});
