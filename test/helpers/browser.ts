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
    return await use(page, watchProblems(page));
  } finally {
    await browser.close();
  }
}

/** Opens pages in one browser, each collecting its own problems as `withPage` does. */
export interface BrowserPages {
  open(): Promise<{ page: Page; seen: PageProblems }>;
}

/**
 * One browser for many pages (a test of several pages pays the browser's start once); every
 * page opened through it is closed with the browser.
 */
export async function withBrowser<T>(use: (pages: BrowserPages) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    return await use({
      open: async () => {
        // A laptop's screen: what the dashboard is laid out for, and what its screenshots show.
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        return { page, seen: watchProblems(page) };
      },
    });
  } finally {
    await browser.close();
  }
}

/** Collects what the page reports as broken from now on. */
function watchProblems(page: Page): PageProblems {
  const seen: PageProblems = { problems: [] };
  page.on('pageerror', (error) => seen.problems.push(`exception: ${error.message}`));
  page.on('console', (message) => {
    // The location names the resource of a "Failed to load resource" error.
    const where = message.location().url;
    if (message.type() === 'error')
      seen.problems.push(`console: ${message.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('requestfailed', (request) => seen.problems.push(`request failed: ${request.url()}`));
  return seen;
}
