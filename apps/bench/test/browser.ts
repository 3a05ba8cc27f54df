/**
 * Open an HTML report in a real headless browser (Debian's chromium driven by
 * playwright-core) with the network off, and report what a reader would see:
 * console errors, requests that left the file, and each chart's data marks.
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

/** Where Debian installs chromium (package `chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** The launch arguments of the CI check. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why the browser check cannot run here, or false. In CI a missing chromium is a failure, not a skip. */
export function browserSkip(): string | false {
  if (process.env.CI) return false;
  return existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install chromium)`;
}

/** What the page showed. */
export interface PageCheck {
  title: string;
  consoleErrors: string[];
  /** Requests for anything but the report file itself. */
  externalRequests: string[];
  scripts: number;
  /** Per chart figure: its id, SVG count, data marks, and data marks with a visible size. */
  charts: { id: string; svgs: number; marks: number; visibleMarks: number; text: string }[];
}

/** Load `path` offline and inspect it. */
export async function checkPage(path: string): Promise<PageCheck> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ offline: true, javaScriptEnabled: true });
    const page = await context.newPage();
    const url = pathToFileURL(path).href;
    const consoleErrors: string[] = [];
    const externalRequests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    await page.route("**/*", (route) => {
      const u = route.request().url();
      if (u === url) return route.continue();
      externalRequests.push(u);
      return route.abort();
    });
    await page.goto(url, { waitUntil: "load" });
    const charts = await page.$$eval("figure.chart", (figures) =>
      figures.map((f) => {
        // ECharts' server-side renderer tags each data item's shape with ecmeta_* attributes.
        const marks = [...f.querySelectorAll("svg [ecmeta_ssr_type='chart']")] as unknown as {
          getBBox(): { width: number; height: number };
        }[];
        const visible = marks.filter((m) => {
          const b = m.getBBox();
          return b.width > 0 && b.height > 0;
        });
        return {
          id: f.id,
          svgs: f.querySelectorAll("svg").length,
          marks: marks.length,
          visibleMarks: visible.length,
          text: f.querySelector("svg")?.textContent ?? "",
        };
      }),
    );
    return {
      title: await page.title(),
      consoleErrors,
      externalRequests,
      scripts: await page.$$eval("script", (s) => s.length),
      charts,
    };
  } finally {
    await browser.close();
  }
}
