"""Deals in plain words: what a proposal offers and asks, and why a state answers as it does.

A proposal reads as one sentence a person can check against the order menu, e.g. "China offers
to suspend its export licences on magnets and Dy/Tb oxide for buyers in the United States for
12 months (they come back when the deal ends) if the United States cuts its tariff on magnets
from China to 5%". An AI's answer names what it expects to gain and lose on its objectives
(world/objectives.py), in points of its score (1 point = 0.01 of the -1..1 score, a month), and
how far it trusts the proposer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.instruments import MEASURE_NOUNS

if TYPE_CHECKING:
    from world.model import World

#: How a commodity id reads in a sentence (ids not listed read with spaces for underscores).
GOODS = {
    "oxide_heavy": "Dy/Tb oxide",
    "oxide_light": "NdPr oxide",
    "magnet": "magnets",
    "metal": "rare-earth metal",
    "concentrate": "concentrate",
    "scrap": "magnet scrap",
}
#: How goods from a region read ("Chinese NdPr oxide"); regions not listed read "NdPr oxide
#: from <name>".
ORIGIN_ADJECTIVES = {
    "CN": "Chinese",
    "US": "American",
    "JP": "Japanese",
    "EU": "European",
    "AU": "Australian",
    "MY": "Malaysian",
    "KR": "Korean",
    "CA": "Canadian",
    "IN": "Indian",
    "VN": "Vietnamese",
    "BR": "Brazilian",
    "GB": "British",
    "UK": "British",
}
#: Trade measures in words (plural noun phrases, as "its ... on magnets"), from the instruments.
MEASURES = MEASURE_NOUNS
#: A stage's technology in words ("magnet technology").
STAGE_TECHNOLOGY = {
    "mine": "mining",
    "separator": "separation",
    "metal": "metal-making",
    "magnet": "magnet",
}
#: The objectives' parts in words (world/objectives.py).
PARTS = {
    "welfare": "consumers' and producers' money",
    "security": "security of supply",
    "leverage": "leverage over others",
    "fiscal": "the public purse",
}


def region_name(world: World, region: str) -> str:
    """The region's name, with "the" where English wants it (the United States)."""
    spec = world.spec.regions.get(region)
    name = spec.name if spec is not None else region
    return f"the {name}" if name.startswith(("United", "European", "Rest")) else name


def _list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def goods_words(commodities: list[str]) -> str:
    """Commodity ids as words: "magnets and Dy/Tb oxide" (empty: "all its goods")."""
    return _list([GOODS.get(c, c.replace("_", " ")) for c in commodities]) or "all its goods"


def _partners(world: World, partners: list[str], issuer: str) -> str:
    return _list([region_name(world, p) for p in partners]) or "everyone"


def _measure_phrase(world: World, c: dict, measure: str) -> str:
    """ "its export licences on magnets for buyers in the United States" / "its tariff on
    magnets from China"."""
    what = MEASURES.get(measure, measure.replace("_", " "))
    goods = goods_words(c.get("commodities") or [])
    partners = c.get("partners") or []
    if measure.startswith("import"):
        where = f" from {_partners(world, partners, c['issuer'])}" if partners else ""
    else:
        where = f" for buyers in {_partners(world, partners, c['issuer'])}" if partners else ""
    return f"its {what} on {goods}{where}"


def purchase_phrase(world: World, c: dict, months: int | None = None) -> tuple[str, str]:
    """A purchase commitment as (base, third-person) verb phrases: "commit its buyers to buy
    500 t/month of Chinese NdPr oxide for 12 months" (without its term where it is the deal's,
    ``months``, which the sentence gives once)."""
    goods = GOODS.get(c["commodity"], c["commodity"].replace("_", " "))
    adjective = ORIGIN_ADJECTIVES.get(c["partner"])
    origin = region_name(world, c["partner"])
    what = f"{adjective} {goods}" if adjective else f"{goods} from {origin}"
    own = c.get("duration_months")
    term = f" for {int(own)} months" if own and own != months else ""
    rest = f"its buyers to buy {float(c['t_per_month']):,.0f} t/month of {what}{term}"
    return f"commit {rest}", f"commits {rest}"


def _tech_ban_phrase(world: World, c: dict) -> str:
    """ "its ban on exports of separation and magnet technology" (the stages of the issuer's
    technology export bans in force)."""
    stages: list[str] = []
    for prog in world.desk.active("tech_export_ban"):
        if prog.issuer == c["issuer"]:
            stages += [s for s in prog.params.get("stages", []) if s not in stages]
    ordered = [s for s in world.spec.stages if s in stages] or stages
    named = [STAGE_TECHNOLOGY.get(s, s) for s in ordered]
    return f"its ban on exports of {_list(named) or 'processing'} technology"


def commitment_phrases(
    world: World, commitments: list[dict], months: int | None = None
) -> list[tuple[str, str, str]]:
    """Each party's commitments as (issuer, base verb phrase, third-person verb phrase);
    ``months``: the deal's term (a purchase commitment for that term does not repeat it).

    A lift followed by a new measure of the same kind on the same goods and partners reads as
    one cut ("cut its tariff on magnets from China to 10%").
    """
    out: list[tuple[str, str, str]] = []
    skip: set[int] = set()
    for i, c in enumerate(commitments):
        if i in skip:
            continue
        kind = c["kind"]
        if kind == "lift" and c.get("measure") == "tech_export_ban":
            phrase = _tech_ban_phrase(world, c)
            verb = ("suspend", "suspends") if c.get("suspend") else ("lift", "lifts")
            out.append((c["issuer"], f"{verb[0]} {phrase}", f"{verb[1]} {phrase}"))
            continue
        if kind == "purchase_commitment":
            out.append((c["issuer"], *purchase_phrase(world, c, months)))
            continue
        if kind == "lift" and c.get("measure"):
            measure = c["measure"]
            phrase = _measure_phrase(world, c, measure)
            later = next(
                (
                    j
                    for j in range(i + 1, len(commitments))
                    if commitments[j]["kind"] == measure
                    and commitments[j]["issuer"] == c["issuer"]
                    and sorted(commitments[j].get("commodities") or [])
                    == sorted(c.get("commodities") or [])
                ),
                None,
            )
            if later is not None and "approval_share" in commitments[later]:
                skip.add(later)
                eased = commitments[later]
                terms = (
                    f"{float(eased['approval_share']):.0%} of applications approved within "
                    f"{int(eased.get('review_months', 2))} month(s)"
                )
                out.append((c["issuer"], f"ease {phrase} ({terms})", f"eases {phrase} ({terms})"))
            elif later is not None and "rate" in commitments[later]:
                skip.add(later)
                rate = f"{float(commitments[later]['rate']):.0%}"
                out.append((c["issuer"], f"cut {phrase} to {rate}", f"cuts {phrase} to {rate}"))
            elif c.get("suspend"):
                out.append((c["issuer"], f"suspend {phrase}", f"suspends {phrase}"))
            else:
                out.append((c["issuer"], f"lift {phrase}", f"lifts {phrase}"))
            continue
        if kind == "lift":
            ref = c.get("policy_id") or "a measure"
            out.append((c["issuer"], f"lift {ref}", f"lifts {ref}"))
            continue
        if kind in MEASURES:
            phrase = _measure_phrase(world, c, kind)
            rate = f" at {float(c['rate']):.0%}" if c.get("rate") is not None else ""
            out.append((c["issuer"], f"keep {phrase}{rate}", f"keeps {phrase}{rate}"))
            continue
        from world.instruments import REGISTRY
        from world.orders import parse_order

        instrument = REGISTRY.get(kind)
        words = None
        if instrument is not None and instrument.words is not None:
            try:
                words = instrument.words(world, parse_order(c))
            except Exception:  # words are a courtesy: an odd order still reads by its kind
                words = None
        text = words or f"{kind.replace('_', ' ')} ({goods_words(c.get('commodities') or [])})"
        out.append((c["issuer"], f"commit to this: {text}", f"commits to this: {text}"))
    return out


def deal_words(world: World, proposer: str, commitments: list[dict], months: int) -> str:
    """The proposal in one sentence: what the proposer offers, for how long, and on what terms."""
    phrases = commitment_phrases(world, commitments, months)
    own = [base for who, base, _ in phrases if who == proposer]
    asked: dict[str, list[str]] = {}
    for who, _, third in phrases:
        if who != proposer:
            asked.setdefault(who, []).append(third)
    who = region_name(world, proposer)
    suspends = any(c.get("suspend") and c["issuer"] == proposer for c in commitments)
    back = " (they come back into force when the deal ends)" if suspends else ""
    terms = "; and ".join(f"{region_name(world, r)} {_list(items)}" for r, items in asked.items())
    if own and terms:
        text = f"{who} offers to {_list(own)} for {months} months{back} if {terms}"
    elif own:
        text = f"{who} offers to {_list(own)} for {months} months{back}"
    else:
        text = f"{who} asks that {terms} for {months} months"
    others_suspend = any(c.get("suspend") and c["issuer"] != proposer for c in commitments)
    if others_suspend and not suspends:
        text += " (suspended measures come back into force when the deal ends)"
    return text[0].upper() + text[1:]


def decision_words(
    world: World,
    region: str,
    proposer: str,
    accept: bool,
    parts: dict[str, float],
    trust: float,
    gain: float,
    months: int | None,
) -> str:
    """Why an AI accepts or refuses, in words: the parts it expects to gain and lose (points of
    its score a month), and its trust in the proposer."""
    who = region_name(world, region)
    other = region_name(world, proposer)
    moved = sorted(
        ((k, v) for k, v in parts.items() if abs(v) * 100 >= 0.05),
        key=lambda kv: (-abs(kv[1]), kv[0]),
    )
    effects = [
        f"{PARTS.get(k, k)} {'better' if v > 0 else 'worse'} ({v * 100:+.1f} points)"
        for k, v in moved
    ] or ["hardly any change on any of its aims"]
    span = f"over the next {months} months" if months else "from the world as it is"
    trusting = f"it trusts {other} {trust:.0%}"
    if accept:
        return (
            f"{who} accepts: {span} it expects to gain on balance ({gain * 100:+.1f} points a "
            f"month): {_list(effects)}; {trusting}, enough to count on the deal"
        )
    if gain <= 0:
        why = f"it expects to lose on balance ({gain * 100:+.1f} points a month)"
    else:
        why = (
            f"it expects only a small gain ({gain * 100:+.1f} points a month), too little for "
            f"the risk that {other} does not keep its side"
        )
    return f"{who} refuses: {span} {why}: {_list(effects)}; {trusting}"
