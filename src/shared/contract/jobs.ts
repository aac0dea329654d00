import { z } from 'zod';
import { id, none, returns } from './spec';

import type { JobSummary } from '../types';

// ─── jobs ────────────────────────────────────────────────────────────────────

export const jobMethods = {
  'jobs.list': returns<JobSummary[]>()(none, 'Long jobs of this session, newest first.'),
  'jobs.cancel': returns<{ cancelled: boolean }>()(
    z.object({ jobId: id }).strict(),
    'Ask a running job to stop; it finishes its current step and saves.',
  ),
} as const;

