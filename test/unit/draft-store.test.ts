import { describe, expect, it } from 'vitest';
import { type DraftStorage, DraftStore, memoryDraftStorage } from '../../src/client/draft-store.ts';

/** A Web Storage that refuses every write, as a full or locked-down localStorage does. */
function refusingStorage(): DraftStorage {
  return {
    getItem: () => null,
    setItem: () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    },
    removeItem: () => undefined,
  };
}

describe('the draft store', () => {
  it('reads an empty draft for a room nothing was typed in', () => {
    expect(new DraftStore(memoryDraftStorage(), 'ferry').read('lobby')).toBe('');
  });

  it('keeps one draft per room', () => {
    const drafts = new DraftStore(memoryDraftStorage(), 'ferry');
    drafts.write('lobby', 'half a thought');
    drafts.write('kitchen', 'who took my mug');
    expect(drafts.read('lobby')).toBe('half a thought');
    expect(drafts.read('kitchen')).toBe('who took my mug');
  });

  it('finds a draft again from a new store over the same storage (a reload)', () => {
    const storage = memoryDraftStorage();
    new DraftStore(storage, 'ferry').write('lobby', 'typed before the reload');
    expect(new DraftStore(storage, 'ferry').read('lobby')).toBe('typed before the reload');
  });

  it('keeps what another tab wrote when a message sent from this tab clears the draft', () => {
    const storage = memoryDraftStorage();
    const tabA = new DraftStore(storage, 'ferry');
    const tabB = new DraftStore(storage, 'ferry');
    tabB.write('lobby', 'ok');
    tabA.write('lobby', 'a long reply, still being written');
    tabB.clearSent('lobby', 'ok');
    expect(tabB.read('lobby')).toBe('');
    expect(new DraftStore(storage, 'ferry').read('lobby')).toBe(
      'a long reply, still being written',
    );
  });

  it('removes the stored draft when it is the text that was sent', () => {
    const storage = memoryDraftStorage();
    const drafts = new DraftStore(storage, 'ferry');
    drafts.write('lobby', 'sent now');
    drafts.clearSent('lobby', 'sent now');
    expect(new DraftStore(storage, 'ferry').read('lobby')).toBe('');
  });

  it('keeps the drafts of two profiles apart in one storage', () => {
    const storage = memoryDraftStorage();
    new DraftStore(storage, 'ada').write('lobby', 'from Ada');
    expect(new DraftStore(storage, 'grace').read('lobby')).toBe('');
    expect(new DraftStore(storage, 'ada').read('lobby')).toBe('from Ada');
  });

  it('removes the stored entry when the draft becomes empty', () => {
    const storage = memoryDraftStorage();
    const drafts = new DraftStore(storage, 'ferry');
    drafts.write('lobby', 'sent soon');
    drafts.write('lobby', '');
    expect(new DraftStore(storage, 'ferry').read('lobby')).toBe('');
    expect(storage.length).toBe(0);
  });

  it('still holds a draft for the page when the storage refuses to write it', () => {
    const drafts = new DraftStore(refusingStorage(), 'ferry');
    expect(() => drafts.write('lobby', 'kept in memory')).not.toThrow();
    expect(drafts.read('lobby')).toBe('kept in memory');
  });
});
