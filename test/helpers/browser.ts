/**
 * A real browser for the tests of pages: Debian's Chromium (installed by .ci/run) driven by
 * playwright-core, headless. `withPage` opens one page, collects what the page reports as
 * broken (uncaught exceptions, console errors, failed requests), and always closes the browser.
 */
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface PageProblems {
  /** Uncaught exceptions, console errors and failed requests, in order. */
  problems: string[];
}

export async function withPage<T>(use: (page: Page, seen: PageProblems) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const seen: PageProblems = { problems: [] };
    page.on('pageerror', (error) => seen.problems.push(`exception: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') seen.problems.push(`console: ${message.text()}`);
    });
    page.on('requestfailed', (request) => seen.problems.push(`request failed: ${request.url()}`));
    return await use(page, seen);
  } finally {
    await browser.close();
  }
}
