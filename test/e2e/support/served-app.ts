import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerProcess } from '../../support/server-process.ts';
import { buildApp } from './app-build.ts';

/** A fresh build of the app, served by its own server over its own database. */
export interface ServedApp {
  server: ServerProcess;
  /** A temporary folder of this suite's own (the database is in it; browser profiles may be). */
  workDir: string;
  /** Stops the server and removes the build and the folder. */
  dispose(): Promise<void>;
}

/** What most browser suites start with: `label` names the build and the folder. */
export async function serveFreshBuild(
  label: string,
  options: { rate?: { burst: number; perMinute: number }; port?: number | 'held' } = {},
): Promise<ServedApp> {
  const workDir = mkdtempSync(join(tmpdir(), `ferry-e2e-${label}-`));
  const build = await buildApp(label);
  const server = new ServerProcess({
    port: options.port ?? 0,
    dbPath: join(workDir, 'ferry.db'),
    staticDir: build.dir,
    ...options,
  });
  await server.start();
  return {
    server,
    workDir,
    async dispose() {
      await server.dispose();
      build.dispose();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
