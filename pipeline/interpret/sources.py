"""Every citation and every sourced number the interpretation engine uses, kept as data in one place.

Contract: a number used by ``change``, ``scores`` or ``findings`` is either defined here with its citation or
carries its citation where it is used. Figures marked [check] in /work/shared/clinical.md are NOT used unless
confirmed from a primary source cited here; analytes without a sourced within-subject biological variation
(CVI) get no RCV significance ("no sourced biological variation data"), never an invented CVI.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import label as label  # display names come from the knowledge base (names.py); kept importable

# --------------------------------------------------------------------------------------------------
# Citations (short strings renderers can print as-is).

FOKKEMA_2006 = (
    "Fokkema MR et al. Clin Chem 2006;52:1602-1603 (log-normal reference change value), via clinical.md §2"
)
FRASER_CVA = "Fraser CG, desirable analytical imprecision CVA <= 0.5 x CVI (default CVA), via clinical.md §2"
CAROBENE_2017 = (
    "Carobene A et al. Biological variation estimates obtained from 91 healthy study participants for "
    "9 enzymes in serum. Clin Chem 2017;63:1141-1150 (EuBIVAS)"
)
EUBIVAS_COLLATED = (
    "EuBIVAS biological variation papers as collated in clinical.md §2 (Carobene Clin Chem 2017 and "
    "CCLM 2022; Coskun CCLM 2020; Ricos 2020; Aarsand Clin Chem 2021)"
)
ZENGI_2023 = (
    "Zengi O, Uçar KT. Within- and between-subject biological variation of hemostasis parameters in "
    "26 healthy individuals. Turk J Biochem 2023 (doi:10.1515/tjb-2023-0155): PT CVI 3.2%"
)
JONES_2024 = "Jones GRD et al. Clin Chem 2024;70:1076 (regression to the mean in serial results)"
CLSI_EP33 = "CLSI EP33 (2023), delta checks: absolute, percent and per-time change"
STERLING_2006 = "Sterling RK et al. Hepatology 2006;43:1317 (FIB-4)"
MCPHERSON_2017 = "McPherson S et al. Am J Gastroenterol 2017;112:740 (FIB-4 age cut-offs: >=65 low 2.0; <=35)"
WAI_2003 = "Wai CT et al. Hepatology 2003;38:518 (APRI)"
OPTN_MELD = "UNOS/OPTN MELD and MELD-Na (Kamath 2001; Kim 2008), as given in clinical.md §3"
KIM_2021 = "Kim WR et al. Gastroenterology 2021;161:1887 (MELD 3.0)"
JOHNSON_2015 = "Johnson PJ et al. J Clin Oncol 2015;33:550 (ALBI grade)"
PUGH_1973 = (
    "Pugh RNH et al. Br J Surg 1973;60:646 (Child-Pugh points: bilirubin <2 / 2-3 / >3 mg/dL; albumin "
    ">3.5 / 2.8-3.5 / <2.8 g/dL); INR points <1.7 / 1.7-2.3 / >2.3 as tabulated in Cleve Clin J Med "
    "(Child-Pugh table, 'adapted from' Pugh). Some texts use 3.0 g/dL for the albumin cut-off"
)
FDA_2009_DILI = (
    "FDA Guidance for Industry: Drug-Induced Liver Injury, Premarketing Clinical Evaluation (2009)"
)
CTCAE_V5 = "NCI Common Terminology Criteria for Adverse Events (CTCAE) v5.0 (2017)"
ACG_2017 = (
    "Kwo PY et al. ACG Clinical Guideline: Evaluation of Abnormal Liver Chemistries. "
    "Am J Gastroenterol 2017;112:18"
)
BOTROS_2013 = "Botros M, Sikaris KA. The De Ritis ratio: the test of time. Clin Biochem Rev 2013;34:117"
WANG_2021 = (
    "Wang et al. Front Med 2021;8:762291 (hospitalised cohort: INR 1.6 cirrhosis / 1.7 advanced fibrosis "
    "inflection; HR per +0.1 INR 1.06 / 1.09; INR 2.1 ~ 15% 28-day mortality)"
)
EASL_2022_BLEEDING = (
    "EASL Clinical Practice Guidelines on prevention and management of bleeding and thrombosis in "
    "patients with cirrhosis (J Hepatol 2022), as cited by project seed 001"
)
SEED_000 = "Project seed 000: transaminases improving while INR rises (synthetic function), clinical.md §3"
SEED_002 = "Project seed 002: ALP rising while AST/ALT fall (cholestatic shift, ALP bands), clinical.md §3"
SEED_003 = "Project seed 003: reading an improving ALT trend (comparability, related tests, red flags)"
R_RATIO = "R ratio (ALT/ULN)/(ALP/ULN) and 'new R' with max(ALT, AST); clinical.md §3 (seed 002; ACG 2017)"
UNIT_CONVERSIONS = "clinical.md §4 conversions and /tmp/analytes_scope.md (project knowledge scope)"
NGSP_HBA1C = (
    "HbA1c IFCC-NGSP master equation NGSP % = 0.09148 x IFCC mmol/mol + 2.152: NGSP, IFCC Standardization "
    "of HbA1c (www.ngsp.org/ifcc.asp); Hoelzel W et al. Clin Chem 2004;50:166-174 (method comparison that "
    "established it)"
)
UNIT_DEFINITIONS = (
    "Unit definitions: 1 U = 1 umol/min, so 1 ukat/L = 60 U/L; 10*9/L = 10*3/uL; mEq/L = mmol/L"
)

# --------------------------------------------------------------------------------------------------
# Within-subject biological variation (CVI, %), healthy adults.


@dataclass(frozen=True, slots=True)
class BiologicalVariation:
    """A sourced within-subject CVI and whether the log-normal RCV is the better model for it."""

    cvi_pct: float
    lognormal: bool
    """Log-normal (asymmetric) RCV for skewed analytes: enzymes, triglycerides, CRP (clinical.md §2)."""
    source: str


CVI: dict[str, BiologicalVariation] = {
    "alt": BiologicalVariation(9.3, True, CAROBENE_2017),
    "ast": BiologicalVariation(9.5, True, CAROBENE_2017),
    "ggt": BiologicalVariation(8.9, True, CAROBENE_2017),
    "alp": BiologicalVariation(5.3, True, CAROBENE_2017),
    "ldh": BiologicalVariation(5.2, True, CAROBENE_2017),
    "albumin": BiologicalVariation(2.5, False, EUBIVAS_COLLATED),
    "creatinine": BiologicalVariation(4.4, False, EUBIVAS_COLLATED),
    "glucose": BiologicalVariation(4.7, False, EUBIVAS_COLLATED),
    "hba1c": BiologicalVariation(1.2, False, EUBIVAS_COLLATED),
    "cholesterol_total": BiologicalVariation(5.18, False, EUBIVAS_COLLATED),
    "ldl_calc": BiologicalVariation(8.46, False, EUBIVAS_COLLATED),
    "ldl_direct": BiologicalVariation(8.46, False, EUBIVAS_COLLATED),
    "hdl": BiologicalVariation(5.67, False, EUBIVAS_COLLATED),
    "triglycerides": BiologicalVariation(19.8, True, EUBIVAS_COLLATED),
    "crp": BiologicalVariation(29.4, True, EUBIVAS_COLLATED),
    "wbc": BiologicalVariation(10.0, False, EUBIVAS_COLLATED),
    "mcv": BiologicalVariation(0.75, False, EUBIVAS_COLLATED),
    "pt": BiologicalVariation(3.2, False, ZENGI_2023),
}
"""Not here on purpose (clinical.md marks them [check] and no primary source was confirmed): bilirubin,
sodium, potassium, urea, TSH, INR, platelets. They get no RCV significance."""

NO_CVI_NOTE = "no sourced biological variation data: change significance (RCV) not assessed"

# --------------------------------------------------------------------------------------------------
# Clinical thresholds with their sources (used by scores and findings).

INR_THRESHOLD_LOW = 1.6
INR_THRESHOLD_HIGH = 1.7
INR_HIGH_MORTALITY = 2.1
"""All three from WANG_2021."""

ACG_ALT_ULN: dict[str, tuple[float, float]] = {"male": (29.0, 33.0), "female": (19.0, 25.0)}
"""ACG 2017 healthy ALT upper limits, U/L (ACG_2017)."""

RELATED_WINDOW_DAYS = 180
"""Seed 000: advanced liver disease panels at least every 6 months; used as 'measured recently'."""

LIVER_PANEL: tuple[str, ...] = (
    "alt",
    "ast",
    "alp",
    "ggt",
    "bilirubin_total",
    "albumin",
    "inr",
    "platelets",
)
"""Tests read together with ALT (seed 003; clinical.md §1)."""
