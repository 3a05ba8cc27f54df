import { describe, expect, it } from "vitest";
import { ConsoleEscape } from "../src/main.js";

const feed = (e: ConsoleEscape, ...bytes: number[]) => {
  const r = e.feed(bytes);
  return { forward: [...r.forward], commands: r.commands };
};

describe("the console escape keys (Ctrl-A prefix)", () => {
  it("forwards ordinary keys unchanged, Ctrl-C included", () => {
    expect(feed(new ConsoleEscape(), 0x6c, 0x73, 0x0d, 0x03)).toEqual({
      forward: [0x6c, 0x73, 0x0d, 0x03],
      commands: [],
    });
  });

  it("quits on Ctrl-A x (or X) and drops what follows", () => {
    expect(feed(new ConsoleEscape(), 0x61, 0x01, 0x78, 0x62)).toEqual({
      forward: [0x61],
      commands: ["quit"],
    });
    expect(feed(new ConsoleEscape(), 0x01, 0x58)).toEqual({ forward: [], commands: ["quit"] });
  });

  it("sends one Ctrl-A for Ctrl-A Ctrl-A", () => {
    expect(feed(new ConsoleEscape(), 0x01, 0x01, 0x78)).toEqual({ forward: [0x01, 0x78], commands: [] });
  });

  it("holds a Ctrl-A at the end of a chunk until the next key arrives", () => {
    const e = new ConsoleEscape();
    expect(feed(e, 0x6f, 0x01)).toEqual({ forward: [0x6f], commands: [] });
    expect(e.waiting).toBe(true);
    expect(feed(e, 0x78)).toEqual({ forward: [], commands: ["quit"] });
    expect(e.waiting).toBe(false);
    const f = new ConsoleEscape();
    feed(f, 0x01);
    expect(feed(f, 0x01)).toEqual({ forward: [0x01], commands: [] });
  });

  it("shows the help on Ctrl-A h and passes Ctrl-A with any other key through", () => {
    expect(feed(new ConsoleEscape(), 0x01, 0x68, 0x01, 0x3f)).toEqual({
      forward: [],
      commands: ["help", "help"],
    });
    // Ctrl-A a: readline's beginning-of-line still reaches a guest shell.
    expect(feed(new ConsoleEscape(), 0x01, 0x61)).toEqual({ forward: [0x01, 0x61], commands: [] });
  });
});
