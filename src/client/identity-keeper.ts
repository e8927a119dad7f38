import type { HandshakeAuth } from '../shared/protocol.ts';
import { displayNameSchema } from '../shared/schemas.ts';
import type { LocalStore } from './local-store.ts';
import { createSession } from './session-client.ts';
import type { Identity } from './types.ts';

/** A caller's mistake: nothing was queued or stored. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
}

/**
 * Who this device is. The name can be picked offline; the server creates the session on
 * the first connection (the handshake asks for it once the server is reachable), and a
 * session the server refuses is forgotten so the next attempt signs in afresh.
 */
export class IdentityKeeper {
  readonly #store: LocalStore;
  readonly #url: string;
  readonly #onChange: () => void;
  #identity: Identity | null;
  #closed = false;

  constructor(store: LocalStore, url: string, identity: Identity | null, onChange: () => void) {
    this.#store = store;
    this.#url = url;
    this.#identity = identity;
    this.#onChange = onChange;
  }

  get current(): Identity | null {
    return this.#identity;
  }

  /** The author of what this device sends now (the user id is empty before sign-up). */
  get author(): { id: string; name: string } {
    return { id: this.#identity?.session?.userId ?? '', name: this.#identity?.name ?? '' };
  }

  /** Picks a display name; validated here with the server's own rule. */
  async pick(name: string): Promise<void> {
    const parsed = displayNameSchema.safeParse(name);
    if (!parsed.success)
      throw new InvalidInputError('a name is 1 to 40 characters, without control characters');
    await this.#save({ name: parsed.data, session: null });
  }

  /** The token for the handshake; signs up first if this device has no session yet. */
  async handshakeAuth(): Promise<HandshakeAuth> {
    const identity = this.#identity;
    if (!identity) throw new Error('no name picked yet');
    if (identity.session) return { token: identity.session.token };
    const session = await createSession(this.#url, identity.name);
    await this.#save({
      name: session.name,
      session: { userId: session.userId, token: session.token },
    });
    return { token: session.token };
  }

  /** Drops a session the server no longer accepts; the name stays. */
  async forgetSession(): Promise<void> {
    if (!this.#identity?.session) return;
    await this.#save({ name: this.#identity.name, session: null });
  }

  close(): void {
    this.#closed = true;
  }

  async #save(identity: Identity): Promise<void> {
    await this.#store.setIdentity(identity);
    if (this.#closed) return;
    this.#identity = identity;
    this.#onChange();
  }
}
