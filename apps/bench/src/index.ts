/**
 * @hvkit/bench-app — the comparative benchmark of hvkit's strategies, as a
 * library for other apps and tests: plan and run the matrix, the result's
 * schema, the reports, and the comparison of two results.
 */
export { benchProgram, main, writeOutputs } from "./cli.js";
export { type Comparison, type ComparisonRow, compareResults, formatComparison } from "./compare.js";
export { BenchError, type BenchErrorCode } from "./errors.js";
export { assignRoles, computeFindings, FINDINGS } from "./findings.js";
export { BOOT_WORKLOAD, DEFAULT_SIZES, type MatrixOptions, type MatrixPlan, planMatrix } from "./matrix.js";
export { bootLinux, EVENT_COUNTING_PROFILE, priceEvents, runHvkitKernel } from "./measure.js";
export { htmlReport } from "./report/html.js";
export { markdownReport } from "./report/markdown.js";
export { terminalReport } from "./report/terminal.js";
export { loadResult, mergeResults, parseDocument } from "./results.js";
export { perOperation, runMatrix } from "./runner.js";
export * from "./schema.js";
export { benchStrategies, hvkitImageFor } from "./strategies.js";
