"""The delivered files: names, headers, delimiters, encodings, quoting, and the batch writer.

Headers are those of the State's own importer test data (`tests/fixtures/signaux-faibles/`);
`BatchWriter` streams rows into a batch folder chunk by chunk, spoiling a configurable share of
rows the way real extracts are spoiled (see `synthetic.dirty`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from synthetic import dirty
from synthetic.rng import stream

Columns = dict[str, list[str]]
"""Rows of a file, column by column: each column's texts, one per row."""


@dataclass(frozen=True)
class FileSpec:
    """How one source is written. The roles name the columns that dirty rows may spoil."""

    source: str
    file_name: str
    header: tuple[str, ...]          # empty for the wide headcount files (their header varies)
    delimiter: str = ";"
    encoding: str = "latin-1"
    line_end: str = "\n"
    quoted: frozenset[str] = frozenset()        # always quoted, header included
    free_text: tuple[str, ...] = ()              # quoted when they hold a delimiter or a quote
    key: str | None = None                       # SIRET or SIREN column
    date: str | None = None
    date_format: str | None = None               # a name of dirty.IMPOSSIBLE_DATES
    amount: str | None = None
    name: str | None = None

    def dirty_kinds(self) -> tuple[str, ...]:
        """The kinds of dirty rows that make sense in this file."""
        kinds = ["short_line", "duplicate_row"]
        if self.key:
            kinds.append("malformed_key")
        if self.date:
            kinds.append("impossible_date")
        if self.amount or not self.header:
            kinds.append("non_numeric_amount")
        if self.name and self.encoding == "utf-8":
            kinds.append("latin1_name")
        return tuple(kinds)


SIRENE_ESTABLISHMENT_HEADER = tuple(
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
    "anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,"
    "dateDernierTraitementEtablissement,etablissementSiege,nombrePeriodesEtablissement,"
    "complementAdresseEtablissement,numeroVoieEtablissement,indiceRepetitionEtablissement,"
    "typeVoieEtablissement,libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
    "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,codeCommuneEtablissement,"
    "codeCedexEtablissement,libelleCedexEtablissement,codePaysEtrangerEtablissement,"
    "libellePaysEtrangerEtablissement,complementAdresse2Etablissement,numeroVoie2Etablissement,"
    "indiceRepetition2Etablissement,typeVoie2Etablissement,libelleVoie2Etablissement,codePostal2Etablissement,"
    "libelleCommune2Etablissement,libelleCommuneEtranger2Etablissement,distributionSpeciale2Etablissement,"
    "codeCommune2Etablissement,codeCedex2Etablissement,libelleCedex2Etablissement,"
    "codePaysEtranger2Etablissement,libellePaysEtranger2Etablissement,dateDebut,"
    "etatAdministratifEtablissement,enseigne1Etablissement,enseigne2Etablissement,enseigne3Etablissement,"
    "denominationUsuelleEtablissement,activitePrincipaleEtablissement,"
    "nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement,longitude,latitude,"
    "geo_score,geo_type,geo_adresse,geo_id,geo_ligne,geo_l4,geo_l5".split(","))

SIRENE_LEGAL_UNIT_HEADER = tuple(
    "siren,statutDiffusionUniteLegale,unitePurgeeUniteLegale,dateCreationUniteLegale,sigleUniteLegale,"
    "sexeUniteLegale,prenom1UniteLegale,prenom2UniteLegale,prenom3UniteLegale,prenom4UniteLegale,"
    "prenomUsuelUniteLegale,pseudonymeUniteLegale,identifiantAssociationUniteLegale,"
    "trancheEffectifsUniteLegale,anneeEffectifsUniteLegale,dateDernierTraitementUniteLegale,"
    "nombrePeriodesUniteLegale,categorieEntreprise,anneeCategorieEntreprise,dateDebut,"
    "etatAdministratifUniteLegale,nomUniteLegale,nomUsageUniteLegale,denominationUniteLegale,"
    "denominationUsuelle1UniteLegale,denominationUsuelle2UniteLegale,denominationUsuelle3UniteLegale,"
    "categorieJuridiqueUniteLegale,activitePrincipaleUniteLegale,nomenclatureActivitePrincipaleUniteLegale,"
    "activitePrincipaleNAF25UniteLegale,nicSiegeUniteLegale,economieSocialeSolidaireUniteLegale,"
    "caractereEmployeurUniteLegale".split(","))

_AP_REQUEST_HEADER = ("ID_DA", "ETAB_SIRET", "EFF_ENT", "EFF_ETAB", "DATE_STATUT", "DATE_DEB", "DATE_FIN", "HTA",
                      "MTA", "EFF_AUTO", "MOTIF_RECOURS_SE", "PERIMETRE_AP", "S_HEURE_CONSOM_TOT",
                      "S_EFF_CONSOM_TOT", "S_MONTANT_CONSOM_TOT", "RECOURS_ANTERIEUR")

SPECS: tuple[FileSpec, ...] = (
    FileSpec("contributions", "sigfaible_cotisdues.csv",
             ("Urssaf_gestion", "Dep", "Siret", "Compte", "periode", "mer", "enc_direct", "cotis_due"),
             key="Siret", date="periode", date_format="period", amount="cotis_due"),
    FileSpec("debts", "sigfaible_debits.csv",
             ("Urssaf_gestion", "Dep", "num_cpte", "Siren", "Siret", "Dt_immat", "Etat_cpte", "Cd_pro_col",
              "Periode", "Num_Ecn", "Num_Hist_Ecn", "Dt_trt_ecn", "Mt_PO", "Mt_PP", "Cd_op_ecn", "Motif_ecn",
              "Recours_en_cours"),
             key="Siret", date="Dt_trt_ecn", date_format="urssaf", amount="Mt_PP"),
    FileSpec("payment_plans", "sigfaible_delais.csv",
             ("Urssaf_gestion", "Dep", "Siret", "Numero_compte_externe", "Numero_structure", "Date_creation",
              "Date_echeance", "Duree_delai", "Denomination_premiere_ligne", "Indic_6M", "Annee_creation",
              "Montant_global_echeancier", "Code_externe_stade", "Code_externe_action"),
             key="Siret", date="Date_creation", date_format="slash", amount="Montant_global_echeancier",
             name="Denomination_premiere_ligne"),
    FileSpec("ccsf", "sigfaible_ccsf.csv",
             ("Urssaf_gestion", "Dep", "Siret", "Compte", "Date_de_traitement", "Code_externe_stade",
              "Code_externe_action"),
             key="Siret", date="Date_de_traitement", date_format="urssaf"),
    FileSpec("proceedings", "sigfaible_pcoll.csv", ("Siret", "Siren", "Dt_effet", "Cat_v2", "Lib_actx_stdx"),
             key="Siret", date="Dt_effet", date_format="english"),
    FileSpec("headcount_establishment", "sigfaible_effectif_siret.csv", (), key="siret", name="rais_soc"),
    FileSpec("headcount_company", "sigfaible_effectif_siren.csv", (), key="siren", name="rais_soc"),
    FileSpec("ap_requests", "demande_ap.csv", _AP_REQUEST_HEADER, delimiter=",", encoding="utf-8",
             line_end="\r\n", quoted=frozenset({"ID_DA", "ETAB_SIRET", "DATE_STATUT", "DATE_DEB", "DATE_FIN",
                                                "MOTIF_RECOURS_SE", "PERIMETRE_AP", "RECOURS_ANTERIEUR"}),
             key="ETAB_SIRET", date="DATE_DEB", date_format="iso", amount="HTA"),
    FileSpec("ap_consumption", "consommation_ap.csv",
             ("ID_DA", "ETAB_SIRET", "HEURES", "MONTANTS", "EFFECTIFS", "MOIS"), delimiter=",", encoding="utf-8",
             quoted=frozenset({"ID_DA", "ETAB_SIRET", "MOIS"}),
             key="ETAB_SIRET", date="MOIS", date_format="iso", amount="HEURES"),
    FileSpec("sirene_establishments", "StockEtablissement_utf8_geo.csv", SIRENE_ESTABLISHMENT_HEADER,
             delimiter=",", encoding="utf-8", free_text=("libelleVoieEtablissement", "enseigne1Etablissement",
                                                         "geo_adresse", "geo_l4"),
             key="siret", date="dateCreationEtablissement", date_format="iso", name="enseigne1Etablissement"),
    FileSpec("sirene_legal_units", "StockUniteLegale_utf8.csv", SIRENE_LEGAL_UNIT_HEADER, delimiter=",",
             encoding="utf-8", free_text=("denominationUniteLegale", "nomUniteLegale"),
             key="siren", date="dateCreationUniteLegale", date_format="iso", name="denominationUniteLegale"),
    FileSpec("bdf_ratios", "bdf_ratios.csv",
             ("D1", "ANNEE", "ARRETE_BILAN", "DENOM", "CP", "REGION", "SECTEUR", "POIDS_FRNG", "TX_MARGE",
              "DELAI_FRS", "POIDS_DFISC_SOC", "POIDS_FIN_CT", "POIDS_FRAIS_FIN"),
             key="D1", date="ARRETE_BILAN", date_format="french", amount="TX_MARGE", name="DENOM"),
    FileSpec("paydex", "paydex.csv", ("SIREN", "NB_JOURS", "NB_JOURS_LIB", "DATE_VALEUR"),
             key="SIREN", date="DATE_VALEUR", date_format="slash", amount="NB_JOURS"),
)
SPEC_BY_SOURCE = {spec.source: spec for spec in SPECS}


@dataclass
class FileReport:
    """What was written to one file of a batch: data lines (header excluded), bytes, dirty rows by kind."""

    batch: str
    source: str
    file_name: str
    rows: int = 0
    bytes: int = 0
    dirty: dict[str, int] = field(default_factory=dict)


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class _OpenFile:
    def __init__(self, path: Path, spec: FileSpec, header: tuple[str, ...], report: FileReport):
        self.spec, self.header, self.report = spec, header, report
        self.handle = path.open("wb")
        names = [(_quote(h) if h in spec.quoted else h) for h in header]
        self._write(spec.delimiter.join(names) + spec.line_end)

    def _write(self, text: str, encoding: str | None = None) -> None:
        data = text.encode(encoding or self.spec.encoding)
        self.handle.write(data)
        self.report.bytes += len(data)

    def write_rows(self, columns: list[list[str]], dirty_rate: float, rng) -> None:
        """Append rows (columns in header order), spoiling about `dirty_rate` of them."""
        spec = self.spec
        if not columns or not columns[0]:
            return
        spoiled = dirty.spoil(columns, self.header, spec, dirty_rate, rng)
        rendered = [self._render(col, name) for col, name in zip(columns, self.header)]
        lines = list(map(spec.delimiter.join, zip(*rendered)))
        for row in spoiled:
            fields = [self._render([v], name)[0] for v, name in zip(row.fields, self.header)]
            lines[row.index] = spec.delimiter.join(fields[: row.keep])
            self.report.dirty[row.kind] = self.report.dirty.get(row.kind, 0) + 1
        duplicated = [row.index for row in spoiled if row.kind == "duplicate_row"]
        foreign = [row.index for row in spoiled if row.kind == "latin1_name"]
        for i in reversed(duplicated):
            lines.insert(i + 1, lines[i])
        # Lines after an inserted duplicate moved down by one.
        foreign = [i + sum(1 for d in duplicated if d < i) for i in foreign]
        self.report.rows += len(lines)
        self._write_lines(lines, foreign)

    def _write_lines(self, lines: list[str], foreign: list[int]) -> None:
        end = self.spec.line_end
        start = 0
        for i in sorted(foreign):
            if i > start:
                self._write(end.join(lines[start:i]) + end)
            # A name typed in Latin-1 inside a UTF-8 file: bytes that are not valid UTF-8.
            self._write(lines[i] + end, encoding="latin-1")
            start = i + 1
        if start < len(lines):
            self._write(end.join(lines[start:]) + end)

    def _render(self, column: list[str], name: str) -> list[str]:
        spec = self.spec
        if name in spec.quoted:
            return [_quote(v) for v in column]
        if name in spec.free_text:
            specials = (spec.delimiter, '"')
            return [_quote(v) if any(s in v for s in specials) else v for v in column]
        return column

    def close(self) -> None:
        """Close the file."""
        self.handle.close()


class BatchWriter:
    """Writes the files of one batch folder; every source gets its file, header-only when empty."""

    def __init__(self, folder: Path, batch: str, dirty_rate: float, seed: int, batch_index: int):
        self.folder, self.batch = folder, batch
        self.dirty_rate, self.seed, self.batch_index = dirty_rate, seed, batch_index
        folder.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, _OpenFile] = {}
        self.chunks = 0

    def append(self, source: str, columns: Columns) -> None:
        """Add rows (columns by name; for the wide headcount files their order is the header)."""
        spec = SPEC_BY_SOURCE[source]
        if not columns:
            return
        header = spec.header or tuple(columns)
        if source not in self.files:
            self._open(spec, header)
        opened = self.files[source]
        if opened.header != header:
            raise ValueError(f"{source}: columns {list(columns)} do not match the header {list(opened.header)}")
        self.chunks += 1
        rng = stream(self.seed, "dirty", self.batch_index, self.chunks)
        opened.write_rows([columns[name] for name in header], self.dirty_rate, rng)

    def _open(self, spec: FileSpec, header: tuple[str, ...]) -> None:
        report = FileReport(self.batch, spec.source, spec.file_name)
        self.files[spec.source] = _OpenFile(self.folder / spec.file_name, spec, header, report)

    def close(self) -> list[FileReport]:
        """Write the header of every file not yet written, close them, and report each file."""
        for spec in SPECS:
            if spec.source not in self.files and spec.header:
                self._open(spec, spec.header)
        reports = []
        for opened in self.files.values():
            opened.close()
            reports.append(opened.report)
        return reports
