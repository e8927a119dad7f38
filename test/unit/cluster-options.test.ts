import { describe, expect, it } from 'vitest';
import { clusterOptions, nodePort, nodeUrl, probeUrl } from '../../scripts/cluster/options.ts';

describe('npm run cluster: options', () => {
  it('starts 3 nodes from 8080 over the local PostgreSQL and Redis by default', () => {
    expect(clusterOptions([], {})).toEqual({
      nodes: 3,
      firstPort: 8080,
      host: '',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/ferry',
      redisUrl: 'redis://127.0.0.1:6379',
    });
  });

  it('puts node k on PORT + k - 1', () => {
    const options = clusterOptions(['--nodes', '3'], { PORT: '9000' });
    expect([1, 2, 3].map((k) => nodePort(options, k))).toEqual([9000, 9001, 9002]);
  });

  it('takes --nodes over FERRY_CLUSTER_NODES, and FERRY_CLUSTER_NODES over the default', () => {
    expect(clusterOptions(['--nodes', '5'], { FERRY_CLUSTER_NODES: '2' }).nodes).toBe(5);
    expect(clusterOptions([], { FERRY_CLUSTER_NODES: '2' }).nodes).toBe(2);
  });

  it('uses FERRY_DATABASE_URL and FERRY_REDIS_URL when they are set', () => {
    const options = clusterOptions([], {
      FERRY_DATABASE_URL: 'postgres://db.internal/chat',
      FERRY_REDIS_URL: 'redis://cache.internal:6380',
    });
    expect(options).toMatchObject({
      databaseUrl: 'postgres://db.internal/chat',
      redisUrl: 'redis://cache.internal:6380',
    });
  });

  it.each([
    [['--nodes', '0'], {}, /--nodes must be a whole number from 1/],
    [['--nodes', 'many'], {}, /--nodes must be a whole number/],
    [[], { FERRY_CLUSTER_NODES: '1.5' }, /FERRY_CLUSTER_NODES must be a whole number/],
    [[], { PORT: '0' }, /PORT must be a whole number from 1/],
    [['--nodes', '2'], { PORT: '65535' }, /PORT must be .* \(2 consecutive ports from it\)/],
    [['--node', '2'], {}, /Unknown option '--node'/],
    [['2'], {}, /Unexpected argument '2'/],
    [[], { HTTPS: '1' }, /serves plain HTTP/],
  ])('refuses %j with %j', (args, env, message) => {
    expect(() => clusterOptions(args, env)).toThrow(message);
  });

  it('shows a node on every interface as localhost, and checks it on 127.0.0.1', () => {
    const options = clusterOptions([], {});
    expect(nodeUrl(options, 2)).toBe('http://localhost:8081');
    expect(probeUrl(options, 2)).toBe('http://127.0.0.1:8081');
  });

  it('shows and checks a node on one address at that address', () => {
    expect(nodeUrl(clusterOptions([], { HOST: '::1' }), 1)).toBe('http://[::1]:8080');
    expect(probeUrl(clusterOptions([], { HOST: '10.0.0.5' }), 1)).toBe('http://10.0.0.5:8080');
  });
});
