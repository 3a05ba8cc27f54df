#!/usr/bin/env node
// Checks that every published package packs into a tarball that publint and
// are-the-types-wrong accept. Builds first (through turbo), then packs each
// non-private workspace package into .cache/pack and lints the tarball.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const out = join(root, ".cache", "pack");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: "inherit" });

function workspacePackages() {
  const dirs = [];
  for (const group of ["packages", "apps"]) {
    const base = join(root, group);
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(base, entry.name);
      try {
        readFileSync(join(dir, "package.json"));
        dirs.push(dir);
      } catch {
        for (const sub of readdirSync(dir, { withFileTypes: true })) {
          if (sub.isDirectory()) dirs.push(join(dir, sub.name));
        }
      }
    }
  }
  return dirs.filter((d) => {
    try {
      return !JSON.parse(readFileSync(join(d, "package.json"), "utf8")).private;
    } catch {
      return false;
    }
  });
}

run("pnpm", ["turbo", "run", "build"]);
const pkgs = workspacePackages();
for (const dir of pkgs) {
  const name = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name;
  console.log(`\n== ${name}`);
  run("pnpm", ["pack", "--pack-destination", out], dir);
  const tarball = readdirSync(out).find((f) => f.startsWith(name.replace("@", "").replace("/", "-")));
  run("pnpm", ["exec", "publint", "run", join(out, tarball), "--strict"]);
  run("pnpm", ["exec", "attw", join(out, tarball), "--profile", "esm-only"]);
}
console.log(`\n${pkgs.length} package(s) pack cleanly.`);
