import type { HandshakeAuth } from '../shared/protocol.ts';
import { displayNameSchema } from '../shared/schemas.ts';
import { newSignupKey } from './ids.ts';
import type { LocalStore } from './local-store.ts';
import { createSession } from './session-client.ts';
import type { Identity } from './types.ts';

/**
 * The longest a tab (or the service worker) waits for another tab's sign-up before it
 * signs up itself (with the profile's sign-up key, so still as the same user): a stuck tab
 * must not block the rest.
 */
export const IDENTITY_LOCK_MAX_WAIT_MS = 15_000;

/** Runs `work` while no other tab of the profile runs work under the same lock. */
export type Exclusive = <T>(work: () => Promise<T>) => Promise<T>;

export interface IdentityKeeperDeps {
  store: LocalStore;
  /** The server, for the sign-up. */
  url: string;
  /** What the store held when the engine opened. */
  identity: Identity | null;
  /** This tab's identity changed. */
  onChange(): void;
  /** This tab stored a new identity: the other tabs should read it. */
  onStored(): void;
  /** The profile's identity lock: one tab at a time signs up. */
  exclusive: Exclusive;
}

/** A caller's mistake: nothing was queued or stored. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
}

/**
 * Who this device is: one identity per browser profile, whatever its tabs do. The name can
 * be picked offline; the server creates the session on the first connection (the
 * handshake asks for it once the server is reachable). Every change goes through one
 * IndexedDB transaction that reads what the other tabs wrote, and the sign-up carries the
 * profile's sign-up key, so tabs that sign up at once, or a sign-up retried after its
 * answer was lost, all get the same user.
 */
export class IdentityKeeper {
  readonly #store: LocalStore;
  readonly #url: string;
  readonly #onChange: () => void;
  readonly #onStored: () => void;
  readonly #exclusive: Exclusive;
  #identity: Identity | null;
  /** The token this keeper last handed to a handshake. */
  #lastToken: string | null = null;
  #closed = false;

  constructor(deps: IdentityKeeperDeps) {
    this.#store = deps.store;
    this.#url = deps.url;
    this.#identity = deps.identity;
    this.#onChange = deps.onChange;
    this.#onStored = deps.onStored;
    this.#exclusive = deps.exclusive;
  }

  get current(): Identity | null {
    return this.#identity;
  }

  /** The author of what this device sends now (the user id is empty before sign-up). */
  get author(): { id: string; name: string } {
    return { id: this.#identity?.session?.userId ?? '', name: this.#identity?.name ?? '' };
  }

  /**
   * Picks a display name; validated here with the server's own rule. If another tab of
   * this profile picked one first, that identity is kept: a profile is one user.
   */
  async pick(name: string): Promise<void> {
    const parsed = displayNameSchema.safeParse(name);
    if (!parsed.success)
      throw new InvalidInputError('a name is 1 to 40 characters, without control characters');
    const fresh: Identity = { name: parsed.data, signupKey: newSignupKey(), session: null };
    const replace = this.#identity !== null;
    const stored = await this.#store.updateIdentity((current) =>
      replace ? fresh : (current ?? fresh),
    );
    this.#adopt(stored);
    if (stored === fresh) this.#onStored();
  }

  /** Reads what another tab stored; answers whether this tab's identity changed. */
  async reload(): Promise<boolean> {
    const before = this.#identity;
    this.#adopt(await this.#store.getIdentity());
    return this.#identity !== before;
  }

  /** The token for the handshake; signs up first if this profile has no session yet. */
  handshakeAuth(): Promise<HandshakeAuth> {
    // Under the profile's identity lock, so that tabs connecting at once sign up once: the
    // first makes the session, the others find it stored when their turn comes.
    return this.#exclusive(() => this.#signIn());
  }

  async #signIn(): Promise<HandshakeAuth> {
    // Read what is stored, not what this tab remembers: another tab may have signed up.
    const identity = await this.#store.updateIdentity((stored) =>
      stored && !stored.session && !stored.signupKey
        ? { ...stored, signupKey: newSignupKey() }
        : stored,
    );
    if (!identity) throw new Error('no name picked yet');
    this.#adopt(identity);
    if (identity.session) return this.#handOut(identity.session.token);
    const { signupKey } = identity;
    const session = await createSession(this.#url, { name: identity.name, signupKey });
    const saved = await this.#store.updateIdentity((stored) =>
      stored && stored.signupKey === signupKey && !stored.session
        ? {
            ...stored,
            name: session.name,
            session: { userId: session.userId, token: session.token },
          }
        : stored,
    );
    this.#adopt(saved);
    this.#onStored();
    return this.#handOut(saved?.session?.token ?? session.token);
  }

  /**
   * Drops the session the server just refused; the name stays, under a new sign-up key,
   * so the next attempt makes a new user rather than reviving the refused one. A session
   * another tab has already replaced is left alone.
   */
  async forgetSession(): Promise<void> {
    const refused = this.#lastToken;
    if (refused === null) return;
    let dropped = false;
    const stored = await this.#store.updateIdentity((current) => {
      if (current?.session?.token !== refused) return current;
      dropped = true;
      return { name: current.name, signupKey: newSignupKey(), session: null };
    });
    this.#adopt(stored);
    if (dropped) this.#onStored();
  }

  close(): void {
    this.#closed = true;
  }

  #handOut(token: string): HandshakeAuth {
    this.#lastToken = token;
    return { token };
  }

  #adopt(identity: Identity | undefined): void {
    if (this.#closed || !identity || sameIdentity(identity, this.#identity)) return;
    this.#identity = identity;
    this.#onChange();
  }
}

function sameIdentity(a: Identity, b: Identity | null): boolean {
  return (
    a.name === b?.name &&
    a.signupKey === b.signupKey &&
    a.session?.token === b.session?.token &&
    a.session?.userId === b.session?.userId
  );
}
