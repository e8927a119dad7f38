import type { ReloadGate } from './reload-gate.ts';

/** What the update flow knows at one moment. */
export interface UpdateFacts {
  /** A new version is installed and waiting, and the user has not said "Later". */
  offered: boolean;
  /** The user pressed Reload in this tab. */
  accepted: boolean;
  /** A new worker took over this page: this tab's acceptance, or another tab's. */
  takenOver: boolean;
  /** The takeover found this tab writing or sending: it now waits for its own Reload. */
  deferred: boolean;
  gate: ReloadGate;
}

/** Where the switch to a new version stands, as the banner shows it. */
export type UpdatePhase =
  /** Nothing to do: no new version, or the user said "Later". */
  | { kind: 'idle' }
  /**
   * A new version waits for the user. `takenOver`: it already runs in another tab, which
   * accepted it; this one keeps its page (and its draft) until its user reloads.
   */
  | { kind: 'available'; takenOver: boolean }
  /** Accepted (here or in another tab); waiting for the outbox batches on the wire. */
  | { kind: 'waiting'; gate: Extract<ReloadGate, { kind: 'flushing' }> }
  /** Switching now: the new worker is activating, then the page reloads. */
  | { kind: 'reloading' };

/**
 * - `skip-waiting`: tell the waiting worker to take over (every tab of this profile).
 * - `reload`: load the page again, under the new worker.
 * - `defer`: remember that this tab waits for its user's Reload from now on.
 */
export type UpdateAction = 'none' | 'skip-waiting' | 'reload' | 'defer';

/**
 * The update flow's rule. A tab that accepted switches as soon as nothing is in flight;
 * a tab taken over by another tab's acceptance follows it only while its user is idle, and
 * once it found them writing it leaves the switch to them.
 */
export function decideUpdate(facts: UpdateFacts): { phase: UpdatePhase; action: UpdateAction } {
  const { gate } = facts;
  if (facts.takenOver && !facts.accepted) {
    if (facts.deferred) return { phase: { kind: 'available', takenOver: true }, action: 'none' };
    if (gate.kind === 'writing' || gate.kind === 'sending')
      return { phase: { kind: 'available', takenOver: true }, action: 'defer' };
  }
  if (facts.accepted || facts.takenOver) {
    if (gate.kind === 'flushing') return { phase: { kind: 'waiting', gate }, action: 'none' };
    if (gate.kind !== 'ready') return { phase: { kind: 'reloading' }, action: 'none' };
    return { phase: { kind: 'reloading' }, action: facts.takenOver ? 'reload' : 'skip-waiting' };
  }
  if (facts.offered) return { phase: { kind: 'available', takenOver: false }, action: 'none' };
  return { phase: { kind: 'idle' }, action: 'none' };
}
