import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageUrl, runCli, screenshot, startSession, type Session } from './harness';
import type { SystemInfo } from '../../src/shared/types';

let session: Session;

beforeAll(async () => {
  session = await startSession();
});

afterAll(async () => {
  await session?.close();
});

describe('System page in serve mode', () => {
  it('shows the backend that `captioner doctor --json` reports', async () => {
    const doctor = await runCli(['doctor', '--json', '--data-dir', session.dataDir]);
    expect(doctor.code, doctor.stderr).toBe(0);
    const info = JSON.parse(doctor.stdout) as SystemInfo;

    const { page } = session;
    await page.goto(pageUrl(session, 'system'));
    const backend = page.getByTestId('backend-name');
    await backend.waitFor({ timeout: 60_000 });
    await expect.poll(async () => backend.textContent()).toContain(info.backend.name);
    expect(await backend.textContent()).toContain(`(${info.backend.device})`);
    await expect.poll(async () => page.getByTestId('engine-state').textContent()).toBe('ready');
    expect(await page.getByText('WebSocket (serve mode)').count()).toBe(1);
    if (info.backend.name === 'cpu') expect(await page.getByTestId('slow-backend-banner').count()).toBe(1);
    await screenshot(page, 'system');
  });

  it('refuses the UI API without the token', async () => {
    const url = new URL(session.url);
    url.search = '';
    url.hash = '#/system';
    await session.page.goto(url.toString());
    await session.page.getByRole('alert').waitFor({ timeout: 30_000 });
    expect(await session.page.getByRole('alert').textContent()).toMatch(/token/i);
  });
});
