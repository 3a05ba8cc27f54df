import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  kernelDependency,
  parseDeb822Sources,
  parseOneLineSources,
  pickDebianMirror,
  readHostAptSources,
} from "../src/node/index.js";

// Mirrors here are placeholders under the reserved .example domain (RFC 2606).
const deb822 = `# comment
Types: deb deb-src
URIs: http://archive.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://archive.example/debian-security
Suites: bookworm-security
Components: main

Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://multi.example/debian
Suites: trixie
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 -----END PGP PUBLIC KEY BLOCK-----
`;

describe("apt source parsing", () => {
  it("reads deb822 stanzas, continuation lines and Enabled: no", () => {
    const s = parseDeb822Sources(deb822, "x.sources");
    expect(s).toHaveLength(4);
    expect(s[0]).toMatchObject({
      types: ["deb", "deb-src"],
      uris: ["http://archive.example/debian/"],
      suites: ["bookworm", "bookworm-updates"],
      components: ["main", "contrib"],
      enabled: true,
      options: { "signed-by": "/usr/share/keyrings/debian-archive-keyring.gpg" },
    });
    expect(s[2]!.enabled).toBe(false);
    expect(s[3]!.options["signed-by"]).toContain("BEGIN PGP");
  });

  it("reads one-line entries with options and comments", () => {
    const s = parseOneLineSources(
      [
        "# deb http://commented.example/debian bookworm main",
        "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main non-free # trailing",
        "deb-src http://one.example/debian bookworm main",
        "garbage line",
      ].join("\n"),
      "sources.list",
    );
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({
      types: ["deb"],
      uris: ["http://one.example/debian"],
      suites: ["bookworm"],
      components: ["main", "non-free"],
      options: { arch: "amd64", "signed-by": "/k.gpg" },
    });
  });

  it("picks the Debian archive: the host codename first, never security or disabled entries", () => {
    const s = parseDeb822Sources(deb822, "x.sources");
    expect(pickDebianMirror(s, "bookworm")).toBe("http://archive.example/debian");
    expect(pickDebianMirror(s.slice(1), "bookworm")).toBe("http://multi.example/debian");
    expect(pickDebianMirror(s.slice(1, 3), "bookworm")).toBeUndefined();
    // An Ubuntu host's sources name no Debian suite.
    const ubuntu = parseOneLineSources("deb http://ubuntu.example/ubuntu jammy main\n", "u");
    expect(pickDebianMirror(ubuntu, "jammy")).toBeUndefined();
  });

  it("reads sources.list, *.list and *.sources only, as apt does", () => {
    const etc = mkdtempSync(join(tmpdir(), "hvkit-apt-"));
    try {
      mkdirSync(join(etc, "sources.list.d"));
      writeFileSync(join(etc, "sources.list"), "deb http://a.example/debian bookworm main\n");
      writeFileSync(join(etc, "sources.list.d", "b.list"), "deb http://b.example/debian trixie main\n");
      writeFileSync(join(etc, "sources.list.d", "c.sources"), deb822);
      writeFileSync(
        join(etc, "sources.list.d", "d.sources.disabled"),
        "Types: deb\nURIs: http://d.example\nSuites: sid\n",
      );
      const uris = readHostAptSources(etc).flatMap((s) => s.uris);
      expect(uris).toContain("http://a.example/debian");
      expect(uris).toContain("http://b.example/debian");
      expect(uris).toContain("http://multi.example/debian");
      expect(uris).not.toContain("http://d.example");
      expect(readHostAptSources(join(etc, "missing"))).toEqual([]);
    } finally {
      rmSync(etc, { recursive: true, force: true });
    }
  });
});

describe("kernelDependency", () => {
  it("resolves the metapackage to the versioned kernel package", () => {
    const show =
      "Package: linux-image-riscv64\nVersion: 6.12.38-1\nDepends: linux-image-6.12.38+deb13-riscv64 (= 6.12.38-1)\n";
    expect(kernelDependency(show)).toEqual({
      name: "linux-image-6.12.38+deb13-riscv64",
      version: "6.12.38-1",
    });
    expect(kernelDependency("Depends: foo, linux-image-6.12.1-riscv64\n")).toEqual({
      name: "linux-image-6.12.1-riscv64",
    });
    expect(kernelDependency("Package: x\n")).toBeUndefined();
  });
});
