// The dashboard's size chart: the last good backups' sizes as a line, the newest marked.
import { describe, expect, it, vi } from "vitest";

vi.mock("../api", () => ({ call: async () => undefined, toEngineError: (e: unknown) => e }));

import { setLang } from "../i18n";
import { sizeRow } from "./dashboard";

describe("the size chart", () => {
  it("draws one point per backup, oldest left, with the sizes in words", () => {
    setLang("en");
    const row = sizeRow([1_000_000, 1_100_000, 300_000]);
    expect(row, "three sizes make a chart").not.toBeNull();
    const points = row?.querySelector("polyline")?.getAttribute("points")?.split(" ") ?? [];
    expect(points.length, "a point per backup").toBe(3);
    const ys = points.map((p) => Number(p.split(",")[1]));
    expect(ys[2], "the drop is drawn lower than the others (SVG y grows downwards)").toBeGreaterThan(ys[0] ?? 0);
    expect(row?.querySelector("svg")?.getAttribute("aria-label"), "readable without the picture").toContain("The last 3 backups");
    expect(row?.textContent, "the newest size in words").toContain("300 KB");
  });

  it("draws nothing for fewer than two backups", () => {
    expect(sizeRow([5]), "one size is not a trend").toBeNull();
    expect(sizeRow([]), "nor none").toBeNull();
  });
});
