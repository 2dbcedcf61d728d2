/**
 * Real Chromium for the console's tests: Debian's `chromium` (CI installs it with apt-get),
 * driven by playwright-core, with a fake microphone fed from a WAV file and a fake camera/mic
 * permission prompt that always says yes.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(opts: { micWav?: string } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-dev-shm-usage',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      ...(opts.micWav ? [`--use-file-for-fake-audio-capture=${opts.micWav}`] : []),
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Signs in through the form; the page ends on the calls list. */
export async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/console`);
  await page.getByLabel('Admin key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/console/calls`);
}
