import { type FileHandle, open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import Negotiator from 'negotiator';

/** Vite puts every hashed (content-addressed) file here: its name changes with its bytes. */
const HASHED_PREFIX = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else is revalidated on each load (a 304 when unchanged), so a deploy is seen at once. */
const REVALIDATE = 'no-cache';
/** How long a client out of luck on file descriptors is asked to wait before trying again. */
const RETRY_AFTER_SECONDS = 1;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/**
 * Types the build may leave compressed copies beside (scripts/compress-assets.ts): text,
 * and .ico. Their responses vary with Accept-Encoding, also when sent as they are.
 */
const COMPRESSIBLE = new Set([
  '.html',
  '.js',
  '.mjs',
  '.css',
  '.json',
  '.map',
  '.webmanifest',
  '.txt',
  '.xml',
  '.svg',
  '.ico',
  '.wasm',
]);

/** The copies the build makes: `<file>.br` and `<file>.gz`. */
const COMPRESSED_COPIES = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;
type Encoding = (typeof COMPRESSED_COPIES)[number]['encoding'];
/** Best first, for a client that accepts several equally: brotli is the smallest. */
const ENCODING_PREFERENCE: readonly string[] = ['br', 'gzip', 'identity'];

/** negotiator 1.x ranks equal q-values by `preferred`; its types (still 0.6's) lack it. */
const rankEncodings = Negotiator.prototype.encodings as (
  this: Negotiator,
  available: readonly string[],
  options: { preferred: readonly string[] },
) => string[];

/** What opening a file came to: the open file, no such file, or a failure to read it. */
type Opened =
  | { kind: 'file'; handle: FileHandle; size: number; mtimeMs: number }
  | { kind: 'missing' }
  | { kind: 'failed'; code: string };

/** Codes that mean "no file here", as opposed to "a file we could not read". */
const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);
/** Codes that mean the process is out of descriptors: it passes once connections close. */
const EXHAUSTED_CODES = new Set(['EMFILE', 'ENFILE']);

/**
 * Opens the file, then asks the open handle for its size: there is no moment between a
 * check and the read in which a rebuild can remove the file, and a file removed after
 * that is still read whole (the open handle keeps it).
 */
async function openFile(path: string): Promise<Opened> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = errorCode(error);
    return MISSING_CODES.has(code) ? { kind: 'missing' } : { kind: 'failed', code };
  }
  try {
    const stat = await handle.stat();
    if (stat.isFile()) return { kind: 'file', handle, size: stat.size, mtimeMs: stat.mtimeMs };
    await handle.close();
    return { kind: 'missing' };
  } catch (error) {
    await handle.close().catch(() => {});
    return { kind: 'failed', code: errorCode(error) };
  }
}

function errorCode(error: unknown): string {
  return error && typeof error === 'object' && 'code' in error ? String(error.code) : 'UNKNOWN';
}

type OpenFile = Extract<Opened, { kind: 'file' }>;

/** An open file to send, and its Content-Encoding (null: the file itself). */
interface Representation {
  file: OpenFile;
  encoding: Encoding | null;
}

/**
 * What to send for `path` (open as `original`): its compressed copy the client ranks
 * highest by its Accept-Encoding q-values (brotli before gzip on a tie), or the file
 * itself when the client ranks that higher, accepts no copy there is, or sends no
 * Accept-Encoding. A copy that is missing or cannot be opened is passed over. A client
 * refusing identity too (`identity;q=0`) still gets the file: better than a 406.
 */
async function chooseRepresentation(
  req: IncomingMessage,
  original: OpenFile,
  path: string,
): Promise<Representation> {
  const accepted = rankEncodings.call(new Negotiator(req), ENCODING_PREFERENCE, {
    preferred: ENCODING_PREFERENCE,
  });
  for (const name of accepted) {
    const copy = COMPRESSED_COPIES.find((candidate) => candidate.encoding === name);
    if (!copy) break; // identity ranks above every copy still untried
    const opened = await openFile(path + copy.suffix);
    if (opened.kind === 'file') {
      void original.handle.close();
      return { file: opened, encoding: copy.encoding };
    }
  }
  return { file: original, encoding: null };
}

/**
 * The file a URL path names under `root`, or null when it names nothing there: a
 * malformed escape, a NUL, a dot-file, a path that climbs out of `root`, or a compressed
 * copy (`.br`, `.gz`), which is only ever sent in place of its file, with its encoding.
 */
function fileFor(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const normalized = posix.normalize(decoded);
  if (normalized.split('/').some((segment) => segment.startsWith('.'))) return null;
  const extension = extname(normalized).toLowerCase();
  if (COMPRESSED_COPIES.some((copy) => copy.suffix === extension)) return null;
  const file = resolve(join(root, normalized));
  return file.startsWith(root + sep) ? file : null;
}

/**
 * A path the app's router would own: not a hashed asset, and no file extension. Anything
 * else that is missing is a real 404, never the app shell (a missing script answered with
 * HTML, cached as immutable, would break the page for a year).
 */
function isAppRoute(urlPath: string): boolean {
  return !urlPath.startsWith(HASHED_PREFIX) && extname(urlPath) === '';
}

/** Of the bytes sent: a compressed copy's tag is its own, and names its encoding. */
function etagOf(file: OpenFile, encoding: Encoding | null): string {
  const tag = `${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}`;
  return encoding ? `W/"${tag}-${encoding}"` : `W/"${tag}"`;
}

function matchesEtag(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  const weak = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || weak(tag) === weak(etag));
}

function answerText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function answerFailure(res: ServerResponse, code: string): void {
  if (EXHAUSTED_CODES.has(code)) {
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    answerText(res, 503, 'The server is busy; try again in a moment');
  } else {
    answerText(res, 500, 'The file could not be read');
  }
}

/**
 * Sends `filePath`, open as `original`, or its compressed copy when the client accepts one
 * (headers only for HEAD, nothing for a matching revalidation).
 */
async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  original: OpenFile,
  urlPath: string,
  filePath: string,
): Promise<void> {
  const extension = extname(filePath).toLowerCase();
  const compressible = COMPRESSIBLE.has(extension);
  const { file, encoding } = compressible
    ? await chooseRepresentation(req, original, filePath)
    : { file: original, encoding: null };
  const etag = etagOf(file, encoding);
  res.setHeader('Cache-Control', urlPath.startsWith(HASHED_PREFIX) ? IMMUTABLE : REVALIDATE);
  if (compressible) res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', new Date(file.mtimeMs).toUTCString());
  if (matchesEtag(req, etag)) {
    void file.handle.close();
    res.writeHead(304);
    res.end();
    return;
  }
  if (encoding) res.setHeader('Content-Encoding', encoding);
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
    'Content-Length': file.size,
  });
  if (req.method === 'HEAD' || file.size === 0) {
    void file.handle.close();
    res.end();
    return;
  }
  // The stream closes the handle when it ends or fails; `end` holds the body to the length
  // announced even if a rebuild writes into the file meanwhile. A read failing half-way
  // (the headers are gone by then) can only cut the response, which pipeline does: the
  // client sees a short body rather than a wrong one, and the error goes nowhere else.
  const body = file.handle.createReadStream({ start: 0, end: file.size - 1 });
  pipeline(body, res, () => {});
}

/**
 * Serves the built app from `root` (GET and HEAD), reading the folder on every request, so
 * a rebuild is served without a restart. Hashed `/assets/*` are immutable; everything else,
 * the app shell included, is revalidated. A text file is sent as its `.br` or `.gz` copy
 * when the build made one and the client accepts it (see `chooseRepresentation`). A path
 * the app's router owns gets the shell; a missing file is a 404. A file that cannot be read
 * is answered (503 when the process is out of file descriptors, 500 otherwise) and never
 * takes the process down.
 */
export function createStaticFiles(root: string) {
  const base = resolve(root);
  const shell = join(base, 'index.html');

  return async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const urlPath = (req.url ?? '/').split('?')[0] || '/';
    const filePath = urlPath === '/' ? shell : fileFor(base, urlPath);
    if (filePath === null) {
      answerText(res, 404, 'Not found');
      return;
    }
    let opened = await openFile(filePath);
    let servedPath = filePath;
    if (opened.kind === 'missing' && isAppRoute(urlPath)) {
      opened = await openFile(shell);
      servedPath = shell;
    }
    if (opened.kind === 'missing') answerText(res, 404, 'Not found');
    else if (opened.kind === 'failed') answerFailure(res, opened.code);
    else
      await sendFile(req, res, opened, servedPath === shell ? '/index.html' : urlPath, servedPath);
  };
}
