// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/client/engine.ts';
import { NamePrompt } from '../../src/ui/components/NamePrompt.tsx';
import { EngineProvider } from '../../src/ui/hooks/useEngine.tsx';
import { deviceName } from '../support/engine.ts';

let engine: Engine;
// A real engine over fake-indexeddb with no server: a refused name never reaches it.
beforeAll(async () => {
  engine = await Engine.create({
    url: 'http://127.0.0.1:9',
    dbName: deviceName('name-prompt'),
    connectivity: { isOnline: () => false, subscribe: () => () => {} },
  });
});
afterAll(() => engine.destroy());
afterEach(cleanup);

function submitName(name: string): string | null {
  render(
    <EngineProvider engine={engine}>
      <NamePrompt />
    </EngineProvider>,
  );
  fireEvent.change(screen.getByTestId('name-input'), { target: { value: name } });
  fireEvent.click(screen.getByTestId('name-submit'));
  return screen.queryByRole('alert')?.textContent ?? null;
}

describe('the name prompt', () => {
  it.each([
    ['\u200b', /invisible characters/],
    ['\u3164', /invisible characters/],
    ['bob\u202egnp.exe', /text-direction controls/],
    ['two\u2028lines', /line breaks/],
  ])('says why %j cannot be a name, in the words the server would use', (name, reason) => {
    expect(submitName(name)).toMatch(reason);
    expect(engine.identity).toBeNull();
  });
});
