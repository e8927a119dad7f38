import type { BackoffPolicy } from '../../src/client/backoff.ts';
import { ManualConnectivity } from '../../src/client/connectivity.ts';
import { Engine, type EngineOptions } from '../../src/client/engine.ts';
import { MemoryLocks } from '../../src/client/memory-locks.ts';
import {
  openProfileChannel,
  type ProfileChange,
  type ProfileChannel,
} from '../../src/client/profile-channel.ts';
import type { LocalMessage } from '../../src/client/types.ts';

// The integration tests take waitFor from here, beside the devices they wait on.
export { waitFor } from './wait.ts';

let counter = 0;

/** A database name no other test uses: one simulated device. */
export function deviceName(label: string): string {
  counter += 1;
  return `${label}-${process.pid}-${counter}-${Date.now()}`;
}

/** Fast reconnects so tests spend their time on behaviour, not on backoff. */
export const FAST_BACKOFF: BackoffPolicy = { minMs: 50, maxMs: 250, factor: 2, jitter: 0.2 };

export interface TestDevice {
  engine: Engine;
  connectivity: ManualConnectivity;
}

/** An engine in Node over fake-indexeddb, connected to `url` as `name`, in `room`. */
export async function openDevice(
  url: string,
  dbName: string,
  options: { name?: string; room?: string; online?: boolean } & Partial<EngineOptions> = {},
): Promise<TestDevice> {
  const { name, room, online, ...engineOptions } = options;
  const connectivity = new ManualConnectivity(online ?? true);
  const engine = await Engine.create({
    url,
    dbName,
    connectivity,
    backoff: FAST_BACKOFF,
    ...engineOptions,
  });
  if (name && !engine.identity) await engine.setIdentity(name);
  if (room) await engine.openRoom(room);
  return { engine, connectivity };
}

/**
 * Everything of the room the device holds, as the user would see it by scrolling to the
 * top: the view paged down (from the device, then the server) until nothing is older.
 */
export async function wholeRoom(engine: Engine, room: string): Promise<readonly LocalMessage[]> {
  while (engine.room(room).hasOlder) {
    if (!(await engine.loadOlder(room, 500))) break;
  }
  return engine.room(room).messages;
}

/** The newest seq in the room's view (0 when it shows none). */
export function newestSeq(engine: Engine, room: string): number {
  let newest = 0;
  for (const message of engine.room(room).messages) {
    if (message.status === 'sent' && message.seq > newest) newest = message.seq;
  }
  return newest;
}

export function bodies(messages: readonly { body: string }[]): string[] {
  return messages.map((message) => message.body);
}

/** Ids that occur more than once. */
export function duplicateIds(messages: readonly { id: string }[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const { id } of messages) (seen.has(id) ? twice : seen).add(id);
  return [...twice];
}

export function allSent(messages: readonly LocalMessage[]): boolean {
  return messages.every((message) => message.status === 'sent');
}

/**
 * One browser profile for several tabs: a database name and the profile's Web Locks (in
 * Node, one `MemoryLocks` stands for `navigator.locks`). Pass both to each tab's
 * `openDevice`; the tabs hear each other over the BroadcastChannel named after the database.
 */
export function sharedProfile(label: string): { dbName: string; locks: MemoryLocks } {
  return { dbName: deviceName(label), locks: new MemoryLocks() };
}

/** A tab's profile channel that can be frozen: it then neither hears nor says anything. */
export interface FreezableChannel extends ProfileChannel {
  freeze(): void;
}

/** The profile's BroadcastChannel, as a page the browser can freeze uses it. */
export function freezableChannel(dbName: string): FreezableChannel {
  const channel = openProfileChannel(dbName);
  if (!channel) throw new Error('this Node has no BroadcastChannel');
  let frozen = false;
  return {
    post: (change: ProfileChange) => {
      if (!frozen) channel.post(change);
    },
    subscribe: (listener) =>
      channel.subscribe((change) => {
        if (!frozen) listener(change);
      }),
    close: () => channel.close(),
    freeze: () => {
      frozen = true;
    },
  };
}
