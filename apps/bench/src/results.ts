/** Reading results back: validated against the schema, with messages that say what is wrong. */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { BenchError } from "./errors.js";
import {
  BENCH_COLLECTION_SCHEMA,
  BENCH_SCHEMA,
  BENCH_SCHEMA_VERSION,
  type BenchCollection,
  BenchCollection as BenchCollectionSchema,
  type BenchResult,
  BenchResult as BenchResultSchema,
} from "./schema.js";

/** Validate a parsed document as a result or a collection; `where` names it in errors. */
export function parseDocument(doc: unknown, where: string): BenchResult | BenchCollection {
  const head = doc as { schema?: unknown; version?: unknown } | null;
  const schema = head?.schema;
  if (schema !== BENCH_SCHEMA && schema !== BENCH_COLLECTION_SCHEMA) {
    throw new BenchError(
      "BENCH_BAD_RESULT",
      `${where} is not an hvkit bench result (schema ${JSON.stringify(schema)}; expected "${BENCH_SCHEMA}" or "${BENCH_COLLECTION_SCHEMA}")`,
    );
  }
  if (head?.version !== BENCH_SCHEMA_VERSION) {
    throw new BenchError(
      "BENCH_BAD_RESULT",
      `${where} has ${schema} version ${JSON.stringify(head?.version)}; this bench reads version ${BENCH_SCHEMA_VERSION} (use the commit that wrote it)`,
    );
  }
  const parsed =
    schema === BENCH_SCHEMA ? BenchResultSchema.safeParse(doc) : BenchCollectionSchema.safeParse(doc);
  if (!parsed.success) {
    throw new BenchError(
      "BENCH_BAD_RESULT",
      `${where} does not match the ${schema} schema:\n${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/**
 * Load `FILE` or `FILE#N` (result N, from 1, of a merge file). With
 * `allowCollection`, a merge file without #N gives all its results.
 */
export function loadResult(spec: string): BenchResult;
export function loadResult(spec: string, options: { allowCollection: true }): BenchResult[];
export function loadResult(spec: string, options?: { allowCollection: true }): BenchResult | BenchResult[] {
  const m = /^(.*)#(\d+)$/.exec(spec);
  const path = m ? m[1]! : spec;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new BenchError("BENCH_BAD_RESULT", `cannot read ${path}: ${(e as Error).message}`);
  }
  const parsed = parseDocument(doc, path);
  if (parsed.schema === BENCH_SCHEMA) {
    if (m && m[2] !== "1")
      throw new BenchError("BENCH_BAD_RESULT", `${path} holds one result; #${m[2]} does not exist`);
    return options?.allowCollection ? [parsed] : parsed;
  }
  if (m) {
    const i = Number(m[2]);
    const r = parsed.results[i - 1];
    if (!r) {
      throw new BenchError(
        "BENCH_BAD_RESULT",
        `${path} holds ${parsed.results.length} results; #${i} does not exist`,
      );
    }
    return options?.allowCollection ? [r] : r;
  }
  if (options?.allowCollection) return parsed.results;
  throw new BenchError(
    "BENCH_BAD_RESULT",
    `${path} is a merge file of ${parsed.results.length} results: pick one as ${path}#N (N from 1 to ${parsed.results.length})`,
  );
}

/** Several results in one collection, oldest first (each keeps its host, commit and options). */
export function mergeResults(results: readonly BenchResult[]): BenchCollection {
  const seen = new Set<string>();
  const unique = results.filter((r) => {
    const id = `${r.run.startedAt} ${r.run.git.commit} ${r.run.host.cpu}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  unique.sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt));
  return BenchCollectionSchema.parse({
    schema: BENCH_COLLECTION_SCHEMA,
    version: BENCH_SCHEMA_VERSION,
    results: unique,
  });
}
