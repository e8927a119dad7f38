import { useEffect } from 'react';
import type { RoomSummary } from '../../client/engine.ts';
import { useEngine, useEngineValue } from '../hooks/useEngine.tsx';
import { useRooms } from '../hooks/useRooms.ts';
import { LiveConnectionIndicator } from './LiveConnectionIndicator.tsx';
import { OutboxCount } from './OutboxCount.tsx';
import { RoomCreate } from './RoomCreate.tsx';

/** What the list says of a room's unread messages: a badge, capped like the count. */
function unreadLabel(unread: number): string {
  return unread >= 100 ? '99+' : String(unread);
}

function preview(summary: RoomSummary): string {
  const { last } = summary;
  if (!last) return 'No messages yet';
  if (last.deleted) return `${last.author}: message deleted`;
  return `${last.author}: ${last.body}`;
}

/**
 * The rooms on this device, newest activity first, each with its newest message and its
 * unread count; read from the device, so it works offline. `current` is the room on
 * screen, if any.
 */
export function RoomList({ current }: { current: string | null }) {
  const rooms = useRooms();
  const loaded = useEngineValue((current) => current.roomsLoaded());
  const engine = useEngine();
  useEffect(() => engine.syncListedRooms(), [engine]);
  return (
    <nav className="room-list" aria-label="Rooms" data-testid="room-list">
      <div className="room-list-header">
        <div className="room-header-row">
          {/* The page's heading when the list is the screen; beside a room, a section's. */}
          {current === null ? (
            <h1 className="room-list-title">Rooms</h1>
          ) : (
            <h2 className="room-list-title">Rooms</h2>
          )}
          {current === null && <OutboxCount />}
        </div>
        {/* Beside a room, its header says how the link is; here, the list does. */}
        {current === null && <LiveConnectionIndicator />}
        <RoomCreate />
      </div>
      {rooms.length === 0 ? (
        // Nothing until the device has been read: "no rooms" for a moment would be a lie.
        loaded && <p className="room-list-empty">No rooms yet: start one above.</p>
      ) : (
        <ul className="room-list-items">
          {rooms.map((summary) => (
            <li key={summary.room}>
              <a
                className="room-link"
                href={`#/room/${summary.room}`}
                data-testid="room-link"
                data-room={summary.room}
                data-unread={summary.unread}
                aria-current={summary.room === current ? 'page' : undefined}
              >
                <span className="room-link-name">{summary.name}</span>
                <span className="room-link-preview">{preview(summary)}</span>
                {summary.unread > 0 && (
                  <span className="room-link-unread">
                    {unreadLabel(summary.unread)}
                    <span className="visually-hidden"> unread</span>
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
