import type { StorageLoss } from '../client/engine.ts';
import type { ComposerState } from './composer-activity.ts';

/**
 * - `reload`: load the page again at once; nothing the user does is interrupted.
 * - `ask`: say what happened and wait for the user's Reload.
 */
export type StorageLossAction = 'reload' | 'ask';

/**
 * What a tab does once its database is taken away (docs/pwa.md, "Schema upgrades with tabs
 * open"). A newer version upgrading it is routine: an idle tab follows by itself, as it
 * follows an update accepted in another tab. A tab whose user is writing or sending asks
 * instead: its draft is stored as it is typed, so nothing would be lost, but a reload under
 * the user's fingers drops the keys pressed meanwhile and the focus. A database the browser
 * closed by itself (site data cleared, disk trouble) is not routine: the user is told.
 */
export function afterStorageLoss(loss: StorageLoss, composer: ComposerState): StorageLossAction {
  if (loss !== 'version_change') return 'ask';
  return composer.writing || composer.sending ? 'ask' : 'reload';
}
