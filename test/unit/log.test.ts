import { expect } from 'chai';
import { createLogger } from '../../src/log.ts';

describe('createLogger', function () {
  it('writes one JSON object a line with level, time, message and fields', function () {
    const lines: string[] = [];
    const log = createLogger('info', { service: 'guild-test' }, (l) => lines.push(l));
    log.info('joined %s 100%', { group: 'rust', count: 2 });
    log.debug('not written');
    log.warn('plain');
    expect(lines).to.have.length(2);
    const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(first).to.include({ level: 'info', msg: 'joined %s 100%', service: 'guild-test', group: 'rust' });
    expect(first['count']).to.equal(2);
    expect(new Date(String(first['time'])).toISOString()).to.equal(first['time']);
    expect(JSON.parse(lines[1] ?? '')).to.include({ level: 'warn', msg: 'plain' });
    expect(lines.every((l) => !l.includes('\n'))).to.equal(true);
  });

  it('adds the fields of child loggers and serialises errors with their stack', function () {
    const lines: string[] = [];
    const log = createLogger('debug', {}, (l) => lines.push(l))
      .child({ loop: 'intake' })
      .child({ jobId: 'j1' });
    log.error('job handler failed', { err: new TypeError('boom') });
    const entry = JSON.parse(lines[0] ?? '') as { loop: string; jobId: string; err: Record<string, string> };
    expect(entry).to.include({ loop: 'intake', jobId: 'j1' });
    expect(entry.err).to.include({ type: 'TypeError', message: 'boom' });
    expect(entry.err['stack']).to.contain('log.test.ts');
  });

  it('writes nothing when silent', function () {
    const lines: string[] = [];
    const log = createLogger('silent', {}, (l) => lines.push(l));
    log.error('x', { a: 1 });
    expect(lines).to.deep.equal([]);
  });
});
