import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

import { DICTIONARIES, THAI_ERRORS, errorText, setLang, t } from "./i18n";

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

describe("engine errors for Thai readers", () => {
  it("say what the code means in Thai before the engine's details, and stay as they are in English", () => {
    const err = { code: "AuthFailed", message: "the server refused the user name or password" };
    setLang("th");
    expect(errorText(err), "Thai summary first").toBe("ชื่อผู้ใช้ รหัสผ่าน หรือกุญแจไม่ถูกต้อง — the server refused the user name or password");
    expect(errorText({ code: "Unknown", message: "x" }), "an unknown code keeps the message").toBe("x");
    setLang("en");
    expect(errorText(err), "English shows the engine's sentence").toBe(err.message);
  });

  it("cover every code the engine has", () => {
    const rust = readFileSync(resolve(process.cwd(), "src/api/bindings/ErrorCode.ts"), "utf8");
    const codes = [...rust.matchAll(/"([A-Za-z]+)"/g)].map((m) => m[1]);
    expect(codes.length, "the generated ErrorCode type lists the codes").toBeGreaterThan(10);
    for (const code of codes) expect(THAI_ERRORS[code ?? ""], `a Thai text for ${code}`).toBeTruthy();
  });
});
