/** The SQLite store against the shared storage contract (test/helpers/storeContract.ts). */
import { describeStoreContract } from '../helpers/storeContract';
import { sqliteFactory } from '../helpers/storeFixtures';

describeStoreContract('sqlite', sqliteFactory());
