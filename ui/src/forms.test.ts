import { describe, expect, it } from "vitest";

import { h } from "./dom";
import { clearFieldError, field, formError, showError } from "./forms";

function form() {
  return h(
    "form",
    {},
    formError(),
    field("name", "Name", h("input", { type: "text" })),
    field("cron_expression", "When", h("input", { type: "text" })),
  );
}

describe("engine errors in forms", () => {
  it("puts an error next to the field it names, with its hint", () => {
    const f = form();
    document.body.append(f);
    showError(f, { code: "InvalidCron", message: "minute must be 0-59", field: "cron_expression", hint: "use 0-59" });
    const slot = f.querySelector<HTMLElement>('[data-field="cron_expression"] .field-error');
    expect(slot?.hidden, "the field's error slot should be visible").toBe(false);
    expect(slot?.textContent, "the message and the hint").toBe("minute must be 0-59 — use 0-59");
    expect(f.querySelector('[name="cron_expression"]')?.getAttribute("aria-invalid"), "the input is marked invalid").toBe("true");
    expect(f.querySelector<HTMLElement>(".form-error")?.hidden, "the form-level box stays hidden").toBe(true);
    clearFieldError(f, "cron_expression");
    expect(slot?.hidden, "editing the field clears its error").toBe(true);
    expect(f.querySelector('[name="cron_expression"]')?.hasAttribute("aria-invalid"), "and its invalid mark").toBe(false);
  });

  it("shows an error that names no known field at the top of the form", () => {
    const f = form();
    showError(f, { code: "Unreachable", message: "the server did not answer" });
    const box = f.querySelector<HTMLElement>(".form-error");
    expect(box?.hidden, "the form-level box is shown").toBe(false);
    expect(box?.textContent, "with the message").toContain("the server did not answer");
  });
});
