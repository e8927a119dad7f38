import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type ServerOptions } from 'socket.io';
import { MAX_PACKET_BYTES } from '../shared/limits.ts';
import { createHttpHandler } from './http-handler.ts';
import { attachRealtime, type FerryIo } from './realtime.ts';
import type { MessageStore } from './store/message-store.ts';

/**
 * socket.io's heartbeat. A phone's radio sleeps between packets, so pinging every few
 * seconds drains the battery; 25 s (socket.io's default) keeps NAT mappings alive. The
 * 10 s timeout finds a dead link within 35 s; the client's faster application ping (see
 * docs/protocol.md) finds it sooner while the app is in the foreground.
 */
export const PING_INTERVAL_MS = 25_000;
export const PING_TIMEOUT_MS = 10_000;

export interface FerryServerOptions {
  store: MessageStore;
  /** The built app; nothing is served but /healthz when it is missing. */
  staticDir?: string;
  clock?: () => number;
  log?: (line: string) => void;
  socketOptions?: Partial<ServerOptions>;
}

export interface FerryServer {
  http: HttpServer;
  io: FerryIo;
  /** Resolves with the bound address once the server accepts connections. */
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Disconnects every socket and stops listening. The store is the caller's to close. */
  close(): Promise<void>;
}

/** Builds the HTTP + socket.io server over a message store, without listening yet. */
export function createFerryServer(options: FerryServerOptions): FerryServer {
  const http = createServer(createHttpHandler(options.staticDir ?? ''));
  const io: FerryIo = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: MAX_PACKET_BYTES,
    pingInterval: PING_INTERVAL_MS,
    pingTimeout: PING_TIMEOUT_MS,
    ...options.socketOptions,
  });
  attachRealtime(io, {
    store: options.store,
    clock: options.clock ?? Date.now,
    log: options.log ?? ((line) => console.error(`[ferry] ${line}`)),
  });

  return {
    http,
    io,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve(http.address() as AddressInfo);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        io.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
