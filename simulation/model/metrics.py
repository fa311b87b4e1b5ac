"""The metric catalogue: every statistic the model reports, its unit and its definition.

The observation phase (:mod:`.observe`) computes exactly the ``METRICS`` below, by the definition
given here, and the comparison, reports and figures read names, units and labels from this module,
so a statistic is defined once. It sits in the model layer because the model produces it; it
imports nothing.
"""

from __future__ import annotations

# name: (unit, definition). The schema of the `years` table, in order.
METRICS: dict[str, tuple[str, str]] = {
    "n_pupils": ("children", "5-16 population of the LA (all statuses), autumn census, weighted"),
    "ehe_census_pct": ("% of 5-16 population", "in elective home education on the autumn census day"),
    "ehe_anypoint_pct": ("% of 5-16 population", "in home education at any point in the academic year"),
    "ehe_entries_pct": ("% of 5-16 population", "entries to home education during the year"),
    "ehe_returns_pct": ("% of 5-16 population", "returns from home education to school during the year"),
    "cme_census_pct": ("% of 5-16 population", "missing education on the autumn census day"),
    "cme_anypoint_pct": ("% of 5-16 population", "missing education at any point in the year"),
    "pex_rate": ("per 100 pupils", "permanent exclusions in the year per 100 pupils on roll (January census)"),
    "suspension_rate": ("per 100 pupils", "suspensions in the year per 100 pupils on roll (January census)"),
    "absence_overall_pct": (
        "% of sessions",
        "sessions missed over sessions possible, mainstream and special, full year",
    ),
    "persistent_absence_pct": ("% of pupils", "pupils missing 10% or more of their possible sessions, full year"),
    "persistent_absence_pct_ehcp": ("% of pupils with a plan", "persistent absence, autumn term (termly rate)"),
    "persistent_absence_pct_sen_support": ("% of SEN-support pupils", "persistent absence, autumn term"),
    "persistent_absence_pct_no_sen": ("% of pupils without SEN", "persistent absence, autumn term"),
    "persistent_absence_pct_fsm": ("% of FSM pupils", "persistent absence, autumn term"),
    "severe_absence_pct": ("% of pupils", "pupils missing 50% or more of their possible sessions, full year"),
    "ehcp_pct": ("% of pupils", "pupils with an EHC plan, January census, all school types"),
    "sen_support_pct": ("% of pupils", "pupils on SEN support, January census"),
    "ehcp_requests": ("requests", "initial requests for an EHC needs assessment in the year, weighted"),
    "ehcp_refusal_pct": ("% of decisions", "requests refused assessment, of decisions made in the year"),
    "ehcp_timely_pct": ("% of new plans", "new plans issued within 20 weeks of the request"),
    "ehcp_over_52w_pct": ("% of new plans", "new plans taking over 52 weeks"),
    "ehcp_mean_wait_weeks": ("weeks", "mean weeks from request to plan, plans issued in the year"),
    "tribunal_appeal_pct": (
        "% of appealable decisions",
        "appeals lodged over refusals to assess, refusals to issue and plans issued",
    ),
    "tribunal_win_pct": ("% of hearings", "tribunal hearings decided for the family"),
    "ehcp_reviews_late_pct": (
        "% of annual reviews",
        "annual reviews of a plan held more than 12 months after the last",
    ),
    "ehcp_ceased_at_review_pct": ("% of annual reviews", "annual reviews that ceased the plan (needs met)"),
    "pex_rr_ehcp": ("ratio", "exclusion rate of pupils with a plan over that of pupils without SEN"),
    "pex_rr_sen_support": ("ratio", "exclusion rate of SEN-support pupils over that of pupils without SEN"),
    "pex_rr_fsm": ("ratio", "exclusion rate of FSM pupils over that of non-FSM pupils"),
    "ehe_sen_pct": ("% of EHE entrants", "entrants to home education with SEN (support or plan)"),
    "ehe_ehcp_pct": ("% of EHE entrants", "entrants to home education with a plan"),
    "ehe_census_sen_support_pct": (
        "% of children in EHE",
        "on SEN support, of children in EHE on the autumn census day",
    ),
    "ehe_census_ehcp_pct": ("% of children in EHE", "with an EHC plan, of children in EHE on the autumn census day"),
    "ehe_y10_11_pct": ("% of EHE entrants", "entrants to home education in Years 10 and 11"),
    "ehe_census_y10_11_pct": (
        "% of children in EHE",
        "in Years 10 and 11, of children in EHE on the autumn census day",
    ),
    "ehe_reason_preference_pct": (
        "% of children in EHE",
        "recorded reason philosophical, preferential, lifestyle or religious, autumn census day",
    ),
    "ehe_reason_mental_health_pct": ("% of children in EHE", "recorded reason mental health, autumn census day"),
    "ehe_reason_dissatisfaction_pct": (
        "% of children in EHE",
        "recorded reason dissatisfaction with the school or its SEND support, autumn census day",
    ),
    "ehe_reason_unknown_pct": (
        "% of children in EHE",
        "reason unknown to the LA, other or not given, autumn census day",
    ),
    "ehe_entrants_prior_absence_pct": (
        "% of EHE entrants",
        "entrants persistently absent (10%+) in the previous academic year, of entrants with a record of it",
    ),
    "fines_per_100": (
        "per 100 pupils",
        "penalty notices for absence in the year per 100 pupils on roll (January census)",
    ),
    "fines_holiday_pct": ("% of penalty notices", "penalty notices issued for a term-time holiday"),
    "fined_children_pct": ("% of pupils", "pupils on roll whose parents received a penalty notice in the year"),
    "prosecutions_per_10000": ("per 10,000 pupils", "attendance prosecutions past the notice cap in the year"),
    "unexplained_exit_cohort_pct": (
        "% of a Year 7 cohort",
        "synthetic cohort: at least one unexplained exit by the end of Y11 at this year's rates by year group; "
        "unexplained as EPI 2019: any exit from a school roll but a family move, a special school, a permanent "
        "exclusion or an LA placement (so EHE, CME, AP without exclusion and moves between mainstream schools)",
    ),
    "ap_without_exclusion_per_1000": (
        "per 1,000 children",
        "children moved from a school roll into alternative provision without a permanent exclusion in the year",
    ),
    "unexplained_moves_between_schools_per_1000": (
        "per 1,000 children",
        "moves from one mainstream school roll to another with no house move (transfers, managed moves) in the year",
    ),
    "unexplained_exit_top6_share_pct": (
        "% of unexplained exits",
        "share of unexplained exits in the 6% of secondary schools with the most",
    ),
    "pupil_weeks_missed_per_1000": (
        "weeks per 1,000 children",
        "weeks of education missed, home education excluded (weeks_education_lost_per_1000 includes it): "
        "absence while on a roll, term weeks missing education, Section 19 shortfall; from each child's "
        "accumulators at the year's end, so a child who moves away during the year takes theirs along",
    ),
    "camhs_wait_weeks_mean": ("weeks", "mean wait of children whose CAMHS treatment started in the year"),
    "complaints_upheld_per_1000": ("per 1,000 children", "Ombudsman complaints upheld against the LA"),
    "remedy_gbp_per_1000": ("GBP per 1,000 children", "remedy payments ordered by the Ombudsman"),
    "parents_left_work_per_1000": ("per 1,000 children", "parents giving up work to care for a child out of school"),
    "offrolled_per_1000": ("per 1,000 children", "HIDDEN TRUTH: children pushed off a school roll by the school"),
    "ehe_coerced_pct": (
        "% of EHE entrants",
        "HIDDEN TRUTH: entrants to home education pushed by a school or an LA officer",
    ),
}

# What ``school-exit run`` prints for each scenario: the headline of one scenario's results.
RUN_HEADLINE = [
    "ehe_census_pct",
    "cme_census_pct",
    "pex_rate",
    "persistent_absence_pct",
    "ehcp_timely_pct",
    "offrolled_per_1000",
    "unexplained_exit_cohort_pct",
]

# The counts: one definition each, used by every table and figure that shows them. The observer
# computes the ``years`` columns above; these the comparison computes for each run from its event
# log, its ``weeks`` table and its ``years`` row (``simulation.analysis.counts``), and adds to
# the ``years``, ``summary`` and ``metrics`` tables. Every rate is per 1,000 children of the LA's
# 5-16 population (``n_pupils``: all statuses, autumn census, weighted), so a rate times
# ``n_pupils`` / 1,000 is a number of children in the whole LA, and a paired difference of a rate
# times the population is the change in that number (``compare``'s averted and regained tables
# are exactly that: see tests/scenarios/test_count_reconciliation.py).
ROLLS = "a school roll (mainstream or special school)"
LEAVING_TO = "home education (EHE), missing education (CME), alternative provision (AP) or Section 19 provision"
COUNTS: dict[str, tuple[str, str]] = {
    "children_leaving_per_1000": (
        "per 1,000 children a year",
        f"children leaving a school roll: distinct children with at least one move off {ROLLS} into "
        f"{LEAVING_TO} in the academic year. A child who leaves twice in a year counts once; in two "
        "years, once in each. Moving away, ageing out and moves between schools are not leaving. The "
        "route of a child's leaving is that of their first move off a roll in the year",
    ),
    "exits_per_1000": (
        "per 1,000 children a year",
        f"moves off a school roll: every move off {ROLLS} into {LEAVING_TO} in the academic year; a child "
        "who leaves, returns and leaves again counts twice (so never below children_leaving_per_1000)",
    ),
    "children_out_of_school_per_1000": (
        "per 1,000 children",
        "children out of school: in home education, missing education or Section 19 provision, the mean "
        "over the academic year's term weeks (a stock, not a flow; AP is a school place and not counted)",
    ),
    "ehe_term_weeks_per_1000": (
        "weeks per 1,000 children a year",
        "term weeks spent in home education in the academic year (weekly counts, weighted)",
    ),
    "weeks_education_lost_per_1000": (
        "weeks per 1,000 children a year",
        "weeks of school education lost, home education and missing education included: "
        "pupil_weeks_missed_per_1000 (absence while on a roll, every term week missing education, and "
        "the Section 19 shortfall: weeks waiting for provision and the hours below full time) plus "
        "ehe_term_weeks_per_1000 (every term week in home education)",
    ),
}

# The comparison's headline: metrics of ``school-exit compare``'s ``metrics`` table (the years
# table's and the counts above), with a label for people and a unit.
HEADLINE_LABELS = {  # metric: (label, unit)
    "children_leaving_per_1000": ("Children leaving a school roll", "per 1,000 children a year"),
    "weeks_education_lost_per_1000": (
        "Weeks of education lost (home education and CME included)",
        "weeks per 1,000 children a year",
    ),
    "ehe_census_pct": ("Children in home education (autumn census)", "% of 5-16 population"),
    "cme_census_pct": ("Children missing education (autumn census)", "% of 5-16 population"),
    "persistent_absence_pct": ("Persistent absence", "% of pupils"),
    "ehcp_timely_pct": ("EHC plans issued within 20 weeks", "% of new plans"),
    "offrolled_per_1000": ("Children pushed off roll by schools (hidden)", "per 1,000 children a year"),
    "exits_per_1000": ("Moves off a school roll", "per 1,000 children a year"),
    "children_out_of_school_per_1000": (
        "Children out of school (home education, missing, Section 19)",
        "per 1,000 children",
    ),
    "pupil_weeks_missed_per_1000": (
        "Weeks of education missed (home education left out)",
        "weeks per 1,000 children a year",
    ),
}
HEADLINE = list(HEADLINE_LABELS)[:7]
EXIT_METRIC = "children_leaving_per_1000"  # the comparison's headline count (averted = its paired difference)
