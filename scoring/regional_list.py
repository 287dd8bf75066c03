"""The list a regional team opens: its alerted firms under French headers, and the legend that
says in French what the levels, the probabilities and the reasons mean, which model versions
produced them and the month of the data. Writing the files is the job's (jobs/export_region.py).
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from scoring.alerts import HIGH, MODERATE, NONE

LEVEL_LABELS = {HIGH: "élevé", MODERATE: "modéré"}
HEADCOUNT_HEADER = "Effectif"
REASONS_HEADER = "Motifs de l'alerte"
LEGEND_SHEET = "Légende"
LEGEND_HEADERS = ("Rubrique", "Explication")
FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                 "novembre", "décembre")


def probability_header(horizon: int) -> str:
    """The list's header of a horizon's probability, shown as a percentage."""
    return f"Probabilité de défaillance à {horizon} mois (%)"


def regional_alert_list(
    scores: DataFrame, region: str, period: dt.date, horizons: Sequence[int], rank_horizon: int
) -> DataFrame:
    """The alerted firms of `region` at `period`, one row each, high before moderate and riskiest
    first (by the probability at `rank_horizon`), with French column headers; the probabilities
    are fractions (0.7 for 70 %), which the writer shows as percentages.

    Filters on the scores' partition columns first, so Delta reads only that region and month.
    """
    level_order = F.when(F.col("alert_level") == HIGH, 0).otherwise(1)
    labels = F.create_map(*[F.lit(v) for pair in LEVEL_LABELS.items() for v in pair])
    return (
        scores.where((F.col("region") == region) & (F.col("period") == F.lit(period)))
        .where(F.col("alert_level") != NONE)
        .orderBy(level_order, F.col(f"p_{rank_horizon}m").desc(), "siren")
        .select(
            F.col("siren").alias("SIREN"),
            F.col("name").alias("Raison sociale"),
            F.col("town").alias("Commune"),
            F.col("departement").alias("Département"),
            F.col("naf").alias("Secteur (NAF)"),
            F.col("headcount").alias(HEADCOUNT_HEADER),
            labels[F.col("alert_level")].alias("Niveau d'alerte"),
            F.when(F.col("first_alert"), "oui").otherwise("non").alias("Nouvelle alerte ce mois"),
            *[F.col(f"p_{h}m").alias(probability_header(h)) for h in horizons],
            F.col("reasons_text").alias(REASONS_HEADER),
        )
    )


def list_period(scores: DataFrame, region: str, period: dt.date | None) -> dt.date:
    """The month whose list is asked for: `period`, or the region's latest scored month when None.

    Raises LookupError for a region without scores (naming the regions that have some) and for a
    month the region has no scores for (naming its latest scored month): a list written for
    either would be empty, which a team would read as "no alert this month". Reads the region's
    partitions only, and every region's only to name them in the error.
    """
    in_region = scores.where(F.col("region") == region).select("period").distinct()
    months = sorted(row.period for row in in_region.collect())
    if not months:
        regions = scores.where(F.col("region").isNotNull()).select("region").distinct().collect()
        valid = ", ".join(sorted(row.region for row in regions)) or "none"
        raise LookupError(f"no scores for region {region!r}: the regions scored are {valid}")
    if period is None:
        return months[-1]
    if period not in months:
        raise LookupError(f"no scores for region {region} in {period:%Y-%m}: its latest scored month is "
                          f"{months[-1]:%Y-%m}")
    return period


def model_versions(scores: DataFrame, region: str, period: dt.date) -> list[str]:
    """The `model_version` labels of the scores of `region` at `period` (one, unless mixed)."""
    month = scores.where((F.col("region") == region) & (F.col("period") == F.lit(period)))
    return sorted(row.model_version for row in month.select("model_version").distinct().collect())


def french_month(period: dt.date) -> str:
    """A month as French writes it: `juin 2024`."""
    return f"{FRENCH_MONTHS[period.month - 1]} {period.year}"


def legend(
    region: str,
    period: dt.date,
    versions: Sequence[str],
    horizons: Sequence[int],
    alert_horizon: int,
    betas: Mapping[str, float],
    new_high_cap: int | None,
    lookback_months: int,
    max_themes: int,
    max_features: int,
    drifting_labels: Sequence[str] | None = None,
) -> list[tuple[str, str]]:
    """The legend sheet's rows (LEGEND_HEADERS: heading, explanation), in French.

    `betas` are the F-scores' betas of the `high` and `moderate` thresholds (conf
    `training.thresholds`); `new_high_cap` the region's monthly cap on new high alerts (None: none).
    `drifting_labels`: the French labels of the features that drift this month when the drift
    watch flags it (scoring/drift.py), which the legend then opens with; None: the month does not
    drift.
    """
    horizon_words = ", ".join(str(h) for h in horizons[:-1]) + f" ou {horizons[-1]}"
    cap = (f" Au plus {new_high_cap} nouvelles alertes « élevé » par mois dans cette région : au-delà, les "
           "moins risquées sont classées « modéré » ce mois-ci." if new_high_cap is not None else "")
    warning = [] if drifting_labels is None else [(
        "Attention : données inhabituelles",
        f"Les données de {french_month(period)} s'écartent nettement de celles sur lesquelles le modèle a appris"
        + (f" ({', '.join(drifting_labels)})" if drifting_labels else "") + ". Le lien entre ces indicateurs et "
        "les défaillances peut avoir changé (comme lors du confinement de mars 2020) : les probabilités et les "
        "niveaux de ce mois sont à lire avec prudence et à confronter à la connaissance des entreprises.",
    )]
    return warning + [
        ("Mois des données", f"{french_month(period)} : les probabilités, les niveaux et les motifs décrivent "
                             "chaque entreprise avec les données connues pour ce mois."),
        ("Région", region),
        (f"Niveau d'alerte « {LEVEL_LABELS[HIGH]} »",
         f"La probabilité de défaillance à {alert_horizon} mois atteint le seuil « élevé » du modèle à "
         f"{alert_horizon} mois. Ce seuil a été choisi sur une période passée, dite de validation, pour maximiser "
         f"le score F{_beta(betas[HIGH])} : il privilégie la précision (peu de fausses alertes).{cap}"),
        (f"Niveau d'alerte « {LEVEL_LABELS[MODERATE]} »",
         f"La probabilité de défaillance à {alert_horizon} mois atteint le seuil « modéré », choisi sur la même "
         f"période pour maximiser le score F{_beta(betas[MODERATE])} : il privilégie le rappel (peu de "
         "défaillances manquées), au prix de plus d'alertes. Les entreprises sous ce seuil ne sont pas listées."),
        ("Nouvelle alerte ce mois", f"« oui » : l'entreprise n'était pas en alerte dans les {lookback_months} mois "
                                    "précédents."),
        ("Probabilités de défaillance (%)",
         f"Probabilité, estimée par le modèle de chaque horizon, qu'une procédure collective (sauvegarde, "
         f"redressement ou liquidation judiciaire) s'ouvre pour l'entreprise dans les {horizon_words} mois. La "
         f"liste est classée par niveau, puis par probabilité à {alert_horizon} mois. Les probabilités sont "
         "calibrées : sur une période passée, parmi les entreprises notées 10 %, environ une sur dix a connu une "
         "procédure dans le délai. Elles croissent avec l'horizon (une défaillance dans les 12 mois l'est aussi "
         "dans les 18) : une probabilité plus faible que celle d'un horizon plus court est relevée à celle-ci."),
        (REASONS_HEADER,
         f"Ce qui élève le score de l'entreprise, lu dans les arbres du modèle à {alert_horizon} mois : jusqu'à "
         f"{max_themes} thèmes, du plus fort au plus faible, séparés par « | », chacun avec jusqu'à "
         f"{max_features} indicateurs donnés avec les chiffres de l'entreprise et leur évolution récente, par "
         "exemple « Dettes sociales : dette URSSAF de 4,2 mois de cotisations (+1,3 en 3 mois) ». Une donnée "
         "manquante est dite en toutes lettres (« effectif non publié ») ou omise quand elle n'apporte rien "
         "d'utile."),
        ("Versions des modèles", f"{' ; '.join(versions)} (modèle:version, dans le registre des modèles)."),
    ]


def _beta(beta: float) -> str:
    """A beta as French writes it in an F-score's name: F0,5, F2."""
    return f"{beta:g}".replace(".", ",")
