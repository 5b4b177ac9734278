// Form fields with an error slot each, and the one place that puts an engine error next to the
// field it names (or at the top of the form when it names none).
import type { EngineError } from "./api/bindings/EngineError";
import { h, type Child } from "./dom";
import { errorWithHint, t } from "./i18n";

/** A labelled field. `name` is the engine's field name (`cron_expression`, `host`, …). */
export function field(name: string, label: string, control: HTMLElement, help?: Child): HTMLDivElement {
  const id = `f-${name}`;
  control.id = control.id || id;
  control.setAttribute("aria-describedby", `${id}-err`);
  if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement) {
    control.name = control.name || name;
  }
  return h(
    "div",
    { class: "field", "data-field": name },
    h("label", { for: control.id, text: label }),
    control,
    help ? h("div", { class: "help" }, help) : null,
    h("p", { class: "field-error", id: `${id}-err`, role: "alert", hidden: true }),
  );
}

/** A checkbox with its label after it. */
export function checkbox(name: string, label: string, checked: boolean): HTMLDivElement {
  const input = h("input", { type: "checkbox", id: `f-${name}`, name, checked });
  return h(
    "div",
    { class: "field check", "data-field": name },
    input,
    h("label", { for: `f-${name}`, text: label }),
    h("p", { class: "field-error", id: `f-${name}-err`, role: "alert", hidden: true }),
  );
}

export function clearErrors(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>(".field-error, .form-error").forEach((el) => {
    el.hidden = true;
    el.textContent = "";
  });
  root.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

/** Clears the error of one field (as soon as the admin edits it). */
export function clearFieldError(root: ParentNode, name: string): void {
  const wrapper = root.querySelector<HTMLElement>(`.field[data-field="${name}"]`);
  if (!wrapper) return;
  const slot = wrapper.querySelector<HTMLElement>(".field-error");
  if (slot) {
    slot.hidden = true;
    slot.textContent = "";
  }
  wrapper.querySelector("[aria-invalid]")?.removeAttribute("aria-invalid");
}

/** Shows `err` next to its field, or in the form's error box. Returns the element used. */
export function showError(root: ParentNode, err: EngineError): HTMLElement | null {
  const text = errorWithHint(err);
  const wrapper = err.field ? root.querySelector<HTMLElement>(`.field[data-field="${err.field}"]`) : null;
  // A field folded away (More options, Advanced) is unfolded to show its error.
  wrapper?.closest("details")?.setAttribute("open", "");
  if (wrapper) {
    const slot = wrapper.querySelector<HTMLElement>(".field-error");
    const control = wrapper.querySelector<HTMLElement>("input, select, textarea");
    if (slot) {
      slot.textContent = text;
      slot.hidden = false;
    }
    control?.setAttribute("aria-invalid", "true");
    control?.focus();
    return slot;
  }
  const box = root.querySelector<HTMLElement>(".form-error");
  if (box) {
    box.textContent = `${t("error")}: ${text}`;
    box.hidden = false;
  }
  return box;
}

/** The box for errors that name no field. */
/** The Cancel button of a form that edits in place: `stop` leaves edit mode and redraws. */
export function cancelEditButton(stop: () => void): HTMLButtonElement {
  return h("button", { type: "button", text: t("cancel"), onclick: stop });
}

export function formError(): HTMLParagraphElement {
  return h("p", { class: "form-error", role: "alert", hidden: true });
}

export function inputValue(root: ParentNode, name: string): string {
  const el = root.querySelector<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(`[name="${name}"]`);
  return el ? el.value.trim() : "";
}

export function checked(root: ParentNode, name: string): boolean {
  const el = root.querySelector<HTMLInputElement>(`input[name="${name}"]`);
  return el ? el.checked : false;
}

/** A whole number or null for an empty field; NaN passes through for the engine to refuse. */
export function optionalInt(text: string): number | null {
  if (text === "") return null;
  const n = Number(text);
  return Number.isInteger(n) ? n : Number.NaN;
}

/** A modal confirmation built from a <dialog>; resolves true when confirmed. */
export function confirmDialog(message: string, yes: string, danger = true): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "data-testid": "confirm-dialog" });
    const done = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(
      h("p", { text: message }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", text: t("cancel"), onclick: () => done(false) }),
        h("button", { type: "button", class: danger ? "danger" : "primary", text: yes, "data-testid": "confirm-yes", onclick: () => done(true) }),
      ),
    );
    dialog.addEventListener("cancel", () => done(false));
    document.body.append(dialog);
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  });
}
