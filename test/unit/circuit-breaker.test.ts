import { expect } from 'chai';
import { CircuitBreaker } from '../../src/federation/circuit-breaker.ts';
import { Counter, Histogram, Metrics } from '../../src/federation/metrics.ts';

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
  it('renders counters and histograms in the Prometheus text format, escaping labels', function () {
    const c = new Counter('x_total', 'help');
    c.inc({ host: 'a"b' });
    c.inc({ host: 'a"b' }, 2);
    expect(c.render()).to.contain('x_total{host="a\\"b"} 3');
    const h = new Histogram('y_seconds', 'help', [0.1, 1]);
    h.observe({}, 0.05);
    h.observe({}, 0.5);
    const text = h.render();
    expect(text).to.contain('y_seconds_bucket{le="0.1"} 1');
    expect(text).to.contain('y_seconds_bucket{le="1"} 2');
    expect(text).to.contain('y_seconds_bucket{le="+Inf"} 2');
    expect(text).to.contain('y_seconds_count 2');
  });

  it('caps the number of series', function () {
    const c = new Counter('z_total', 'help');
    for (let i = 0; i < 5000; i++) c.inc({ host: `h${i}` });
    expect(
      c
        .render()
        .split('\n')
        .filter((l) => l.startsWith('z_total{')).length,
    ).to.equal(2000);
    expect(new Metrics().render()).to.contain('# TYPE guild_inbox_requests_total counter');
  });
});
