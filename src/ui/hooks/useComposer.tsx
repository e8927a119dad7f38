import { createContext, type ReactNode, use, useMemo, useSyncExternalStore } from 'react';
import type { DraftStore } from '../../client/draft-store.ts';
import type { ComposerActivity, ComposerState } from '../composer-activity.ts';

interface ComposerServices {
  drafts: DraftStore;
  activity: ComposerActivity;
}

const ComposerContext = createContext<ComposerServices | null>(null);

/**
 * Where composers keep their drafts and report what they are doing (the update flow reads
 * it). One per page, mounted by main.tsx.
 */
export function ComposerProvider({
  drafts,
  activity,
  children,
}: ComposerServices & { children: ReactNode }) {
  const services = useMemo(() => ({ drafts, activity }), [drafts, activity]);
  return <ComposerContext value={services}>{children}</ComposerContext>;
}

/** The drafts and activity from the nearest ComposerProvider. */
export function useComposerServices(): ComposerServices {
  const services = use(ComposerContext);
  if (!services) throw new Error('the composer needs a <ComposerProvider> above it');
  return services;
}

/** What the page's composer is doing, following every change. */
export function useComposerState(): ComposerState {
  const { activity } = useComposerServices();
  return useSyncExternalStore(activity.subscribe, activity.getSnapshot);
}
