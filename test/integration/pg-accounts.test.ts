import { PgAccountStore } from '../../src/server/store/pg-accounts.ts';
import { describeWithPostgres, freshDatabase } from '../support/postgres.ts';
import { runAccountStoreContract } from './account-store.contract.ts';

describeWithPostgres('PostgreSQL accounts', () => {
  runAccountStoreContract('PostgreSQL', async () => {
    const db = await freshDatabase();
    return { accounts: await PgAccountStore.open(db.url), dispose: db.drop };
  });
});
