/**
 * Reads the host's apt configuration to find which Debian archive mirror it
 * uses, so fetching never hard-codes one. Understands both formats in
 * sources.list(5): one-line ("deb [opts] uri suite components...") in
 * sources.list and sources.list.d/*.list, and deb822 stanzas in
 * sources.list.d/*.sources.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One source entry (a one-line entry or a deb822 stanza). */
export interface AptSource {
  /** "deb" and/or "deb-src". */
  types: string[];
  /** Archive roots. */
  uris: string[];
  /** Suites (codenames such as "bookworm", or "bookworm-security"). */
  suites: string[];
  /** Components ("main", ...). */
  components: string[];
  /** False when a deb822 stanza says "Enabled: no". */
  enabled: boolean;
  /** Options: one-line "[key=value]" or the remaining deb822 fields, keys lower-cased. */
  options: Record<string, string>;
  /** File the entry came from. */
  origin: string;
}

/** Suite names of the Debian archive itself (its codenames and aliases); other suites are never picked. */
export const DEBIAN_SUITES: readonly string[] = [
  "buster",
  "bullseye",
  "bookworm",
  "trixie",
  "forky",
  "duke",
  "sid",
  "oldoldstable",
  "oldstable",
  "stable",
  "testing",
  "unstable",
];

/** Parses one-line sources.list text. */
export function parseOneLineSources(text: string, origin: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m === null) continue;
    const options: Record<string, string> = {};
    for (const opt of (m[2] ?? "").trim().split(/\s+/)) {
      const eq = opt.indexOf("=");
      if (eq > 0) options[opt.slice(0, eq).toLowerCase()] = opt.slice(eq + 1);
    }
    out.push({
      types: [m[1]!],
      uris: [m[3]!],
      suites: [m[4]!],
      components: m[5]!.split(/\s+/).filter((c) => c !== ""),
      enabled: true,
      options,
      origin,
    });
  }
  return out;
}

/** Parses deb822 .sources text (stanzas separated by blank lines, "#" comments, indented continuations). */
export function parseDeb822Sources(text: string, origin: string): AptSource[] {
  const out: AptSource[] = [];
  let fields = new Map<string, string>();
  let last: string | undefined;
  const flush = () => {
    if (fields.size > 0) {
      const list = (k: string) => (fields.get(k) ?? "").split(/\s+/).filter((v) => v !== "");
      const options: Record<string, string> = {};
      for (const [k, v] of fields) {
        if (!["types", "uris", "suites", "components", "enabled"].includes(k)) options[k] = v.trim();
      }
      out.push({
        types: list("types"),
        uris: list("uris"),
        suites: list("suites"),
        components: list("components"),
        enabled: (fields.get("enabled") ?? "yes").trim().toLowerCase() !== "no",
        options,
        origin,
      });
    }
    fields = new Map();
    last = undefined;
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (/^\s/.test(line)) {
      if (last !== undefined) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    fields.set(last, line.slice(colon + 1).trim());
  }
  flush();
  return out;
}

/**
 * Picks the Debian archive mirror from parsed sources: an enabled "deb" entry
 * whose suite is a Debian suite name, preferring the host's own codename.
 * Security, updates and backports suites never match, since their names carry
 * a suffix. Returns the URI without a trailing slash, or undefined.
 */
export function pickDebianMirror(sources: readonly AptSource[], hostCodename?: string): string | undefined {
  const usable = sources.filter((s) => s.enabled && s.types.includes("deb") && s.uris.length > 0);
  const pick = (ok: (suite: string) => boolean) => usable.find((s) => s.suites.some(ok))?.uris[0];
  const uri =
    (hostCodename !== undefined && DEBIAN_SUITES.includes(hostCodename)
      ? pick((s) => s === hostCodename)
      : undefined) ?? pick((s) => DEBIAN_SUITES.includes(s));
  return uri?.replace(/\/+$/, "");
}

/** Reads every source the host's apt would read under `etcApt`: sources.list, sources.list.d/*.list and *.sources. */
export function readHostAptSources(etcApt = "/etc/apt"): AptSource[] {
  const out: AptSource[] = [];
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  };
  const main = read(join(etcApt, "sources.list"));
  if (main !== undefined) out.push(...parseOneLineSources(main, join(etcApt, "sources.list")));
  let names: string[] = [];
  try {
    names = readdirSync(join(etcApt, "sources.list.d")).sort();
  } catch {
    // No sources.list.d: fine.
  }
  for (const name of names) {
    const path = join(etcApt, "sources.list.d", name);
    // apt reads only these two suffixes (files such as *.disabled are ignored).
    if (name.endsWith(".list")) out.push(...parseOneLineSources(read(path) ?? "", path));
    else if (name.endsWith(".sources")) out.push(...parseDeb822Sources(read(path) ?? "", path));
  }
  return out;
}

/** The host's release codename from os-release(5) (VERSION_CODENAME), if any. */
export function hostCodename(osRelease = "/etc/os-release"): string | undefined {
  try {
    const m = /^VERSION_CODENAME=["']?([^"'\n]*)["']?$/m.exec(readFileSync(osRelease, "utf8"));
    return m?.[1] || undefined;
  } catch {
    return undefined;
  }
}
