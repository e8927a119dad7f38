// `npm start` with a bad setting: the message names the variable, and nothing else is said.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the server started with a bad setting', () => {
  it('exits 1 with a message that names each wrong variable, and no stack trace', () => {
    const started = spawnSync(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: '0', FERRY_LOG_LEVEL: 'loud', FERRY_SHUTDOWN_GRACE_MS: '5' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(started.status).toBe(1);
    expect(started.stderr).toContain('FERRY_LOG_LEVEL must be one of');
    expect(started.stderr).toContain('FERRY_SHUTDOWN_GRACE_MS must be an integer from 1000');
    expect(started.stderr).not.toMatch(/^\s+at /m);
    expect(started.stdout).toBe('');
  });
});
