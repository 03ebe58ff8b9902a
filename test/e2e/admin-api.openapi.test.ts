/**
 * The admin API's surface: not mounted without a token, and docs/openapi/admin.yaml matching the router route
 * for route.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { TOKEN } from '../support/admin-api.ts';
import { adminRoutes } from '../../src/http/admin.routes.ts';

describe('admin API: surface and description', function () {
  this.timeout(60_000);
  let g: TestGuild;

  before(async function () {
    g = await startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN });
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await g?.close();
  });

  it('is not served when no token is configured', async function () {
    const plain = await startTestGuild();
    try {
      const r = await fetch(`${plain.origin}/api/v1/admin/groups`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(r.status).to.equal(404);
    } finally {
      await plain.close();
    }
  });

  it('documents every route of the router in docs/openapi/admin.yaml, and nothing else', async function () {
    const file = fileURLToPath(new URL('../../docs/openapi/admin.yaml', import.meta.url));
    const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
    const spec = yaml.load(await readFile(file, 'utf8')) as {
      openapi: string;
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    expect(spec.openapi).to.match(/^3\.1\./);
    expect(Object.values(spec.components.securitySchemes)).to.deep.include({
      type: 'http',
      scheme: 'bearer',
      description: 'The value of GUILD_ADMIN_TOKEN.',
    });
    const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
    const documented = Object.entries(spec.paths)
      .flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    for (const [path, ops] of Object.entries(spec.paths))
      for (const m of Object.keys(ops).filter((k) => METHODS.includes(k)))
        expect(Object.keys(ops[m]?.responses ?? {}), `${m} ${path}`).to.include('401');

    const router = adminRoutes({
      token: TOKEN,
      store: g.store,
      urls: g.guild.services.urls,
      domain: g.config.domain,
      groups: g.guild.services.groups,
      settings: g.guild.services.settings,
      membership: g.guild.services.membership,
      moderation: g.guild.services.moderation,
      moves: g.guild.services.moves,
      groupFollows: g.guild.services.groupFollows,
      peering: g.guild.services.peering,
      instance: g.guild.services.instance,
      ownership: g.guild.services.ownership,
      creation: g.guild.services.creation,
      handles: { resolveHandle: async () => null },
    });
    const stack = (
      router as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> }
    ).stack;
    const routed = stack
      .flatMap((layer) =>
        layer.route
          ? Object.keys(layer.route.methods).map(
              (m) => `${m.toUpperCase()} ${layer.route?.path.replace(/:(\w+)/g, '{$1}')}`,
            )
          : [],
      )
      .sort();
    expect(routed.length).to.be.greaterThan(20);
    expect(routed).to.deep.equal(documented);
  });
});
