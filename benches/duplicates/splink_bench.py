"""Splink, the open-source peer of `lead_duplicates()`: the same leads, the same planted
ground truth, the same precision and recall as benches/duplicates/quality.sql.

    python benches/duplicates/splink_bench.py WORKSPACE OUT.json [--max-pairs 1e7]

(benches/duplicates/splink.sh makes the environment and runs this under /usr/bin/time.)

WORKSPACE is a `leadql generate --duplicates SHARE` workspace: its tables are folders of
Parquet files, `leads/*.parquet` and `planted_duplicates/*.parquet`.

What runs, in the way the Splink tutorials set up a deduplication:

1. Load and normalise (DuckDB): email lower-cased and trimmed, phone digits only,
   names and company lower-cased with accents and punctuation removed, country upper
   case; the blocking keys (email domain, initials, the company's first 6 letters).
2. Train (timed): the prior from deterministic rules, u by seeded random sampling,
   m by expectation maximisation on blocking rules (default: same email, then same
   full name).
3. Predict (timed) with match probability >= 0.5; 0.9 is the same prediction filtered.
4. Score against the ground truth: precision, recall overall and per planted
   variation, per blocking rule; and, untimed, a threshold sweep over every blocked pair.

Writes the numbers, timings and peak memory (max RSS) to OUT.json and prints a table.
"""

import argparse
import json
import logging
import os
import platform
import resource
import sys
import time

import duckdb
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

# Thresholds reported in full (per variation, per rule) and the sweep's (recall only
# over all true pairs), as in quality.sql.
MAIN_THRESHOLDS = (0.5, 0.9)
SWEEP_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)

# The prediction blocking rules, in the order of Splink's `match_key` (0, 1, ...):
# comparable to leadql's keys (same email, same phone, last name with first initial at
# the same company, first name with last initial at the same company, last name at the
# same email domain).
BLOCKING_RULES = [
    ("email", block_on("email")),
    ("phone", block_on("phone")),
    ("last_name+first_initial+company6", block_on("last_name", "first_initial", "company_key")),
    ("first_name+last_initial+company6", block_on("first_name", "last_initial", "company_key")),
    ("last_name+email_domain", block_on("last_name", "email_domain")),
]


# Blocking rules m can be estimated on by expectation maximisation (--em). Each leaves
# out the comparisons of the fields it blocks on, so the default pair between them
# estimates every comparison: pairs sharing an email, then pairs sharing a full name
# (the tutorials' choice of a strong identifier and a name rule).
EM_RULES = {
    "email": block_on("email"),
    "phone": block_on("phone"),
    "full_name": block_on("first_name", "last_name"),
    "last_name_company": block_on("last_name", "first_initial", "company_key"),
    "first_name_company": block_on("first_name", "last_initial", "company_key"),
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workspace", help="workspace directory (leads/, planted_duplicates/)")
    p.add_argument("out", help="JSON file the results are written to")
    p.add_argument("--max-pairs", type=float, default=1e7,
                   help="pairs sampled to estimate u (Splink's max_pairs; default 1e7)")
    p.add_argument("--seed", type=int, default=42, help="seed of u's random sampling")
    p.add_argument("--threads", type=int, default=None,
                   help="DuckDB threads (default: DuckDB's own, all cores)")
    p.add_argument("--email-comparison", choices=("exact", "domain"), default="exact",
                   help="email compared by exact match only (default), or also by "
                        "email domain (a level between exact and different)")
    p.add_argument("--em", default="email,full_name",
                   help="comma-separated EM blocking rules, in order, from: "
                        + ", ".join(EM_RULES) + " (default email,full_name)")
    p.add_argument("--no-sweep", action="store_true",
                   help="skip the untimed threshold sweep over all blocked pairs")
    p.add_argument("--verbose", action="store_true", help="Splink's INFO log on stderr")
    return p.parse_args()


def run(con, sql):
    """Runs `sql` to the end (DuckDB 2 refuses a new statement on a connection whose
    last result is unfinished) and returns its rows."""
    return con.execute(sql).fetchall()


def one(con, sql):
    """The single row of `sql`."""
    return run(con, sql)[0]


def peak_rss_mib():
    """This process's peak resident memory so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(con, workspace):
    """Reads the leads into table `leads_clean`, normalised; the ground truth into
    `planted` and `truth` (pairs a < b, as in quality.sql). Returns the lead count."""
    leads = os.path.join(workspace, "leads", "*.parquet")
    planted = os.path.join(workspace, "planted_duplicates", "*.parquet")
    # Names: lower case, accents stripped, anything but letters and digits dropped
    # ("de Jong" and "deJong", "O'Brien" and "OBrien" agree). Company: the same, but
    # words kept apart ("S.A." becomes "sa"). Empty strings become NULL so that they
    # neither block nor count as agreement.
    run(con, f"""
        CREATE TABLE leads_clean AS
        WITH base AS (
          SELECT lead_id,
            nullif(regexp_replace(lower(strip_accents(coalesce(first_name, ''))), '[^a-z0-9]', '', 'g'), '') AS first_name,
            nullif(regexp_replace(lower(strip_accents(coalesce(last_name, ''))), '[^a-z0-9]', '', 'g'), '') AS last_name,
            nullif(lower(trim(email)), '') AS email,
            nullif(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), '') AS phone,
            nullif(trim(regexp_replace(regexp_replace(lower(strip_accents(coalesce(company, ''))),
                   '[^a-z0-9 ]', '', 'g'), ' +', ' ', 'g')), '') AS company,
            nullif(upper(trim(country)), '') AS country
          FROM read_parquet('{leads}'))
        SELECT *,
          left(first_name, 1) AS first_initial,
          left(last_name, 1) AS last_initial,
          nullif(split_part(email, '@', 2), '') AS email_domain,
          left(split_part(company, ' ', 1), 6) AS company_key
        FROM base""")
    run(con, f"CREATE TABLE planted AS SELECT * FROM read_parquet('{planted}')")
    # A true pair: two leads of the same person (a planted duplicate and its original,
    # or two duplicates of the same original).
    run(con, """
        CREATE TABLE truth AS
        WITH members AS (
          SELECT duplicate_of AS root, lead_id FROM planted
          UNION ALL SELECT DISTINCT duplicate_of, duplicate_of FROM planted)
        SELECT a.lead_id AS a, b.lead_id AS b
        FROM members a JOIN members b ON a.root = b.root AND a.lead_id < b.lead_id""")
    return one(con, "SELECT count(*) FROM leads_clean")[0]


def email_comparison(kind):
    """Email by exact match; or, with `kind` "domain", a level for two addresses at
    the same domain (mary.miller@acme.com and mmiller@acme.com) before "different"."""
    if kind == "exact":
        return cl.ExactMatch("email")
    return cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            cll.ExactMatchLevel("email_domain"),
            cll.ElseLevel(),
        ])


def settings(email_kind="exact"):
    """The model: comparisons on the fields both systems look at."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="lead_id",
        blocking_rules_to_generate_predictions=[rule for _, rule in BLOCKING_RULES],
        comparisons=[
            # Jaro-Winkler at Splink's default thresholds; common names ("smith")
            # agree for less than rare ones (term-frequency adjustment).
            cl.JaroWinklerAtThresholds("first_name").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("last_name").configure(term_frequency_adjustments=True),
            email_comparison(email_kind),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("company"),
            cl.ExactMatch("country"),
        ],
        retain_matching_columns=False,
    )


def train(linker, max_pairs, seed, em_rules):
    """Estimates the model's parameters as the tutorials do; returns the trained model
    (Splink's settings dictionary, with the prior and every m and u)."""
    # The prior (probability that two random leads match) from rules that admit few
    # false positives, with a guessed recall: one lead in twenty being a duplicate is
    # not something a user would know in advance.
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("phone")], recall=0.7)
    # u: how often fields agree among non-matches, from random pairs.
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    # m: how often fields agree among matches, by EM on the pairs of each rule in
    # turn (see EM_RULES).
    for name in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(EM_RULES[name])
    return linker.misc.save_model_to_json()


def score(con, pairs, threshold):
    """Precision and recall of the predicted `pairs` (table with lead_id_l, lead_id_r,
    match_probability, match_key) at `threshold`."""
    run(con, f"""
        CREATE OR REPLACE TEMP VIEW found AS
        SELECT least(lead_id_l, lead_id_r) AS a, greatest(lead_id_l, lead_id_r) AS b,
               CAST(match_key AS INTEGER) AS match_key
        FROM {pairs} WHERE match_probability >= {threshold}""")
    n_truth = one(con, "SELECT count(*) FROM truth")[0]
    found, right = one(con, """
        SELECT count(*), count(t.a) FROM found f LEFT JOIN truth t USING (a, b)""")
    result = {
        "threshold": threshold,
        "found_pairs": found,
        "true_pairs_found": right,
        "true_pairs": n_truth,
        "precision": right / found if found else None,
        "recall": right / n_truth if n_truth else None,
    }
    # Recall per planted variation: the share of (duplicate, original) pairs found.
    rows = run(con, """
        SELECT p.variation, count(*), count(f.a)
        FROM planted p LEFT JOIN found f
          ON f.a = least(p.lead_id, p.duplicate_of) AND f.b = greatest(p.lead_id, p.duplicate_of)
        GROUP BY p.variation ORDER BY p.variation""")
    result["recall_per_variation"] = {
        v: {"planted": n, "found": k, "recall": k / n} for v, n, k in rows}
    # Which prediction blocking rule first produced each found pair.
    rows = run(con, """
        SELECT f.match_key, count(*), count(t.a)
        FROM found f LEFT JOIN truth t USING (a, b) GROUP BY f.match_key ORDER BY 1""")
    result["per_blocking_rule"] = {
        BLOCKING_RULES[k][0]: {"found": n, "true": t, "precision": t / n} for k, n, t in rows}
    return result


def sweep(con, pairs):
    """Precision and recall over all true pairs at each sweep threshold, from a
    prediction without threshold (every blocked pair)."""
    n_truth = one(con, "SELECT count(*) FROM truth")[0]
    run(con, f"""
        CREATE OR REPLACE TEMP VIEW scored AS
        SELECT s.match_probability AS p, t.a IS NOT NULL AS is_true
        FROM (SELECT least(lead_id_l, lead_id_r) AS a, greatest(lead_id_l, lead_id_r) AS b,
                     match_probability FROM {pairs}) s
        LEFT JOIN truth t USING (a, b)""")
    blocked, blocked_true = one(
        con, "SELECT count(*), count(*) FILTER (WHERE is_true) FROM scored")
    out = {"blocked_pairs": blocked, "blocked_true_pairs": blocked_true,
           "blocking_recall": blocked_true / n_truth, "thresholds": []}
    for th in SWEEP_THRESHOLDS:
        found, right = one(
            con, f"SELECT count(*), count(*) FILTER (WHERE is_true) FROM scored WHERE p >= {th}")
        out["thresholds"].append({"threshold": th, "found_pairs": found, "true_pairs_found": right,
                                  "precision": right / found if found else None,
                                  "recall": right / n_truth})
    return out


def print_table(result):
    t = result["timing_s"]
    print(f"Splink {result['splink_version']} (DuckDB {result['duckdb_version']}), "
          f"{result['leads']} leads, {result['true_pairs']} true pairs")
    print(f"load {t['load']:.1f} s, train {t['train']:.1f} s, predict {t['predict']:.1f} s, "
          f"Splink total {t['splink']:.1f} s; peak RSS {result['peak_rss_mib']:.0f} MiB")
    print(f"{'threshold':>9} {'found':>8} {'true':>8} {'precision':>9} {'recall':>7}")
    for r in result["results"].values():
        print(f"{r['threshold']:>9} {r['found_pairs']:>8} {r['true_pairs_found']:>8} "
              f"{r['precision']:>9.4f} {r['recall']:>7.4f}")
    variations = sorted(next(iter(result["results"].values()))["recall_per_variation"])
    print(f"{'variation':>14} " + " ".join(f"{'recall@' + k:>11}" for k in result["results"]))
    for v in variations:
        print(f"{v:>14} " + " ".join(
            f"{r['recall_per_variation'][v]['recall']:>11.4f}" for r in result["results"].values()))
    if "sweep" in result:
        s = result["sweep"]
        print(f"blocked pairs {s['blocked_pairs']}, holding {s['blocked_true_pairs']} true pairs "
              f"(blocking recall {s['blocking_recall']:.4f})")


def main():
    args = parse_args()
    em_rules = [r.strip() for r in args.em.split(",") if r.strip()]
    unknown = [r for r in em_rules if r not in EM_RULES]
    if unknown:
        sys.exit(f"unknown --em rule(s): {', '.join(unknown)}")
    con = duckdb.connect()
    if args.threads:
        run(con, f"SET threads = {args.threads}")

    t0 = time.perf_counter()
    leads = load(con, args.workspace)
    t_load = time.perf_counter() - t0

    # Splink works in the same DuckDB connection, on the table made above.
    db_api = DuckDBAPI(connection=con)
    leads_sdf = db_api.register("leads_clean")
    t0 = time.perf_counter()
    linker = Linker(leads_sdf, settings(args.email_comparison),
                    log_level=logging.INFO if args.verbose else logging.WARNING)
    model = train(linker, args.max_pairs, args.seed, em_rules)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    predicted = linker.inference.predict(threshold_match_probability=min(MAIN_THRESHOLDS))
    n_predicted = one(con, f"SELECT count(*) FROM {predicted.physical_name}")[0]
    t_predict = time.perf_counter() - t0
    rss = peak_rss_mib()

    n_truth = one(con, "SELECT count(*) FROM truth")[0]
    result = {
        "tool": "splink",
        "splink_version": splink.__version__,
        "duckdb_version": duckdb.__version__,
        "python": platform.python_version(),
        "workspace": os.path.abspath(args.workspace),
        "leads": leads,
        "planted_duplicates": one(con, "SELECT count(*) FROM planted")[0],
        "true_pairs": n_truth,
        "duckdb_threads": one(con, "SELECT current_setting('threads')")[0],
        "cores": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "email_comparison": args.email_comparison,
        "em_rules": em_rules,
        "u_max_pairs": args.max_pairs,
        "u_seed": args.seed,
        "trained_prior": model["probability_two_random_records_match"],
        # What the prior would be if one knew the truth: true pairs over all pairs.
        "actual_prior": n_truth / (leads * (leads - 1) / 2),
        "blocking_rules": [name for name, _ in BLOCKING_RULES],
        "timing_s": {"load": t_load, "train": t_train, "predict": t_predict,
                     "splink": t_train + t_predict},
        "peak_rss_mib": rss,
        "predicted_pairs_at_min_threshold": n_predicted,
        "results": {str(th): score(con, predicted.physical_name, th) for th in MAIN_THRESHOLDS},
    }
    if not args.no_sweep:
        # Untimed: scores every blocked pair, to show what the threshold trades.
        everything = linker.inference.predict()
        result["sweep"] = sweep(con, everything.physical_name)
        result["peak_rss_mib_with_sweep"] = peak_rss_mib()

    result["model"] = model
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print_table(result)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
