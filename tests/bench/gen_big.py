#!/usr/bin/env python3
# gen_big.py — a deterministic history whose SQL totals about --mib MiB, for
# the compile-time benchmark (how long `gcc -O2 -c` takes over the C that
# `sqlmig compile` writes for it).
#
#   gen_big.py --out DIR [--mib 10] [--rows 1000]
#
# Migration 1 creates four tables of reference data (a product catalogue,
# its prices, translated labels, postal codes); every other migration seeds
# one of them with one INSERT of --rows literal rows, one row per line
# (70 to 200 bytes each), until the files total --mib MiB. This is the shape
# that makes a history big in practice: seed data written as literals. All
# values come from a PRNG with a fixed seed, so the bytes are the same on
# every machine; files named like migrations that are not part of the new
# history are removed, nothing else is touched.
#
# Python 3, standard library only.

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "helpers"))
from gen_history import write  # noqa: E402

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee "
         "zulu amber basalt cobalt dune ember fjord granite harbor iris jade kelp lagoon "
         "marble nickel onyx pearl quartz river slate timber umber velvet willow").split()
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK")
LANGS = ("en", "fr", "de", "es", "it", "nl", "pt", "sv", "pl", "cs")

SCHEMA = """-- Reference data that the application ships with: a catalogue, its prices,
-- translated labels and postal codes, seeded by the migrations after this one.

CREATE TABLE catalogue (
    id          INTEGER PRIMARY KEY,
    sku         TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    weight_g    INTEGER NOT NULL CHECK (weight_g >= 0),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE prices (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL,
    currency   TEXT NOT NULL,
    amount     REAL NOT NULL,
    valid_from TEXT NOT NULL
);

CREATE TABLE labels (
    id    INTEGER PRIMARY KEY,
    lang  TEXT NOT NULL,
    key   TEXT NOT NULL,
    text  TEXT NOT NULL,
    UNIQUE (lang, key)
);

CREATE TABLE postal_codes (
    id        INTEGER PRIMARY KEY,
    code      TEXT NOT NULL,
    place     TEXT NOT NULL,
    latitude  REAL NOT NULL,
    longitude REAL NOT NULL
);
"""


def words(rng, lo, hi):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def rows(table, rng, first, count):
    out = []
    for k in range(first, first + count):
        if table == "catalogue":
            out.append("    (%d, 'SKU-%07d', '%s', '%s', %d, %d)" % (
                k, k, words(rng, 2, 4).title(), words(rng, 6, 18), rng.randint(1, 50000),
                1 if rng.random() < 0.9 else 0))
        elif table == "prices":
            out.append("    (%d, %d, '%s', %.2f, '20%02d-%02d-%02d')" % (
                k, rng.randint(1, 100000), rng.choice(CURRENCIES), rng.uniform(0.5, 5000),
                rng.randint(15, 26), rng.randint(1, 12), rng.randint(1, 28)))
        elif table == "labels":
            out.append("    (%d, '%s', 'label.%d.%s', '%s')" % (
                k, LANGS[k % len(LANGS)], k // len(LANGS), rng.choice(WORDS),
                words(rng, 4, 20)))
        else:
            out.append("    (%d, '%05d', '%s', %.6f, %.6f)" % (
                k, rng.randint(1000, 99999), words(rng, 1, 3).title(),
                rng.uniform(-90, 90), rng.uniform(-180, 180)))
    return out


COLUMNS = {
    "catalogue": "id, sku, title, description, weight_g, active",
    "prices": "id, product_id, currency, amount, valid_from",
    "labels": "id, lang, key, text",
    "postal_codes": "id, code, place, latitude, longitude",
}


def generate(mib, per):
    rng = random.Random(20261123)
    goal = int(mib * 1024 * 1024)
    files = [("0001_reference_tables.sql", SCHEMA)]
    total = len(SCHEMA)
    next_id = dict.fromkeys(COLUMNS, 1)
    tables = list(COLUMNS)
    v = 2
    while total < goal:
        table = tables[v % len(tables)]
        body = rows(table, rng, next_id[table], per)
        next_id[table] += per
        text = ("-- Seed %d rows of %s.\n\nINSERT INTO %s (%s) VALUES\n%s;\n"
                % (per, table, table, COLUMNS[table], ",\n".join(body)))
        files.append(("%04d_seed_%s.sql" % (v, table), text))
        total += len(text)
        v += 1
    return files


def main(argv):
    ap = argparse.ArgumentParser(description="Write a big deterministic history of seed INSERTs.")
    ap.add_argument("--out", required=True)
    ap.add_argument("--mib", type=float, default=10.0)
    ap.add_argument("--rows", type=int, default=1000)
    a = ap.parse_args(argv)
    files = generate(a.mib, a.rows)
    write(a.out, files)  # gen_history.py's: rewrites only what changed
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
