// Numbers, sizes, durations and times for people, in the app's language.
import type { Lang } from "./api/bindings/Lang";

export function humanSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

export function humanDuration(seconds: number | null | undefined, lang: Lang): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const th = lang === "th";
  if (seconds < 1) return th ? "น้อยกว่า 1 วินาที" : "under 1 s";
  if (seconds < 60) return th ? `${Math.round(seconds)} วินาที` : `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return th ? `${minutes} นาที ${rest} วินาที` : `${minutes} min ${rest} s`;
  const hours = Math.floor(minutes / 60);
  return th ? `${hours} ชม. ${minutes % 60} นาที` : `${hours} h ${minutes % 60} min`;
}

/** "3 hours ago" / "in 5 minutes", from an RFC 3339 time (with zone name suffix allowed). */
export function relativeTime(rfc3339: string | null | undefined, lang: Lang, now: Date = new Date()): string {
  if (!rfc3339) return "—";
  const at = parseTime(rfc3339);
  if (at === null) return rfc3339;
  const diff = (at.getTime() - now.getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang === "th" ? "th" : "en", { numeric: "auto" });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), "second");
  if (abs < 3600) return rtf.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), "hour");
  return rtf.format(Math.round(diff / 86400), "day");
}

/** Parses the engine's RFC 3339 text (it may end with a `[Zone/Name]` suffix). */
export function parseTime(text: string): Date | null {
  const plain = text.replace(/\[.*\]$/, "");
  const ms = Date.parse(plain);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** "Fri 27 Nov 2026, 02:00" in the time's own offset (as the engine wrote it). */
export function wallTime(rfc3339: string | null | undefined, lang: Lang): string {
  if (!rfc3339) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(rfc3339);
  if (!m) return rfc3339;
  const [, y, mo, d, hh, mm] = m;
  // The date part as written (the schedule's zone), formatted without converting zones.
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), 12));
  const day = new Intl.DateTimeFormat(lang === "th" ? "th-TH" : "en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  }).format(date);
  return `${day}, ${hh}:${mm}`;
}

/** The file name a run would write now (the spec's pattern), for the editor's preview. */
export function previewFilename(
  backupType: "full" | "tenant",
  tenantId: number | null,
  compression: "zstd" | "gzip" | "none",
  at: Date = new Date(),
): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}-${pad(at.getMinutes())}-${pad(at.getSeconds())}`;
  const ext = compression === "zstd" ? ".sql.zst" : compression === "gzip" ? ".sql.gz" : ".sql";
  const kind = backupType === "tenant" ? `tenant_${tenantId ?? "?"}` : "full";
  return `backup_${kind}_${stamp}${ext}`;
}
