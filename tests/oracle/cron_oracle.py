#!/usr/bin/env python3
"""Cases for checking our cron engine against an independent implementation, Python's cronsim.

Writes JSON lines {"expr", "tz", "after", "next": [...]}: the first N firing instants strictly
after `after` (UTC, RFC 3339), as cronsim computes them in zone `tz`. The Rust test
`cron_oracle` replays every line through our engine and must agree on each.

Usage: cron_oracle.py [--seed N] [--cases N] OUT.jsonl
The committed fixture (tests/fixtures/cron_oracle.jsonl) uses the default seed; the test script
also runs a fresh random seed on every run.
"""
import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

UTC = timezone.utc
NEXT = 6

ZONES = [
    "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Bangkok",
    "America/Santiago", "Pacific/Chatham", "Asia/Kolkata", "America/Sao_Paulo", "Europe/Berlin",
]
DST_ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe"]

# The original spec's examples, Sunday as 0 and 7, the OR rule, month ends, leap days, DST.
FIXED = [
    "0 2 * * *", "0 */6 * * *", "0 0 * * 0", "0 3 1 * *", "*/30 * * * *", "0 0,12 * * *", "0 9-17 * * 1-5",
    "0 3 * * 0", "0 4 * * *", "0 0 * * 7", "0 0 * * SUN", "0 0 * * sun-tue", "0 0 * * 5-7", "0 0 * * */2",
    "0 0 */2 * 1", "0 0 1-31/2 * 1", "0 0 13 * 5", "0 0 1,15 * MON", "0 0 *,15 * 1", "0 0 15 * *,1",
    "0 0 31 * *", "0 0 30 * *", "0 0 29 * *", "0 0 28-31 * *", "59 23 31 12 *", "0 0 29 2 *", "0 12 29 2 1",
    "0 0 28,29 feb *", "30 2 * * *", "30 1 * * *", "0 2 * * *", "0 1 * * *", "15,45 1-3 * * *", "*/15 * * * *",
    "0 * * * *", "30 * * * *", "*/20 1-3 * * *", "0,30 2,3 * * *", "45 0-4 * * 0", "0 2 * 3,11 *",
    "30 2 8 3 *", "0 1 1 11 *", "*/7 2 * * *", "0 */2 * * *", "5 4 * * *", "0 22 * * 1-5", "23 0-20/2 * * *",
    "0 0 1 * *", "0 0 1 1 *", "* * * * *", "*/45 * * * *", "0 */5 * * *", "1-59/7 */3 * * *", "0 0 * jan-mar mon",
]


def field(rng, lo, hi, names=None):
    def value(a=lo, b=hi):
        v = rng.randint(a, b)
        if names and rng.random() < 0.3 and (v - lo) < len(names):
            name = names[v - lo]
            return rng.choice([name, name.lower(), name.title()])
        return str(v)

    def term():
        kind = rng.random()
        if kind < 0.35:
            return value()
        if kind < 0.6:
            a = rng.randint(lo, hi)
            b = rng.randint(a, hi)
            return f"{a}-{b}"
        # cronsim reads a one-value range with a step (`8-8/4`) as `8/4`, i.e. 8 and 12;
        # Vixie cron reads it as just 8. So the steps here always cover two values or more.
        a = rng.randint(lo, hi - 1)
        b = rng.randint(a + 1, hi)
        return f"{a}-{b}/{rng.randint(1, max(1, (hi - lo) // 2))}"

    kind = rng.random()
    if kind < 0.3:
        return "*"
    if kind < 0.45:
        return f"*/{rng.randint(1, hi - lo + 1)}"
    if kind < 0.75:
        return term()
    return ",".join(term() for _ in range(rng.randint(2, 3)))


def random_expr(rng):
    months = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
    days = "SUN MON TUE WED THU FRI SAT".split()
    minute = field(rng, 0, 59)
    hour = field(rng, 0, 23)
    if rng.random() < 0.5:  # Mostly fixed times, the common case for backups.
        minute, hour = str(rng.randint(0, 59)), str(rng.randint(0, 23))
    return " ".join([minute, hour, field(rng, 1, 31), field(rng, 1, 12, months), field(rng, 0, 7, days)])


def transitions(zone, start, end):
    """Instants where the zone's UTC offset changes, found by hourly sampling and bisection."""
    tz = ZoneInfo(zone)
    out = []
    t = start
    prev = t.astimezone(tz).utcoffset()
    while t < end:
        n = t + timedelta(hours=1)
        off = n.astimezone(tz).utcoffset()
        if off != prev:
            lo, hi = t, n
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
        prev, t = off, n
    return out


def is_elapsed_time_job(expr):
    minute, hour = expr.split()[:2]
    return minute.startswith("*") or hour.startswith("*")


def scan(expr, zone, start, end):
    """Every minute in (start, end] whose local wall time matches the expression.

    That is the definition of an elapsed-time job (minute or hour field starting with `*`), so
    it needs no DST reasoning at all. It reuses cronsim's field parser and day rule only."""
    tz = ZoneInfo(zone)
    sim = CronSim(expr, start.astimezone(tz))
    t = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    out = []
    while t <= end:
        local = t.astimezone(tz)
        if (local.minute in sim.minutes and local.hour in sim.hours and local.month in sim.months
                and sim.match_day(local.date())):
            out.append(t)
        t += timedelta(minutes=1)
    return out


def offset_changes(zone, start, end):
    """Instants (to the minute) where the zone's UTC offset changes, between start and end."""
    tz = ZoneInfo(zone)
    out = []
    day = start - timedelta(days=1)
    prev = day.astimezone(tz).utcoffset()
    while day < end + timedelta(days=1):
        nxt = day + timedelta(hours=12)
        off = nxt.astimezone(tz).utcoffset()
        if off != prev:
            lo, hi = day, nxt
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
        prev, day = off, nxt
    return out


def expected(expr, zone, after):
    """The expected instants, and which oracle decided them.

    cronsim ticks an elapsed-time job's hours from wherever the previous step left it, so on a
    day when a zone shifts by 30 minutes (Lord Howe) it lands on :30 and misses whole-hour
    runs. For those jobs, the two days around every offset change are decided by a
    brute-force minute scan instead; cronsim decides everything else."""
    sim = expected_by_cronsim(expr, zone, after, NEXT + 10)
    if not is_elapsed_time_job(expr) or not sim:
        return sim[:NEXT], "cronsim"
    windows = [(c - timedelta(days=1), c + timedelta(days=1)) for c in offset_changes(zone, after, sim[-1])]
    inside = lambda t: any(a <= t <= b for a, b in windows)
    merged = {t for t in sim if not inside(t)}
    for a, b in windows:
        merged.update(t for t in scan(expr, zone, max(a - timedelta(minutes=1), after), b) if t > after)
    merged = sorted(t for t in merged if t <= sim[-1])[:NEXT]
    return merged, ("cronsim" if merged == sim[:NEXT] else "scan")


def expected_by_cronsim(expr, zone, after, count):
    tz = ZoneInfo(zone)
    it = CronSim(expr, after.astimezone(tz))
    out = []
    for _ in range(count + 4):
        try:
            t = next(it)
        except StopIteration:
            break
        t_utc = t.astimezone(UTC)
        # cronsim walks wall-clock jobs in naive local time, so from inside a repeated hour
        # it can yield an instant that is not after the start. The contract is "strictly after".
        if t_utc > after and (not out or t_utc > out[-1]):
            out.append(t_utc)
        if len(out) == count:
            break
    return out


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--cases", type=int, default=3000)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    lo, hi = datetime(2024, 1, 1, tzinfo=UTC), datetime(2030, 12, 31, tzinfo=UTC)
    near = {z: transitions(z, datetime(2025, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)) for z in DST_ZONES}

    def random_start(zone):
        if zone in near and rng.random() < 0.6:
            # Around a DST change: from a day before to a few hours after, in whole minutes
            # or with seconds, including inside a repeated hour.
            t = rng.choice(near[zone]) + timedelta(minutes=rng.randint(-26 * 60, 4 * 60))
            return t + timedelta(seconds=rng.choice([0, 0, 0, 30, 59]))
        t = lo + timedelta(seconds=rng.randint(0, int((hi - lo).total_seconds())))
        return t.replace(second=rng.choice([0, t.second]))

    cases = []
    for expr in FIXED:
        for zone in ZONES:
            starts = [random_start(zone) for _ in range(2 if zone not in DST_ZONES else 4)]
            cases += [(expr, zone, s) for s in starts]
    while len(cases) < args.cases:
        expr = random_expr(rng)
        zone = rng.choice(ZONES + DST_ZONES * 2)
        cases.append((expr, zone, random_start(zone)))

    written = scanned = 0
    with open(args.out, "w") as f:
        for expr, zone, start in cases:
            try:
                nxt, by = expected(expr, zone, start)
            except CronSimError:
                continue  # cronsim refuses expressions that can never fire; so do we (tested separately).
            f.write(json.dumps({"expr": expr, "tz": zone, "after": iso(start), "next": [iso(t) for t in nxt], "by": by}) + "\n")
            written += 1
            scanned += by == "scan"
    print(f"wrote {written} cases to {args.out} ({scanned} decided by the minute scan)", file=sys.stderr)


if __name__ == "__main__":
    main()
