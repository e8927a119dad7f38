import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `writeAppBuild` wrote: the hashed script's URL path and its content. */
export interface AppBuildFiles {
  scriptPath: string;
  script: string;
  index: string;
}

/**
 * A stand-in for `vite build`'s output in `dir`: index.html loading one hashed script
 * under /assets/, a service worker and a manifest. A later `version` replaces the
 * previous one's files, as a rebuild does.
 */
export function writeAppBuild(dir: string, version: number): AppBuildFiles {
  rmSync(join(dir, 'assets'), { recursive: true, force: true });
  mkdirSync(join(dir, 'assets'), { recursive: true });
  const scriptPath = `/assets/index-v${version}.js`;
  const script = `console.log('build ${version}');\n`;
  const index = `<!doctype html><title>Ferry</title><script type="module" src="${scriptPath}"></script><!-- build ${version} -->\n`;
  writeFileSync(join(dir, scriptPath), script);
  writeFileSync(join(dir, 'index.html'), index);
  writeFileSync(join(dir, 'sw.js'), `// service worker of build ${version}\n`);
  writeFileSync(join(dir, 'manifest.webmanifest'), '{"name":"Ferry"}\n');
  return { scriptPath, script, index };
}
