/**
 * Where a user asks for work to run, as the API and the UI say it: `here`
 * (this workbench's engine, or any worker that is free first: the task is
 * queued for anyone) or `workers` (only `captioner worker` processes sharing
 * the store claim it). The store keeps the task's `TaskPlacement`.
 */
import type { TaskPlacement } from './taskTypes';

export const PLACEMENT_CHOICES = ['here', 'workers'] as const;
export type PlacementChoice = (typeof PLACEMENT_CHOICES)[number];

/** The task placement for a choice; undefined stays undefined (a resume keeps what the task had). */
export function taskPlacementOf(choice: PlacementChoice | undefined): TaskPlacement | undefined {
  if (choice === undefined) return undefined;
  return choice === 'workers' ? 'workers' : 'any';
}

/** `{ placement }` for a choice a request made; `{}` when it made none (so a resume keeps the task's). */
export function placed(choice: PlacementChoice | undefined): { placement?: TaskPlacement } {
  const placement = taskPlacementOf(choice);
  return placement === undefined ? {} : { placement };
}
