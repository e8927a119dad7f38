import type { Page } from 'playwright-core';
import { z } from 'zod';

/** One `send` batch as it left a tab over its WebSocket. */
export interface SendFrame {
  /** The label the tab was watched under. */
  tab: string;
  /** Date.now() when Playwright saw the frame leave. */
  at: number;
  /** The message ids the batch carried, in its order. */
  ids: string[];
}

/**
 * A socket.io event packet inside an engine.io message: `4` (message), `2` (event), an
 * optional ack id, then the JSON array `[name, ...args]`. The default namespace has no
 * `/name,` part.
 */
const EVENT_PACKET = /^42(\d*)(\[.*)$/s;

const sendEventSchema = z.tuple([
  z.literal('send'),
  z.object({ messages: z.array(z.object({ id: z.string() })) }),
]);

/** The message ids of a `send` event frame, or null for any other frame. */
export function sendFrameIds(payload: string): string[] | null {
  const packet = EVENT_PACKET.exec(payload);
  if (!packet?.[2]) return null;
  let json: unknown;
  try {
    json = JSON.parse(packet[2]);
  } catch {
    return null;
  }
  const event = sendEventSchema.safeParse(json);
  return event.success ? event.data[1].messages.map((message) => message.id) : null;
}

/**
 * Every `send` batch the watched tabs put on their WebSockets, as Chromium saw the frames
 * leave: what the device actually spent on the link, whatever the app believes it did.
 */
export class SendFrameLog {
  readonly frames: SendFrame[] = [];

  /** Watches every WebSocket `page` opens from now on; call before the page loads. */
  watch(page: Page, tab: string): void {
    page.on('websocket', (socket) => {
      socket.on('framesent', ({ payload }) => {
        const text = typeof payload === 'string' ? payload : payload.toString('utf8');
        const ids = sendFrameIds(text);
        if (ids) this.frames.push({ tab, at: Date.now(), ids });
      });
    });
  }

  /** The tabs that sent at least one batch in [from, to), in the order they first did. */
  senders(from = 0, to = Number.POSITIVE_INFINITY): string[] {
    const tabs: string[] = [];
    for (const frame of this.frames) {
      if (frame.at >= from && frame.at < to && !tabs.includes(frame.tab)) tabs.push(frame.tab);
    }
    return tabs;
  }

  /** How many times each id went out, over every watched tab. */
  sendsPerId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const frame of this.frames) {
      for (const id of frame.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  /** The first batch at or after `from` from any tab but `except`. */
  firstFrameAfter(from: number, except: string): SendFrame | undefined {
    return this.frames.find((frame) => frame.at >= from && frame.tab !== except);
  }
}

/** The mean number of times each of `ids` went out (an id never sent counts as 0). */
export function meanSendsPerMessage(log: SendFrameLog, ids: readonly string[]): number {
  const counts = log.sendsPerId();
  const total = ids.reduce((sum, id) => sum + (counts.get(id) ?? 0), 0);
  return ids.length === 0 ? 0 : total / ids.length;
}
