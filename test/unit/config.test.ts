import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('configuration', function () {
  it('has working defaults: sqlite, all roles, local origin', function () {
    const c = loadConfig({});
    expect(c.store).to.equal('sqlite');
    expect(c.role).to.equal('all');
    expect(c.origin).to.equal('http://127.0.0.1:8080');
    expect(c.domain).to.equal('127.0.0.1:8080');
    expect(c.sqlitePath).to.match(/data\/guild\.sqlite$/);
    expect(c.allowPrivateAddresses).to.equal(false);
  });

  it('takes environment variables over the defaults', function () {
    const c = loadConfig({
      GUILD_ORIGIN: 'https://guild.example',
      GUILD_PORT: '9000',
      GUILD_STORE: 'mongodb',
      GUILD_MONGODB_URL: 'mongodb://db:27017/guild',
      GUILD_ROLE: 'worker',
      GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
      GUILD_DELIVERY_CONCURRENCY: '8',
    });
    expect(c).to.include({
      origin: 'https://guild.example',
      domain: 'guild.example',
      port: 9000,
      store: 'mongodb',
      role: 'worker',
      allowPrivateAddresses: true,
    });
    expect(c.delivery.concurrency).to.equal(8);
  });

  it('reads the HTTP limits and the metrics listener', function () {
    const d = loadConfig({});
    expect(d.http).to.deep.equal({
      maxConnections: 1024,
      maxConnectionsPerClient: 128,
      requestTimeoutMs: 10_000,
    });
    expect(d.metricsListen).to.equal(null);
    const c = loadConfig({
      GUILD_MAX_CONNECTIONS: '50',
      GUILD_CONNECTIONS_PER_CLIENT: '5',
      GUILD_REQUEST_TIMEOUT_MS: '3000',
      GUILD_METRICS_LISTEN: '[::1]:9464',
    });
    expect(c.http).to.deep.equal({ maxConnections: 50, maxConnectionsPerClient: 5, requestTimeoutMs: 3000 });
    expect(c.metricsListen).to.deep.equal({ host: '::1', port: 9464 });
    expect(loadConfig({ GUILD_METRICS_LISTEN: '127.0.0.1:9464' }).metricsListen).to.deep.equal({
      host: '127.0.0.1',
      port: 9464,
    });
    const p = problemsOf({
      GUILD_MAX_CONNECTIONS: '0',
      GUILD_CONNECTIONS_PER_CLIENT: 'many',
      GUILD_REQUEST_TIMEOUT_MS: '10',
      GUILD_METRICS_LISTEN: '9464',
    });
    expect(p.join('\n'))
      .to.contain('GUILD_MAX_CONNECTIONS ')
      .and.contain('GUILD_CONNECTIONS_PER_CLIENT')
      .and.contain('GUILD_REQUEST_TIMEOUT_MS')
      .and.contain('GUILD_METRICS_LISTEN');
    expect(p).to.have.length(4);
    expect(problemsOf({ GUILD_METRICS_LISTEN: '127.0.0.1:99999' })).to.have.length(1);
  });

  it('reports every problem with the variable name', function () {
    const p = problemsOf({
      GUILD_ORIGIN: 'ftp://x',
      GUILD_PORT: '70000',
      GUILD_STORE: 'postgres',
      GUILD_ROLE: 'boss',
    });
    expect(p.join('\n'))
      .to.contain('GUILD_ORIGIN')
      .and.contain('GUILD_PORT')
      .and.contain('GUILD_STORE')
      .and.contain('GUILD_ROLE');
    expect(p).to.have.length(4);
  });

  it('refuses an origin with a path, a bad MongoDB URL and a short admin token', function () {
    expect(problemsOf({ GUILD_ORIGIN: 'https://guild.example/sub' })[0]).to.contain('origin only');
    expect(problemsOf({ GUILD_STORE: 'mongodb', GUILD_MONGODB_URL: 'localhost:27017' })[0]).to.contain(
      'GUILD_MONGODB_URL',
    );
    expect(problemsOf({ GUILD_ADMIN_TOKEN: 'short' })[0]).to.contain('GUILD_ADMIN_TOKEN');
    expect(problemsOf({ GUILD_ALLOW_PRIVATE_ADDRESSES: 'maybe' })[0]).to.contain(
      'GUILD_ALLOW_PRIVATE_ADDRESSES',
    );
  });
});
