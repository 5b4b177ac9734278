// The Destinations screen against a fake of the API module (the real IPC is covered end to end).
import { beforeEach, describe, expect, it, vi } from "vitest";

const calls: { name: string; args: unknown }[] = [];
let answers: Record<string, (args: any) => unknown> = {};

vi.mock("../api", () => ({
  call: async (name: string, args?: unknown) => {
    calls.push({ name, args });
    const answer = answers[name];
    if (!answer) throw new Error(`unexpected command ${name}`);
    return answer(args);
  },
  toEngineError: (e: unknown) => e,
}));

import { setLang } from "../i18n";
import type { Nav } from "../main";
import { renderDestinations } from "./destinations";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nav: Nav = { go: vi.fn(), refresh: vi.fn(), toast: vi.fn(), relabel: vi.fn(), machine: () => null, machinesChanged: vi.fn() };

function setValue(root: HTMLElement, name: string, value: string) {
  const el = root.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`);
  if (!el) throw new Error(`no field ${name}`);
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

beforeEach(() => {
  setLang("en");
  calls.length = 0;
  answers = {
    list_destinations: () => [
      { id: 1, name: "nas", location: "sftp://office@nas.local:22/backups", settings: { kind: "sftp" }, used_by: ["Nightly"], retention_days: 90, max_backups: null, created_at: "", updated_at: "" },
    ],
  };
});

describe("the destinations screen", () => {
  it("lists where each destination is, how long it keeps copies and who uses it", async () => {
    const root = document.createElement("main");
    await renderDestinations(root, nav);
    const item = root.querySelector('[data-testid="destination-nas"]')?.textContent ?? "";
    expect(item, "the location").toContain("sftp://office@nas.local:22/backups");
    expect(item, "its own retention").toContain("90 days");
    expect(item, "the schedule using it").toContain("Nightly");
  });

  it("shows only the chosen kind's fields and sends the secret beside the settings, not in them", async () => {
    answers.test_destination_draft = () => ({ location: "s3://office-backups/billora", ok: true, round_trip_ms: 42 });
    const root = document.createElement("main");
    document.body.append(root);
    await renderDestinations(root, nav);
    expect(root.querySelector('[name="bucket"]'), "S3 is the first kind offered").not.toBeNull();
    const kind = root.querySelector<HTMLSelectElement>('[data-testid="dest-kind"]');
    if (!kind) throw new Error("no kind select");
    kind.value = "webdav";
    kind.dispatchEvent(new Event("change", { bubbles: true }));
    expect(root.querySelector('[name="bucket"]'), "S3 fields are gone for WebDAV").toBeNull();
    expect(root.querySelector('[name="url"]'), "the WebDAV address is asked").not.toBeNull();
    kind.value = "s3";
    kind.dispatchEvent(new Event("change", { bubbles: true }));
    setValue(root, "name", "offsite");
    setValue(root, "bucket", "office-backups");
    setValue(root, "prefix", "billora");
    setValue(root, "access_key_id", "AKIA1");
    setValue(root, "secret", "s3cr3t");
    setValue(root, "max_backups", "30");
    root.querySelector<HTMLButtonElement>('[data-testid="dest-test-draft"]')?.click();
    await sleep(20);
    const sent = calls.find((c) => c.name === "test_destination_draft")?.args as { form: { destination: any; secret: string } };
    expect(sent.form.secret, "the secret travels on its own").toBe("s3cr3t");
    expect(JSON.stringify(sent.form.destination), "and never inside the destination's settings").not.toContain("s3cr3t");
    expect(sent.form.destination, "the settings of the S3 kind").toMatchObject({
      name: "offsite",
      max_backups: 30,
      settings: { kind: "s3", bucket: "office-backups", prefix: "billora", access_key_id: "AKIA1", path_style: true, endpoint: null },
    });
    expect(root.querySelector('[data-testid="dest-draft-result"]')?.textContent, "the test result is shown").toContain("s3://office-backups/billora");
  });

  it("puts a refusal next to the field the engine names and saves nothing", async () => {
    answers.add_destination = () => {
      throw { code: "NotFound", message: "writing a test file on `offsite` failed: NoSuchBucket", field: "bucket" };
    };
    const root = document.createElement("main");
    document.body.append(root);
    await renderDestinations(root, nav);
    setValue(root, "name", "offsite");
    setValue(root, "bucket", "no-such-bucket");
    root.querySelector("form")?.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await sleep(20);
    const slot = root.querySelector<HTMLElement>('[data-field="bucket"] .field-error');
    expect(slot?.hidden, "the bucket's error is shown").toBe(false);
    expect(slot?.textContent, "with the engine's words").toContain("NoSuchBucket");
    expect(nav.refresh, "a refused destination does not leave the form").not.toHaveBeenCalled();
  });

  it("connects Google Drive instead of testing it first, and says the browser will ask", async () => {
    let resolveAdd: (v: unknown) => void = () => undefined;
    answers.add_destination = () => new Promise((r) => (resolveAdd = r));
    const root = document.createElement("main");
    document.body.append(root);
    await renderDestinations(root, nav);
    const kind = root.querySelector<HTMLSelectElement>('[data-testid="dest-kind"]');
    if (!kind) throw new Error("no kind select");
    kind.value = "gdrive";
    kind.dispatchEvent(new Event("change", { bubbles: true }));
    expect(root.querySelector<HTMLButtonElement>('[data-testid="dest-test-draft"]')?.hidden, "no separate Test for Drive").toBe(true);
    expect(root.querySelector('[data-testid="dest-save"]')?.textContent, "the button says it connects").toBe("Connect to Google Drive and save");
    setValue(root, "name", "drive");
    setValue(root, "client_id", "1234-abc.apps.googleusercontent.com");
    setValue(root, "secret", "client-secret");
    root.querySelector("form")?.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await sleep(10);
    expect(root.querySelector('[data-testid="dest-draft-result"]')?.textContent, "the person is told to allow access").toContain("browser");
    const sent = calls.find((c) => c.name === "add_destination")?.args as { form: { destination: any; secret: string } };
    expect(sent.form.destination.settings, "the Drive settings").toEqual({ kind: "gdrive", client_id: "1234-abc.apps.googleusercontent.com", folder: "", api_base: null });
    expect(sent.form.secret, "the client secret travels on its own").toBe("client-secret");
    resolveAdd({});
    await sleep(10);
    expect(nav.refresh, "the list is shown again once connected").toHaveBeenCalled();
  });
});
