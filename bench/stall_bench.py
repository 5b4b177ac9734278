"""Write stalls caused by a backup while a long write runs (bench/stall-bench.sh drives it).

Steady writers (small autocommit INSERTs and UPDATEs from several connections) run the whole
time; one long write (an UPDATE that holds its row for LONG seconds, like a month-end batch)
starts, then the backup tool. Every writer operation that started while the tool ran is
counted: its worst and 99th-percentile latency are the stall the tool caused. A tool that takes
FLUSH TABLES WITH READ LOCK behind the long write holds every writer until the long write ends.
"""
import json
import subprocess
import sys
import threading
import time

import pymysql

HOST, PORT, USER, PASSWORD, DB = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
TOOLS = json.loads(sys.argv[6])  # [[label, [argv...]], ...]
ROUNDS = int(sys.argv[7]) if len(sys.argv) > 7 else 1
WRITERS = 4
LONG = 10.0


def connect():
    return pymysql.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, database=DB, autocommit=True)


def setup():
    c = connect()
    with c.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS stall_events (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB")
        cur.execute("CREATE TABLE IF NOT EXISTS stall_batch (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB")
        cur.execute("INSERT IGNORE INTO stall_batch VALUES (1, 0)")
        cur.execute("SELECT COUNT(*) FROM stall_events")
        if cur.fetchone()[0] < 1000:
            cur.execute("INSERT INTO stall_events (v) SELECT seq FROM seq_1_to_1000")
    c.close()


def writer(stop, samples, n):
    c = connect()
    i = 0
    with c.cursor() as cur:
        while not stop.is_set():
            i += 1
            start = time.monotonic()
            if i % 2:
                cur.execute("INSERT INTO stall_events (v) VALUES (%s)", (n,))
            else:
                cur.execute("UPDATE stall_events SET v = v + 1 WHERE id = %s", (1 + (i * 7919 + n) % 1000,))
            samples.append((start, time.monotonic() - start))
            time.sleep(0.005)
    c.close()


def long_write(ids):
    c = connect()
    with c.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        ids.append(cur.fetchone()[0])
        try:
            cur.execute(f"UPDATE stall_batch SET v = v + SLEEP({LONG})")
        except pymysql.MySQLError:
            pass
    c.close()


def measure(label, argv):
    stop = threading.Event()
    samples = []
    threads = [threading.Thread(target=writer, args=(stop, samples, n)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    ids = []
    batch = threading.Thread(target=long_write, args=(ids,))
    batch.start()
    time.sleep(0.5)
    start = time.monotonic()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    end = time.monotonic()
    if ids:
        k = connect()
        with k.cursor() as cur:
            try:
                cur.execute(f"KILL QUERY {ids[0]}")
            except pymysql.MySQLError:
                pass
        k.close()
    batch.join()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    during = sorted(lat for (s, lat) in samples if start <= s <= end)
    baseline = sorted(lat for (s, lat) in samples if s < start - 0.5)
    p99 = during[int(0.99 * (len(during) - 1))] if during else 0.0
    worst = max(during) if during else 0.0
    base_p99 = baseline[int(0.99 * (len(baseline) - 1))] if baseline else 0.0
    ok = "yes" if done.returncode == 0 else f"no ({done.stderr.strip()[:60]})"
    return (label, end - start, len(during), base_p99 * 1000, p99 * 1000, worst * 1000, ok)


def main():
    setup()
    rows = []
    for r in range(ROUNDS):
        # Alternating rounds: each round starts one tool further on.
        order = TOOLS[r % len(TOOLS):] + TOOLS[: r % len(TOOLS)]
        for label, argv in order:
            rows.append(measure(label, argv))
    print()
    print(f"Writers' latency while each backup ran, a {LONG:.0f} s write running ({WRITERS} writers, {ROUNDS} round(s))")
    print()
    print("| tool | backup s | writes during | writes p99 before, ms | p99 during, ms | worst during, ms | backup ok |")
    print("|---|---|---|---|---|---|---|")
    for label, secs, n, base, p99, worst, ok in rows:
        print(f"| {label} | {secs:.2f} | {n} | {base:.1f} | {p99:.1f} | {worst:.1f} | {ok} |")


if __name__ == "__main__":
    main()
