import type { ConnectionState } from '../../client/connection.ts';
import { useEngineValue } from './useEngine.tsx';

/** The link to the server, as the engine reports it. */
export function useConnection(): ConnectionState {
  return useEngineValue((engine) => engine.connection);
}
