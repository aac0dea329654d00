/**
 * 0008: who may claim a queued task. `any` (every existing task, and the
 * default) lets whichever executor shares the store take it; `workers`
 * keeps it for `captioner worker` processes, so a workbench window or serve
 * mode sharing the store never takes a run, study or batch job a user
 * queued for the workers. Claiming keeps using the queue index
 * (state, created_at, id); placement is checked on the rows it walks.
 */
import type { Migration } from '../migrate';

export const migration0008: Migration = {
  version: 8,
  name: 'task-placement',
  up(db) {
    db.exec(`ALTER TABLE tasks ADD COLUMN placement TEXT NOT NULL DEFAULT 'any' CHECK (placement IN ('any', 'workers'));`);
  },
};
