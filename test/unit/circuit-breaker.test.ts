import { expect } from 'chai';
import { CircuitBreaker } from '../../src/federation/circuit-breaker.ts';
import { Metrics } from '../../src/federation/metrics.ts';

describe('circuit breaker', function () {
  it('opens after the threshold, half-opens after the delay, closes on success', function () {
    let t = 1000;
    const changes: Array<[string, boolean]> = [];
    const b = new CircuitBreaker({
      threshold: 3,
      openMs: 100,
      now: () => t,
      onChange: (h, o) => changes.push([h, o]),
    });
    b.failure('a.example');
    b.failure('a.example');
    expect(b.isOpen('a.example')).to.equal(false);
    b.failure('a.example');
    expect(b.isOpen('a.example')).to.equal(true);
    expect(b.openHosts()).to.deep.equal(['a.example']);
    expect(b.isOpen('b.example')).to.equal(false);
    t += 101;
    expect(b.isOpen('a.example'), 'half-open after the delay').to.equal(false);
    b.failure('a.example');
    expect(b.isOpen('a.example'), 'one failure while half-open opens it again').to.equal(true);
    t += 101;
    b.success('a.example');
    expect(b.isOpen('a.example')).to.equal(false);
    b.failure('a.example');
    expect(b.isOpen('a.example'), 'counting starts over after a success').to.equal(false);
    expect(changes).to.deep.equal([
      ['a.example', true],
      ['a.example', true],
      ['a.example', false],
    ]);
  });
});

describe('metrics', function () {
  it('renders counters and histograms in the Prometheus text format, escaping labels', async function () {
    const m = new Metrics();
    m.hostFailures.inc({ host: 'a"b' });
    m.hostFailures.inc({ host: 'a"b' }, 2);
    m.inboxSeconds.observe({}, 0.004);
    m.inboxSeconds.observe({}, 0.5);
    const text = await m.render();
    expect(text).to.contain('guild_delivery_host_failures_total{host="a\\"b"} 3');
    expect(text).to.contain('guild_inbox_request_seconds_bucket{le="0.005"} 1');
    expect(text).to.contain('guild_inbox_request_seconds_bucket{le="0.5"} 2');
    expect(text).to.contain('guild_inbox_request_seconds_bucket{le="+Inf"} 2');
    expect(text).to.contain('guild_inbox_request_seconds_count 2');
    expect(text).to.contain('# TYPE guild_inbox_requests_total counter');
    expect(text).to.match(/^process_resident_memory_bytes \d+$/m);
  });

  it('caps the number of series of host-labelled metrics', async function () {
    const m = new Metrics();
    for (let i = 0; i < 5000; i++) {
      m.hostFailures.inc({ host: `h${i}` });
      m.circuitOpen.set({ host: `h${i}` }, 1);
    }
    m.hostFailures.inc({ host: 'h0' }, 4);
    const lines = (await m.render()).split('\n');
    expect(lines.filter((l) => l.startsWith('guild_delivery_host_failures_total{'))).to.have.length(2000);
    expect(lines.filter((l) => l.startsWith('guild_delivery_circuit_open{'))).to.have.length(2000);
    expect(lines).to.include('guild_delivery_host_failures_total{host="h0"} 5');
  });

  it('keeps the registries of two instances apart', async function () {
    const a = new Metrics();
    const b = new Metrics();
    a.inboxRequests.inc({ status: '202' });
    expect(await a.render()).to.match(/^guild_inbox_requests_total\{status="202"\} 1$/m);
    expect(await b.render()).not.to.contain('guild_inbox_requests_total{');
  });
});
