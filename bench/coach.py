"""Time the feedback coach on a 2,000-word review (target: under 20 ms).

.venv/bin/python -m bench.coach [--words 2000] [--runs 50]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from reviews.coach.analysis import analyse

SENTENCES = [
    "In the March migration she kept the rollback plan current, which cut the outage to 9 minutes.",
    "Great job this half, always a team player.",
    "He can be abrasive in design reviews and maybe a bit defensive.",
    "Led the incident review on Tuesday and drove five follow-ups to done.",
    "Needs to improve communication with the product team.",
    "Paired with two new hires for six weeks; both now ship on their own.",
]


def review_text(words: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    while sum(len(s.split()) for s in out) < words:
        out.append(rng.choice(SENTENCES))
    return " ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    text = review_text(args.words)
    analyse(text, 4)  # warm: compile the lexicon once
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        findings = analyse(text, 4)
        timings.append((time.perf_counter() - start) * 1000)
    p95 = sorted(timings)[int(0.95 * (len(timings) - 1))]
    print(
        f"feedback analysis of {len(text.split())} words: median "
        f"{statistics.median(timings):.2f} ms, p95 {p95:.2f} ms over {args.runs} runs, "
        f"{len(findings)} findings (target: under 20 ms)"
    )


if __name__ == "__main__":
    main()
