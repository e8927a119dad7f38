import type { Locks } from '../src/client/locks.ts';
import { deviceName, openDevice, type TestDevice } from '../test/support/engine.ts';
import { caughtUp, untilEngine } from './engine-wait.ts';
import { deleteDatabase } from './idb-baselines.ts';

export type { TestDevice };
export { untilEngine };

let roomCounter = 0;

/** A room id no other repetition of this run uses. */
export function uniqueRoom(label: string): string {
  roomCounter += 1;
  return `${label}-${process.pid}-${roomCounter}`;
}

/**
 * A simulated device over fake-indexeddb that has been in `room` before and is now offline:
 * signed up, joined, caught up, then cut off by the platform's connectivity signal.
 */
export async function offlineDeviceInRoom(
  url: string,
  room: string,
  options: { label: string; storedBefore: number; locks?: Locks },
): Promise<TestDevice & { dbName: string }> {
  const dbName = deviceName(`bench-${options.label}`);
  const device = await openDevice(url, dbName, {
    name: options.label,
    room,
    locks: options.locks,
  });
  const { engine } = device;
  const loaded = caughtUp(room, options.storedBefore);
  await untilEngine(
    engine,
    'the device to connect and load the room',
    (e) => e.connection.status === 'connected' && loaded(e),
  );
  device.connectivity.set(false);
  await untilEngine(
    engine,
    'the device to go offline',
    () => engine.connection.status === 'offline',
  );
  return { ...device, dbName };
}

/** Destroys the engine and deletes its fake-indexeddb database (keeps the run's memory flat). */
export async function disposeDevice(device: TestDevice, dbName: string): Promise<void> {
  await device.engine.destroy();
  await deleteDatabase(dbName);
}

/** A chat-sized message body (about 80 characters). */
export function chatBody(n: number): string {
  return `message ${n}: on my way, the train is late again, see you at the usual place`;
}
