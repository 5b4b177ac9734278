// The style sheet's promises that a screenshot would not catch: input borders readable against
// the page in both themes (WCAG 1.4.11: 3:1), and `hidden` beating every display rule.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The tests run from ui/ (npm test).
const css = readFileSync(resolve(process.cwd(), "src/style.css"), "utf8");
const dark = css.slice(css.indexOf("@media (prefers-color-scheme: dark)"));
const light = css.slice(0, css.indexOf("@media (prefers-color-scheme: dark)"));

function colour(block: string, name: string): string {
  const found = new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(block);
  if (!found?.[1]) throw new Error(`--${name} is not a #rrggbb colour in the block`);
  return found[1];
}

function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe("the style sheet", () => {
  it("computes contrast as WCAG does", () => {
    expect(contrast("#000000", "#ffffff"), "black on white is 21:1").toBeCloseTo(21, 5);
    expect(contrast("#d1d9e0", "#f6f8fa"), "the old input border was about 1.3:1").toBeLessThan(1.5);
  });

  for (const [theme, block] of [
    ["light", light],
    ["dark", dark],
  ] as const) {
    it(`gives input borders at least 3:1 against the page and panels (${theme})`, () => {
      const border = colour(block, "field-line");
      for (const surface of ["bg", "panel"]) {
        const ratio = contrast(border, colour(block, surface));
        expect(ratio, `--field-line on --${surface} in the ${theme} theme should be at least 3:1, is ${ratio.toFixed(2)}`).toBeGreaterThanOrEqual(3);
      }
    });
  }

  it("lets `hidden` hide a field, whatever its display rule", () => {
    expect(css, "a [hidden] rule with !important").toMatch(/\[hidden\]\s*\{\s*display:\s*none\s*!important;?\s*\}/);
    expect(css, "the action cell is not a flex box (its borders would break)").not.toMatch(/(^|\n)\s*td\.row-actions\s*\{[^}]*display:\s*flex/);
  });
});
