import { type Agent, request } from 'node:http';
import type { MessagesAnswer } from './raw-client.ts';

/**
 * A `POST /api/messages` whose body goes out when the test says so, or never: a request
 * held in flight mid-upload, or one sent from another client address.
 */
export interface OpenPost {
  /** The answer, whenever it comes (before the body, if the server answers without it). */
  answer: Promise<MessagesAnswer>;
  /** Writes part of the body, keeping the request open. */
  write(chunk: string): void;
  /** Sends the rest of the body, if any, and ends the request. */
  end(body?: string): void;
  /** Drops the connection, as a client that gives up mid-upload. */
  abort(): void;
}

export interface OpenPostOptions {
  /** Announced up front, so that the server waits for that many bytes. */
  contentLength?: number;
  /** The address to connect from, e.g. `127.0.0.2`: another client as the server sees it. */
  localAddress?: string;
  /** Connections to reuse (a flood of posts); by default a connection of the post's own. */
  agent?: Agent;
}

/** Starts a post to `url`'s `/api/messages` with `token`; its headers go out at once. */
export function openPost(
  url: string,
  token: string | null,
  options: OpenPostOptions = {},
): OpenPost {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (options.contentLength !== undefined)
    headers['Content-Length'] = String(options.contentLength);
  const req = request(`${url}/api/messages`, {
    method: 'POST',
    headers,
    localAddress: options.localAddress,
    // A connection of its own unless told: one that goes back to a pool could carry the
    // next test's request behind an abandoned body.
    agent: options.agent ?? false,
  });
  const answer = new Promise<MessagesAnswer>((resolve, reject) => {
    req.once('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.once('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === 'string') answerHeaders.set(name, value);
        }
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ status: response.statusCode ?? 0, headers: answerHeaders, body });
      });
      response.once('error', reject);
    });
    req.once('error', reject);
  });
  // An aborted post's answer is an error nobody awaits.
  answer.catch(() => {});
  req.flushHeaders();
  return {
    answer,
    write: (chunk) => void req.write(chunk),
    end: (body) => void req.end(body),
    abort: () => void req.destroy(),
  };
}
