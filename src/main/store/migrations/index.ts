/**
 * Every schema migration, oldest first. A new one gets the next number, its
 * own file `NNNN-name.ts`, one line here, and a test in
 * test/unit/store.migrations.test.ts that upgrades a database holding data.
 */
import type { Migration } from '../migrate';
import { migration0001 } from './0001-initial';
import { migration0002 } from './0002-evaluations';
import { migration0003 } from './0003-tuning';
import { migration0004 } from './0004-batch-jobs';
import { migration0005 } from './0005-tasks';
import { migration0006 } from './0006-batch-review';
import { migration0007 } from './0007-batch-shards';
import { migration0008 } from './0008-task-placement';

export const migrations: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006, migration0007, migration0008];

export const LATEST_SCHEMA_VERSION = migrations.length;
