import { describe, expect, it } from "vitest";

import { etaSeconds } from "./views/dashboard";
import { humanDuration, humanSize, parseTime, previewFilename, relativeTime, wallTime } from "./format";

describe("sizes, durations and times for people", () => {
  it("writes sizes in decimal units", () => {
    expect(humanSize(null), "an unknown size is a dash").toBe("—");
    expect(humanSize(999), "bytes stay bytes").toBe("999 B");
    expect(humanSize(5300), "thousands are KB").toBe("5.30 KB");
    expect(humanSize(784_000_000), "a big backup in MB").toBe("784 MB");
  });

  it("writes durations in English and Thai", () => {
    expect(humanDuration(0.4, "en"), "under a second").toBe("under 1 s");
    expect(humanDuration(75, "en"), "minutes and seconds").toBe("1 min 15 s");
    expect(humanDuration(3725, "th"), "hours and minutes in Thai").toBe("1 ชม. 2 นาที");
  });

  it("reads the engine's RFC 3339 text, zone suffix or not", () => {
    expect(parseTime("2026-02-01T02:00:00+07:00")?.toISOString(), "an offset time").toBe("2026-01-31T19:00:00.000Z");
    expect(parseTime("2026-02-01T02:00:00+07:00[Asia/Bangkok]")?.toISOString(), "a zone suffix is ignored").toBe("2026-01-31T19:00:00.000Z");
    expect(parseTime("soon"), "not a time").toBeNull();
  });

  it("says how long ago or how soon", () => {
    const now = new Date("2026-02-01T00:00:00Z");
    expect(relativeTime("2026-01-31T21:00:00Z", "en", now), "three hours ago").toBe("3 hours ago");
    expect(relativeTime("2026-02-01T00:05:00Z", "en", now), "in five minutes").toBe("in 5 minutes");
  });

  it("shows wall-clock times as the engine wrote them, in the schedule's own zone", () => {
    expect(wallTime("2026-02-01T02:00:00+07:00", "en"), "02:00 stays 02:00 whatever this machine's zone").toBe("Sun, 1 Feb 2026, 02:00");
    expect(wallTime(null, "en"), "no time is a dash").toBe("—");
  });

  it("previews the file name a run will write", () => {
    const at = new Date(2026, 1, 3, 2, 0, 0);
    expect(previewFilename("full", null, "zstd", at), "the spec's full-backup name").toBe("backup_full_2026-02-03T02-00-00.sql.zst");
    expect(previewFilename("tenant", 5, "gzip", at), "a tenant backup names the tenant").toBe("backup_tenant_5_2026-02-03T02-00-00.sql.gz");
  });
});

describe("time left of a running backup", () => {
  it("comes from the rate seen since the first progress event", () => {
    const p = (rows_done: number) => ({ table: "t", tables_done: 0, tables_total: 1, rows_done, rows_estimated: 1000, bytes_done: 0 });
    expect(etaSeconds(7, p(100), 0), "no rate from one event").toBeNull();
    expect(etaSeconds(7, p(300), 10_000), "200 rows in 10 s leaves 700 rows: 35 s").toBe(35);
    expect(etaSeconds(7, p(1000), 20_000), "nothing left: no estimate").toBeNull();
  });
});
