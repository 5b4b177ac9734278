import { describe, expect, it } from "vitest";

import { DICTIONARIES, setLang, t } from "./i18n";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("English and Thai", () => {
  it("have the same keys, none empty, with the same placeholders", () => {
    const en = DICTIONARIES.en;
    const th = DICTIONARIES.th;
    expect(Object.keys(th).sort(), "every English text should have a Thai one").toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(th[key].trim(), `the Thai text of ${key} should not be empty`).not.toBe("");
      expect(placeholders(th[key]), `the Thai text of ${key} should use the same placeholders`).toEqual(placeholders(en[key]));
    }
  });

  it("fills placeholders in the chosen language", () => {
    setLang("th");
    expect(t("results", { ok: 3, failed: 1 }), "Thai with numbers").toBe("สำเร็จ 3 · ล้มเหลว 1");
    expect(document.documentElement.lang, "the page language follows").toBe("th");
    setLang("en");
    expect(t("results", { ok: 3, failed: 1 }), "English with numbers").toBe("3 ok · 1 failed");
  });
});
