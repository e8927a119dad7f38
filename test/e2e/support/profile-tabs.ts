import type { BrowserContext } from 'playwright-core';
import { FerryPage } from './ferry-page.ts';
import { SendFrameLog } from './send-frames.ts';

/** One browser profile (context) with Ferry open in several tabs, every WebSocket watched. */
export interface ProfileTabs {
  tabs: FerryPage[];
  frames: SendFrameLog;
}

/**
 * Opens Ferry in `room` once per label, in order, in one context: the first tab signs up
 * as `name`, the others open on what it stored. Resolves once every tab is connected.
 */
export async function openProfileTabs(
  context: BrowserContext,
  baseUrl: string,
  room: string,
  labels: readonly string[],
  name = 'Ada',
): Promise<ProfileTabs> {
  const frames = new SendFrameLog();
  const tabs: FerryPage[] = [];
  for (const label of labels) {
    const tab = await FerryPage.open(context, baseUrl, room, {
      beforeLoad: (page) => frames.watch(page, label),
    });
    if (tabs.length === 0) await tab.pickName(name);
    tabs.push(tab);
  }
  for (const tab of tabs) await tab.waitForConnection('connected');
  return { tabs, frames };
}

/** Bodies that sort in typing order and are easy to spot: `[label 001]`, `[label 002]`… */
export function numberedBodies(label: string, count: number): string[] {
  const width = String(count).length;
  return Array.from(
    { length: count },
    (_, index) => `[${label} ${String(index + 1).padStart(width, '0')}]`,
  );
}
